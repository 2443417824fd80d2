// Streams trace records to a JSON Lines file as they arrive: the supervisor never holds the
// trace in memory. Lines are gathered for up to WRITE_MS (or WRITE_BYTES) and written in one
// go: a file write per node batch (a dozen nodes, each shipping every 50 ms then) cost the
// supervisor more CPU than the rest of its trace handling, on the cores the faults run on.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { traceLine, type TraceRecord } from './record.js';

const WRITE_MS = 250;
const WRITE_BYTES = 1 << 20;

export class TraceWriter {
  private readonly stream: WriteStream;
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  records = 0;

  constructor(readonly file: string) {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'w' });
    this.stream.on('error', (err) => (this.failure ??= err));
  }

  write(records: readonly TraceRecord[]): void {
    if (this.failure || records.length === 0) return;
    let chunk = this.pending;
    for (const r of records) chunk += traceLine(r);
    this.records += records.length;
    this.pending = chunk;
    if (chunk.length >= WRITE_BYTES) this.writePending();
    else this.timer ??= setTimeout(() => this.writePending(), WRITE_MS); // not unref: a pending chunk keeps the process until written
  }

  private writePending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === '' || this.failure || this.stream.closed || this.stream.writableEnded) return;
    this.stream.write(this.pending);
    this.pending = '';
  }

  /** Resolves once everything written so far is in the file. */
  flush(): Promise<void> {
    this.writePending();
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
    this.writePending();
    return new Promise((done, fail) => {
      this.stream.end(() => (this.failure ? fail(this.failure) : done(this.records)));
    });
  }
}
