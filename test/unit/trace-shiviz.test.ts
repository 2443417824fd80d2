import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../nodes/control/trace/record.js';
import { convertTraceToShiviz, SHIVIZ_PARSER, shivizEvent } from '../../nodes/control/trace/shiviz.js';
import { parseShiviz } from './shiviz-check.js';

const dir = join('test-results', 'trace-shiviz');
mkdirSync(dir, { recursive: true });

const rec = (node: string, dir: 'send' | 'recv', peer: string, type: string, vc: Record<string, number>, extra: Partial<TraceRecord> = {}): TraceRecord => ({
  node,
  dir,
  peer,
  t: 1000 + Object.values(vc).reduce((a, b) => a + b, 0),
  type,
  epoch: 1,
  vc,
  ...extra,
});

const writeTrace = (name: string, lines: (TraceRecord | string)[]): string => {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
};

describe('trace --shiviz', () => {
  it('stays valid with nemesis notes: a dropped send is a local event of its sender, a duplicate two receives, a refusal noted', async () => {
    const file = writeTrace('nemesis.jsonl', [
      rec('m0', 'send', 'm1', 'hb', { m0: 1 }, { frame: 'm0:1', nemesis: 'drop', rule: 'm0>m1:partition' }),
      rec('m0', 'send', 'c0', 'grant', { m0: 2 }, { page: 1, req: 3, frame: 'm0:2', nemesis: 'dup', rule: 'm0>c0:dup=1' }),
      rec('c0', 'recv', 'm0', 'grant', { c0: 1, m0: 2 }, { page: 1, req: 3, frame: 'm0:2' }),
      rec('c0', 'recv', 'm0', 'grant', { c0: 2, m0: 2 }, { page: 1, req: 3, frame: 'm0:2', refused: 'req 3 answered already' }),
      rec('m1', 'send', 'c0', 'takeover', { m1: 1 }, { epoch: 2, frame: 'm1:1' }),
      rec('c0', 'recv', 'm1', 'takeover', { c0: 3, m0: 2, m1: 1 }, { epoch: 2, frame: 'm1:1' }),
      rec('m0', 'send', 'c0', 'inval', { m0: 3 }, { page: 1, frame: 'm0:3' }),
      rec('c0', 'recv', 'm0', 'inval', { c0: 4, m0: 3, m1: 1 }, { page: 1, frame: 'm0:3', refused: 'stale epoch 1 < 2' }),
    ]);
    const out = join(dir, 'nemesis.shiviz');
    expect(await convertTraceToShiviz(file, out)).toEqual({ ok: true, events: 8, runs: 1 });
    const events = parseShiviz(readFileSync(out, 'utf8')).get('')!;
    expect(events).toHaveLength(8);
    expect(events[0]).toMatchObject({ host: 'm0', clock: { m0: 1 } });
    expect(events[0]!.event).toContain('nemesis=drop rule=m0>m1:partition');
    // No event of m1 knows m0's dropped heartbeat (m0:1): nothing merged it.
    expect(events.filter((e) => e.host === 'm1').every((e) => e.clock.m0 === undefined)).toBe(true);
    expect(events[7]!.event).toContain('refused="stale epoch 1 < 2"');
  });

  it('writes a log ShiViz parses, renumbering gaps and keeping happened-before', async () => {
    // c0's counts start at 300 (a restarted node), m0 lost its event 2 (never shipped): gaps both.
    const file = writeTrace('gaps.jsonl', [
      rec('c0', 'send', 'm0', 'read_req', { c0: 300 }, { page: 2, req: 17, frame: 'c0:300' }),
      rec('m0', 'recv', 'c0', 'read_req', { c0: 300, m0: 1 }, { page: 2, req: 17, frame: 'c0:300' }),
      rec('m0', 'send', 'c0', 'grant', { c0: 300, m0: 3 }, { page: 2, req: 17, frame: 'm0:3' }),
      rec('c0', 'recv', 'm0', 'grant', { c0: 301, m0: 3 }, { page: 2, req: 17, frame: 'm0:3' }),
      rec('c1', 'send', 'm0', 'hb', { c1: 1, m0: 2 }, { frame: 'c1:1' }), // knows m0:2, which is not in the trace
    ]);
    const out = join(dir, 'gaps.shiviz');
    const r = await convertTraceToShiviz(file, out);
    expect(r).toEqual({ ok: true, events: 5, runs: 1 });
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toBe(SHIVIZ_PARSER);
    expect(text.split('\n')[1]).toBe('');
    const events = parseShiviz(text).get('')!;
    expect(events.map((e) => [e.host, e.clock])).toEqual([
      ['c0', { c0: 1 }],
      ['m0', { c0: 1, m0: 1 }],
      ['m0', { c0: 1, m0: 2 }],
      ['c0', { c0: 2, m0: 2 }],
      ['c1', { c1: 1, m0: 1 }], // m0:2 (lost) becomes m0's latest event before it that is there
    ]);
    expect(events[0]!.event).toBe('send read_req to m0 page=2 req=17 epoch=1 frame=c0:300 t=1300');
  });

  it('puts each run of a scenario trace in its own execution', async () => {
    const file = writeTrace('runs.jsonl', [
      rec('c0', 'send', 'm0', 'hb', { c0: 1 }, { run: 's1/ivy' }),
      rec('m0', 'recv', 'c0', 'hb', { c0: 1, m0: 1 }, { run: 's1/ivy' }),
      rec('c0', 'send', 'm0', 'hb', { c0: 1 }, { run: 's2/ivy' }),
    ]);
    const out = join(dir, 'runs.shiviz');
    expect(await convertTraceToShiviz(file, out)).toEqual({ ok: true, events: 3, runs: 2 });
    const execs = parseShiviz(readFileSync(out, 'utf8'));
    expect([...execs.keys()]).toEqual(['s1/ivy', 's2/ivy']);
    expect(execs.get('s1/ivy')).toHaveLength(2);
    expect(execs.get('s2/ivy')).toHaveLength(1);
  });

  it('reports bad lines with their line numbers and writes nothing', async () => {
    const file = writeTrace('bad.jsonl', [
      rec('c0', 'send', 'm0', 'hb', { c0: 1 }),
      'not json',
      '',
      JSON.stringify({ ...rec('c0', 'send', 'm0', 'hb', { c0: 2 }), dir: 'sideways' }),
      JSON.stringify(rec('c0', 'send', 'x9', 'hb', { c0: 3 })),
      JSON.stringify(rec('c0', 'send', 'm0', 'hb', { m0: 3 })),
    ]);
    const out = join(dir, 'bad.shiviz');
    const r = await convertTraceToShiviz(file, out);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('4 bad lines');
    expect(r.error).toMatch(/bad\.jsonl:2: not JSON/);
    expect(r.error).toMatch(/bad\.jsonl:4: dir:/);
    expect(r.error).toMatch(/bad\.jsonl:5: peer:/);
    expect(r.error).toMatch(/bad\.jsonl:6: vc: the clock has no entry for the event's own node c0/);
  });

  it('rejects two events of one node with the same count (no vector clock makes that)', async () => {
    const file = writeTrace('dup.jsonl', [rec('c0', 'send', 'm0', 'hb', { c0: 1 }), rec('c0', 'send', 'm0', 'hb', { c0: 1 })]);
    const r = await convertTraceToShiviz(file, join(dir, 'dup.shiviz'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/dup\.jsonl:2: c0 has two events with clock 1 \(the other on line 1\)/);
  });

  it('an empty trace is an error, not an empty log', async () => {
    const r = await convertTraceToShiviz(writeTrace('empty.jsonl', []), join(dir, 'empty.shiviz'));
    expect(r).toEqual({ ok: false, error: expect.stringContaining('no trace records') });
  });

  it('event text never has a brace (the parser ends the clock at the first one)', () => {
    expect(shivizEvent(rec('c0', 'recv', 'm0', 'i_{msg}', { c0: 1 }))).not.toMatch(/[{}]/);
  });
});
