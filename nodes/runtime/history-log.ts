// A client's own history log. The invoke line of an operation is written (write(2),
// so it survives a SIGKILL of this process) before the operation can have any
// effect; completions are batched into the next write. An operation whose completion
// never reached the file is therefore "unknown" after a crash, never missing.
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Invoke (`i`) and completion (`c`) lines. A completion may carry the op's place in
 * a total order (`pos`, and `wpos` on reads; write-update only, DESIGN §6) and the
 * outcome `unknown` (the client gave up without knowing whether a write took effect).
 */
export type LogLine =
  | { i: number; op: 'read' | 'write'; page: number; value: string | null; start: number }
  | { c: number; value: string | null; end: number; outcome: 'ok' | 'fail' | 'unknown'; fault: boolean; pos?: number; wpos?: number };

export class HistoryLog {
  private readonly fd: number;
  private pending = '';

  constructor(file: string) {
    this.fd = openSync(file, 'a');
  }

  invoke(line: Extract<LogLine, { i: number }>): void {
    const text = this.pending + JSON.stringify(line) + '\n';
    this.pending = '';
    writeSync(this.fd, text);
  }

  complete(line: Extract<LogLine, { c: number }>): void {
    this.pending += JSON.stringify(line) + '\n';
  }

  flush(): void {
    if (this.pending === '') return;
    writeSync(this.fd, this.pending);
    this.pending = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
