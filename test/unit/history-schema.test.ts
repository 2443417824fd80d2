import { describe, it, expect } from 'vitest';
import { formatHistoryLine, HistoryParseError, parseHistory, type HistoryOp } from '../../nodes/control/history/schema.js';

const good: HistoryOp = {
  client: 'c3',
  op: 'write',
  page: 2,
  value: 'c3:17',
  start: 123456789012,
  end: 123456791234,
  outcome: 'ok',
  fault: true,
};

function line(patch: Record<string, unknown>, omit: string[] = []): string {
  const o: Record<string, unknown> = { ...good, ...patch };
  for (const k of omit) delete o[k];
  return JSON.stringify(o);
}

function parseError(text: string): HistoryParseError {
  try {
    parseHistory(text);
  } catch (err) {
    if (err instanceof HistoryParseError) return err;
    throw err;
  }
  throw new Error('expected a HistoryParseError');
}

describe('parseHistory', () => {
  it('parses the DESIGN example line', () => {
    const text = '{"client":"c3","op":"write","page":2,"value":"c3:17","start":123456789012,"end":123456791234,"outcome":"ok","fault":true}';
    expect(parseHistory(text).ops).toEqual([good]);
  });

  it('round-trips formatHistoryLine with the contract field order', () => {
    const read: HistoryOp = { ...good, op: 'read', value: null, outcome: 'unknown', end: null, fault: false };
    const text = [good, read].map(formatHistoryLine).join('\n');
    expect(text.split('\n')[0]).toBe(line({}));
    expect(Object.keys(JSON.parse(text.split('\n')[1] ?? '') as object)).toEqual(['client', 'op', 'page', 'value', 'start', 'end', 'outcome', 'fault']);
    expect(parseHistory(text).ops).toEqual([good, read]);
  });

  it('skips blank lines and accepts CRLF and a trailing newline', () => {
    const text = `\n${line({})}\r\n   \r\n${line({ value: 'c3:18' })}\n`;
    expect(parseHistory(text).ops).toHaveLength(2);
    expect(parseHistory('').ops).toEqual([]);
  });

  it('accepts hrtime values beyond 2^53', () => {
    const big = 2 ** 60;
    expect(parseHistory(line({ start: big, end: big + 4096 })).ops[0]?.start).toBe(big);
  });

  it('accepts unknown outcomes with a null end, and reads of null', () => {
    const ops = parseHistory([line({ outcome: 'unknown', end: null }), line({ op: 'read', value: null })].join('\n')).ops;
    expect(ops.map((o) => o.end)).toEqual([null, good.end]);
  });

  it('names the line and the problem for bad JSON', () => {
    const err = parseError(`${line({})}\n{"client": "c1",`);
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/^line 2: invalid JSON/);
  });

  it('reports a missing field by name', () => {
    const err = parseError(`${line({})}\n\n${line({ value: 'x:1' }, ['page'])}`);
    expect(err.line).toBe(3);
    expect(err.message).toContain('missing field "page"');
  });

  it.each([
    [{ page: '2' }, 'field "page"'],
    [{ page: -1 }, 'field "page"'],
    [{ page: 1.5 }, 'field "page"'],
    [{ start: 1.5 }, 'field "start"'],
    [{ op: 'cas' }, 'field "op"'],
    [{ outcome: 'maybe' }, 'field "outcome"'],
    [{ fault: 'yes' }, 'field "fault"'],
    [{ client: '' }, 'field "client"'],
    [{ value: 7 }, 'field "value"'],
  ])('rejects a wrong type %j', (patch, expected) => {
    expect(parseError(line(patch)).message).toContain(expected);
  });

  it('rejects end before start', () => {
    const err = parseError(line({ start: 100, end: 99 }));
    expect(err.message).toContain('field "end"');
    expect(err.message).toContain('before start');
  });

  it('rejects a null end unless the outcome is unknown', () => {
    expect(parseError(line({ end: null })).message).toContain('only be null for outcome "unknown"');
    expect(parseError(line({ end: null, outcome: 'fail' })).message).toContain('"fail"');
  });

  it('rejects a write of null', () => {
    expect(parseError(line({ value: null })).message).toContain('a write must carry the token');
  });

  it('rejects a line that is not an object', () => {
    expect(parseError('[1,2,3]').message).toMatch(/^line 1: .*expected object/);
  });

  it('rejects a write token used twice, naming both lines', () => {
    const err = parseError([line({}), line({ op: 'read' }), line({ outcome: 'fail' })].join('\n'));
    expect(err.line).toBe(3);
    expect(err.message).toContain('already written on line 1');
  });

  it('accepts pos on writes and pos + wpos on reads, and writes them after the contract fields', () => {
    const ops = parseHistory([line({ pos: 1 }), line({ op: 'read', pos: 1, wpos: 1 }), line({ op: 'read', value: null, pos: 0, wpos: 0 })].join('\n')).ops;
    expect(ops.map((o) => [o.pos, o.wpos])).toEqual([[1, undefined], [1, 1], [0, 0]]);
    expect(formatHistoryLine(ops[1]!)).toBe(line({ op: 'read', pos: 1, wpos: 1 }));
    expect(formatHistoryLine(good)).not.toContain('pos');
  });

  it.each([
    [{ pos: 0 }, 'field "pos": a write\'s position is 1-based'],
    [{ pos: -1 }, 'field "pos"'],
    [{ pos: 1.5 }, 'field "pos"'],
    [{ pos: '1' }, 'field "pos"'],
    [{ pos: 1, wpos: 1 }, 'field "wpos": only a read has a wpos'],
    [{ pos: 2, outcome: 'fail' }, 'field "pos": only an ok operation has a position, not outcome "fail"'],
    [{ pos: 2, outcome: 'unknown', end: null }, 'not outcome "unknown"'],
    [{ op: 'read', pos: 2 }, 'field "wpos": a read with pos must also carry wpos'],
    [{ op: 'read', wpos: 2 }, 'field "pos": a read with wpos must also carry pos'],
    [{ op: 'read', pos: 2, wpos: -1 }, 'field "wpos"'],
  ])('rejects a bad position %j', (patch, expected) => {
    expect(parseError(line(patch)).message).toContain(expected);
  });
});
