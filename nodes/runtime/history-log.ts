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

  /**
   * Lines are put together by hand, not by JSON.stringify of an object: two per op on the hot path. The text
   * is the same as JSON.stringify of the LogLine (keys in its order; test/unit/history-log.test.ts).
   */
  invoke(i: number, op: 'read' | 'write', page: number, value: string | null, start: number): void {
    const text = `${this.pending}{"i":${i},"op":"${op}","page":${page},"value":${json(value)},"start":${start}}\n`;
    this.pending = '';
    writeSync(this.fd, text);
  }

  complete(c: number, value: string | null, end: number, outcome: 'ok' | 'fail' | 'unknown', fault: boolean, pos?: number, wpos?: number): void {
    const order = (pos === undefined ? '' : `,"pos":${pos}`) + (wpos === undefined ? '' : `,"wpos":${wpos}`);
    this.pending += `{"c":${c},"value":${json(value)},"end":${end},"outcome":"${outcome}","fault":${fault}${order}}\n`;
  }

  /** Writes a LogLine as it is. */
  line(l: LogLine): void {
    if ('i' in l) this.invoke(l.i, l.op, l.page, l.value, l.start);
    else this.complete(l.c, l.value, l.end, l.outcome, l.fault, l.pos, l.wpos);
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

const json = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
