import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeClientLogs, writeHistory } from '../../nodes/control/history/merge.js';
import { parseHistory } from '../../nodes/control/history/schema.js';
import { HistoryLog, type LogLine } from '../../nodes/runtime/history-log.js';

const root = mkdtempSync(join(tmpdir(), 'ivy-merge-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Writes per-client logs through the real HistoryLog, as a client process does. */
function logs(files: Record<string, LogLine[]>): string {
  const dir = join(root, `run${n++}`);
  mkdirSync(dir);
  for (const [name, lines] of Object.entries(files)) {
    const log = new HistoryLog(join(dir, name));
    for (const l of lines) log.line(l);
    log.close();
  }
  return dir;
}

describe('mergeClientLogs', () => {
  it('keeps IVY lines as they were: no pos, ok/fail, and unknown for a missing completion', () => {
    const dir = logs({
      'c0.1.jsonl': [
        { i: 1, op: 'write', page: 0, value: 'c0:1', start: 10 },
        { c: 1, value: 'c0:1', end: 20, outcome: 'ok', fault: true },
        { i: 2, op: 'read', page: 0, value: null, start: 30 },
      ],
      'c1.1.jsonl': [
        { i: 1, op: 'read', page: 0, value: null, start: 15 },
        { c: 1, value: 'c0:1', end: 25, outcome: 'fail', fault: true },
      ],
    });
    expect(mergeClientLogs(dir)).toEqual([
      { client: 'c0', op: 'write', page: 0, value: 'c0:1', start: 10, end: 20, outcome: 'ok', fault: true },
      { client: 'c1', op: 'read', page: 0, value: 'c0:1', start: 15, end: 25, outcome: 'fail', fault: true },
      { client: 'c0', op: 'read', page: 0, value: null, start: 30, end: null, outcome: 'unknown', fault: true },
    ]);
  });

  it('carries pos and wpos of write-update completions, and an explicit unknown outcome', () => {
    const dir = logs({
      'c0.1.jsonl': [
        { i: 1, op: 'write', page: 1, value: 'c0:1', start: 10 },
        { c: 1, value: 'c0:1', end: 20, outcome: 'ok', fault: false, pos: 1 },
        { i: 2, op: 'read', page: 1, value: null, start: 30 },
        { c: 2, value: 'c0:1', end: 31, outcome: 'ok', fault: false, pos: 2, wpos: 1 },
        { i: 3, op: 'write', page: 1, value: 'c0:2', start: 40 },
        { c: 3, value: 'c0:2', end: 50, outcome: 'unknown', fault: false },
      ],
    });
    const ops = mergeClientLogs(dir);
    expect(ops).toEqual([
      { client: 'c0', op: 'write', page: 1, value: 'c0:1', start: 10, end: 20, outcome: 'ok', fault: false, pos: 1 },
      { client: 'c0', op: 'read', page: 1, value: 'c0:1', start: 30, end: 31, outcome: 'ok', fault: false, pos: 2, wpos: 1 },
      { client: 'c0', op: 'write', page: 1, value: 'c0:2', start: 40, end: 50, outcome: 'unknown', fault: false },
    ]);
    // The history file written from it parses back to the same ops (pos/wpos after the contract's fields).
    const file = join(dir, 'history.jsonl');
    writeHistory(file, ops);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[1]).toBe('{"client":"c0","op":"read","page":1,"value":"c0:1","start":30,"end":31,"outcome":"ok","fault":false,"pos":2,"wpos":1}');
    expect(parseHistory(text).ops).toEqual(ops);
  });

  it('drops positions a history could not hold (on a failed op, a write at 0, a read without wpos)', () => {
    const dir = join(root, `run${n++}`);
    mkdirSync(dir);
    const lines = [
      { i: 1, op: 'write', page: 0, value: 'c2:1', start: 1 },
      { c: 1, value: 'c2:1', end: 2, outcome: 'fail', fault: false, pos: 3 },
      { i: 2, op: 'write', page: 0, value: 'c2:2', start: 3 },
      { c: 2, value: 'c2:2', end: 4, outcome: 'ok', fault: false, pos: 0 },
      { i: 3, op: 'read', page: 0, value: null, start: 5 },
      { c: 3, value: null, end: 6, outcome: 'ok', fault: false, pos: 4 },
    ];
    writeFileSync(join(dir, 'c2.1.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join('') + '{"c":4,"val');
    const ops = mergeClientLogs(dir);
    expect(ops.map((o) => [o.outcome, o.pos, o.wpos])).toEqual([
      ['fail', undefined, undefined],
      ['ok', undefined, undefined],
      ['ok', undefined, undefined],
    ]);
    expect(ops.every((o) => !('pos' in o))).toBe(true);
  });
});
