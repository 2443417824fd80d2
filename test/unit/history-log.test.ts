import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryLog, type LogLine } from '../../nodes/runtime/history-log.js';

const root = mkdtempSync(join(tmpdir(), 'ivy-history-log-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('HistoryLog', () => {
  it('writes each line as JSON.stringify of the LogLine would, in the same key order', () => {
    const lines: LogLine[] = [
      { i: 1, op: 'write', page: 0, value: 'c0:1000001', start: 1_732_000_000_123_456 },
      { c: 1, value: 'c0:1000001', end: 1_732_000_000_223_456, outcome: 'ok', fault: true },
      { i: 2, op: 'read', page: 63, value: null, start: 5 },
      { c: 2, value: null, end: 6, outcome: 'fail', fault: false },
      { c: 3, value: 'a "quoted" \\ value\n', end: 7, outcome: 'unknown', fault: true },
      { c: 4, value: 'c1:2', end: 8, outcome: 'ok', fault: false, pos: 17 },
      { c: 5, value: 'c1:3', end: 9, outcome: 'ok', fault: true, pos: 0, wpos: 12 },
      { c: 6, value: 'c1:4', end: 10, outcome: 'ok', fault: true, wpos: 3 },
    ];
    const file = join(root, 'c0.1.jsonl');
    const log = new HistoryLog(file);
    for (const l of lines) log.line(l);
    log.close();
    expect(readFileSync(file, 'utf8')).toBe(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  });

  it('writes large and fractional numbers, escapes, non-ASCII and long values as JSON.stringify would', () => {
    const lines: LogLine[] = [
      { i: Number.MAX_SAFE_INTEGER, op: 'read', page: 0, value: null, start: 2 ** 53 + 2 },
      { c: 10, value: 'é ü 😀', end: 1e21, outcome: 'ok', fault: false, pos: -3, wpos: 1.5 },
      { c: 11, value: '\u0000\u001f\u007f tab\t', end: 7, outcome: 'unknown', fault: true },
      { i: 12, op: 'write', page: 4095, value: 'x'.repeat(10_000), start: 0 },
      { c: 12, value: `${'y'.repeat(5_000)}"`, end: 1, outcome: 'fail', fault: false },
    ];
    const file = join(root, 'c2.1.jsonl');
    const log = new HistoryLog(file);
    for (const l of lines) log.line(l);
    log.close();
    expect(readFileSync(file, 'utf8')).toBe(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  });

  it('has a completion on disk only with the next invoke or a flush, and an invoke at once', () => {
    const file = join(root, 'c1.1.jsonl');
    const log = new HistoryLog(file);
    log.invoke(1, 'read', 0, null, 10);
    expect(readFileSync(file, 'utf8')).toBe('{"i":1,"op":"read","page":0,"value":null,"start":10}\n');
    log.complete(1, 'c0:1', 20, 'ok', true);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(2);
    log.invoke(2, 'write', 1, 'c1:7', 30);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { i: 1, op: 'read', page: 0, value: null, start: 10 },
      { c: 1, value: 'c0:1', end: 20, outcome: 'ok', fault: true },
      { i: 2, op: 'write', page: 1, value: 'c1:7', start: 30 },
    ]);
    log.close();
  });
});
