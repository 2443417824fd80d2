// Streams trace records to a JSON Lines file as they arrive (one write per node batch):
// the supervisor never holds the trace in memory.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { traceLine, type TraceRecord } from './record.js';

export class TraceWriter {
  private readonly stream: WriteStream;
  private failure: Error | null = null;
  records = 0;

  constructor(readonly file: string) {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'w' });
    this.stream.on('error', (err) => (this.failure ??= err));
  }

  write(records: readonly TraceRecord[]): void {
    if (this.failure || records.length === 0) return;
    let chunk = '';
    for (const r of records) chunk += traceLine(r);
    this.records += records.length;
    this.stream.write(chunk);
  }

  /** Resolves once everything written so far is in the file. */
  flush(): Promise<void> {
    return new Promise((done) => {
      if (this.failure || this.stream.closed) done();
      else this.stream.write('', () => done());
    });
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Flushes and closes; rejects with the first write error, if any. */
  close(): Promise<number> {
    return new Promise((done, fail) => {
      this.stream.end(() => (this.failure ? fail(this.failure) : done(this.records)));
    });
  }
}
