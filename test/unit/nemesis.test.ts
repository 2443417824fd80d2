// The network nemesis: the per-frame engine (deterministic under a seeded random
// source), the resolution of presets and groups into node ids, the CLI spec parser,
// and validation of rules at the control channel and the command boundary.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../nodes/core/random.js';
import { CommandSchema } from '../../nodes/control/api.js';
import {
  clientHalves,
  parseNemesisSpec,
  resolveNemesis,
  rulesPerNode,
  NemesisSpecSchema,
  type NemesisRoles,
} from '../../nodes/control/nemesis/spec.js';
import { ToNodeSchema } from '../../nodes/runtime/control.js';
import { NodeConfigSchema } from '../../nodes/runtime/config.js';
import { NemesisEngine, compileRules, type NodeLinkRule } from '../../nodes/runtime/nemesis.js';
import { NemesisRouter } from '../../nodes/runtime/nemesis-router.js';
import { ClusterService } from '../../nodes/control/service.js';

const rule = (r: Partial<NodeLinkRule> & { to: string[] }): NodeLinkRule => ({ partition: false, loss: 0, dup: 0, delayMs: 0, jitterMs: 0, ...r });

describe('NemesisEngine', () => {
  it('passes frames on links without rules untouched (null), and drops everything across a partition', () => {
    const e = new NemesisEngine('m0', [rule({ to: ['m1'], partition: true })], mulberry32(1));
    expect(e.decide('c0', 0)).toBeNull();
    expect(e.decide('m1', 0)).toEqual([]);
    expect(e.decide('m1', 1)).toEqual([]);
    expect(e.counters).toEqual({ partitioned: 2, lost: 0, duplicated: 0, delayed: 0 });
  });

  it('loses about the asked fraction, the same frames for the same seed', () => {
    const run = (seed: number): boolean[] => {
      const e = new NemesisEngine('c0', [rule({ to: ['m0'], loss: 0.05 })], mulberry32(seed));
      return Array.from({ length: 20_000 }, (_, i) => (e.decide('m0', i) ?? []).length === 0);
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    const lost = a.filter(Boolean).length / a.length;
    expect(lost).toBeGreaterThan(0.04);
    expect(lost).toBeLessThan(0.06);
  });

  it('duplicates: two copies, counted', () => {
    const e = new NemesisEngine('c0', [rule({ to: ['c1'], dup: 1 })], mulberry32(3));
    expect(e.decide('c1', 10)).toEqual([10, 10]);
    expect(e.counters.duplicated).toBe(1);
  });

  it('delays with jitter stay within delay ± jitter and never below 0', () => {
    const e = new NemesisEngine('c0', [rule({ to: ['m0'], delayMs: 3, jitterMs: 2 })], mulberry32(5));
    for (let i = 0; i < 2000; i++) {
      const [due] = e.decide('m0', 1000 + i)!;
      expect(due! - (1000 + i)).toBeGreaterThanOrEqual(1);
      expect(due! - (1000 + i)).toBeLessThanOrEqual(5);
    }
    const z = new NemesisEngine('c0', [rule({ to: ['m0'], delayMs: 1, jitterMs: 5 })], mulberry32(5));
    for (let i = 0; i < 500; i++) expect(z.decide('m0', 0)![0]).toBeGreaterThanOrEqual(0);
  });

  it('keeps a link FIFO without jitter, also after the rule is lifted while frames are held', () => {
    const e = new NemesisEngine('c0', [rule({ to: ['m0'], delayMs: 50 })], mulberry32(1));
    const dues = [e.decide('m0', 0)![0]!, e.decide('m0', 10)![0]!];
    e.setRules([rule({ to: ['m0'], delayMs: 5 })]); // a shorter delay must not overtake
    dues.push(e.decide('m0', 20)![0]!);
    e.setRules([]); // healed: still behind what is held
    dues.push(e.decide('m0', 30)![0]!);
    expect(dues).toEqual([50, 60, 60, 60]);
    expect(e.decide('m0', 61)).toBeNull(); // nothing held any more: the plain path
  });

  it('jitter may reorder frames on a link', () => {
    const e = new NemesisEngine('c0', [rule({ to: ['m0'], delayMs: 10, jitterMs: 9 })], mulberry32(11));
    const dues = Array.from({ length: 50 }, (_, i) => e.decide('m0', i * 0.1)![0]!);
    expect(dues.some((d, i) => i > 0 && d < dues[i - 1]!)).toBe(true);
  });

  it('combines rules on one link: partition wins, losses compound, delays add', () => {
    const m = compileRules([rule({ to: ['m0', 'c1'], loss: 0.5, delayMs: 2 }), rule({ to: ['m0'], loss: 0.5, delayMs: 3 }), rule({ to: ['c0'], partition: true })], 'c0');
    expect(m.get('m0')).toMatchObject({ loss: 0.75, delayMs: 5 });
    expect(m.get('c1')).toMatchObject({ loss: 0.5, delayMs: 2 });
    expect(m.has('c0')).toBe(false); // never a link to itself
  });
});

const roles = (clients = 4, backup = true): NemesisRoles => ({
  primary: 'm0',
  backup: backup ? 'm1' : null,
  managers: backup ? ['m0', 'm1'] : ['m0'],
  clients: Array.from({ length: clients }, (_, i) => `c${i}`),
});
const spec = (s: unknown) => NemesisSpecSchema.parse(s);

describe('presets and groups', () => {
  it('isolate-primary-backup cuts the serving primary from the backup, both ways', () => {
    const r = resolveNemesis(spec({ presets: ['isolate-primary-backup'] }), { ...roles(), primary: 'm1', backup: 'm0' });
    expect(r).toHaveLength(1);
    const per = rulesPerNode(r);
    expect(per.get('m1')).toEqual([expect.objectContaining({ to: ['m0'], partition: true })]);
    expect(per.get('m0')).toEqual([expect.objectContaining({ to: ['m1'], partition: true })]);
    expect(per.has('c0')).toBe(false);
  });

  it('isolate-primary cuts it from everyone; split-clients halves the clients', () => {
    const per = rulesPerNode(resolveNemesis(spec({ presets: ['isolate-primary', 'split-clients'] }), roles(5)));
    expect(per.get('m0')![0]!.to).toEqual(['m1', 'c0', 'c1', 'c2', 'c3', 'c4']);
    expect(per.get('c4')!.map((x) => x.to)).toEqual([['m0'], ['c0', 'c1', 'c2']]);
    expect(clientHalves(['c10', 'c2', 'c1'])).toEqual([['c1', 'c2'], ['c10']]);
  });

  it('lossy is one way on every ordered pair, slow-client both ways around c0', () => {
    const per = rulesPerNode(resolveNemesis(spec({ presets: ['lossy', 'slow-client'] }), roles(2)));
    expect(per.get('c1')).toEqual([
      expect.objectContaining({ to: ['m0', 'm1', 'c0'], loss: 0.05, delayMs: 3, jitterMs: 2 }),
      expect.objectContaining({ to: ['c0'], delayMs: 30, jitterMs: 10 }),
    ]);
  });

  it('answers names that fit no node with a clear error', () => {
    expect(() => resolveNemesis(spec({ presets: ['isolate-primary-backup'] }), roles(4, false))).toThrow(/no backup manager/);
    expect(() => resolveNemesis(spec({ presets: ['split-clients'] }), roles(1))).toThrow(/at least 2 clients/);
    expect(() => resolveNemesis(spec({ rules: [{ from: ['c9'], to: ['m0'], partition: true }] }), roles())).toThrow(/unknown node c9/);
    expect(() => resolveNemesis(spec({ rules: [{ from: ['others'], to: ['m0'], partition: true }] }), roles())).toThrow(/only be used in "to"/);
    expect(() => resolveNemesis(spec({ presets: ['isolate-primary'] }), { ...roles(), primary: null })).toThrow(/no manager is serving/);
  });
});

describe('validation of rules', () => {
  const bad: [string, unknown][] = [
    ['an unknown preset', { presets: ['isolate-everything'] }],
    ['a probability above 1', { rules: [{ from: ['c0'], to: ['m0'], loss: 1.5 }] }],
    ['a negative probability', { rules: [{ from: ['c0'], to: ['m0'], dup: -0.1 }] }],
    ['a negative delay', { rules: [{ from: ['c0'], to: ['m0'], delayMs: -5 }] }],
    ['a delay above a minute', { rules: [{ from: ['c0'], to: ['m0'], delayMs: 1e9 }] }],
    ['a rule without effect', { rules: [{ from: ['c0'], to: ['m0'] }] }],
    ['a bad node name', { rules: [{ from: ['x0'], to: ['m0'], partition: true }] }],
    ['no link ends', { rules: [{ from: [], to: ['m0'], partition: true }] }],
    ['NaN', { rules: [{ from: ['c0'], to: ['m0'], loss: Number.NaN }] }],
    ['a string probability', { rules: [{ from: ['c0'], to: ['m0'], loss: '0.5' }] }],
  ];
  it.each(bad)('the command boundary refuses %s', (_what, s) => {
    expect(CommandSchema.safeParse({ cmd: 'setNemesis', spec: s }).success).toBe(false);
  });

  it('names what is wrong', () => {
    const r = CommandSchema.safeParse({ cmd: 'setNemesis', spec: { presets: ['nope'] } });
    expect(r.success ? '' : r.error.issues[0]!.message).toMatch(/unknown nemesis preset "nope": expected one of isolate-primary-backup/);
    const d = CommandSchema.safeParse({ cmd: 'setNemesis', spec: { rules: [{ from: ['c0'], to: ['m0'], delayMs: -1 }] } });
    expect(d.success ? '' : d.error.issues[0]!.message).toMatch(/cannot be negative/);
  });

  it('the control channel accepts a rule set and refuses a bad one, both at runtime and in a node config', () => {
    const ok = { type: 'nemesis', rules: [rule({ to: ['m1'], partition: true })], seed: 1 };
    expect(ToNodeSchema.safeParse(ok).success).toBe(true);
    expect(ToNodeSchema.safeParse({ ...ok, rules: [rule({ to: ['m1'], loss: 2 })] }).success).toBe(false);
    expect(ToNodeSchema.safeParse({ ...ok, rules: [{ to: ['bogus'] }] }).success).toBe(false);
    expect(ToNodeSchema.safeParse({ type: 'nemesis', rules: [] }).success).toBe(false); // no seed
    const cfg = { role: 'client', id: 'c0', endpoint: 'tcp://127.0.0.1:7010', pages: 3, pageSize: 4096, managers: [{ id: 'm0', endpoint: 'tcp://127.0.0.1:7000' }] };
    expect(NodeConfigSchema.safeParse({ ...cfg, nemesis: { rules: ok.rules, seed: 3 } }).success).toBe(true);
    expect(NodeConfigSchema.safeParse({ ...cfg, nemesis: { rules: [rule({ to: ['m0'], delayMs: -1 })], seed: 3 } }).success).toBe(false);
  });

  it('fuzz: random junk never passes as a nemesis command unless it is a valid spec', () => {
    const rng = mulberry32(99);
    const junk = (depth: number): unknown => {
      const k = Math.floor(rng() * 8);
      if (depth > 3 || k < 2) return [null, true, -1, 0.5, 2, 'primary', 'c0', 'lossy', '', Number.MAX_VALUE][Math.floor(rng() * 10)];
      if (k < 4) return Array.from({ length: Math.floor(rng() * 3) }, () => junk(depth + 1));
      const keys = ['presets', 'rules', 'from', 'to', 'loss', 'dup', 'delayMs', 'jitterMs', 'partition', 'symmetric'];
      return Object.fromEntries(Array.from({ length: Math.floor(rng() * 4) }, () => [keys[Math.floor(rng() * keys.length)]!, junk(depth + 1)]));
    };
    for (let i = 0; i < 3000; i++) {
      const s = junk(0);
      const r = CommandSchema.safeParse({ cmd: 'setNemesis', spec: s });
      if (!r.success) continue;
      const parsed = r.data as Extract<typeof r.data, { cmd: 'setNemesis' }>;
      for (const x of parsed.spec.rules) {
        expect(x.loss).toBeGreaterThanOrEqual(0);
        expect(x.loss).toBeLessThanOrEqual(1);
        expect(x.delayMs).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe('the CLI spec', () => {
  it('reads presets and link rules, comma-separated', () => {
    expect(parseNemesisSpec('lossy,slow-client')).toEqual({ presets: ['lossy', 'slow-client'], rules: [] });
    const s = parseNemesisSpec('primary<>backup+half-a:partition,c0>m0:delay=20:jitter=5:loss=0.1:dup=0.01');
    expect(s.rules).toEqual([
      { from: ['primary'], to: ['backup', 'half-a'], symmetric: true, partition: true, loss: 0, dup: 0, delayMs: 0, jitterMs: 0 },
      { from: ['c0'], to: ['m0'], symmetric: false, partition: false, loss: 0.1, dup: 0.01, delayMs: 20, jitterMs: 5 },
    ]);
  });

  it('refuses what it cannot read, saying why', () => {
    expect(() => parseNemesisSpec('isolate-primary,')).toThrow(/comma-separated/);
    expect(() => parseNemesisSpec('partition-all')).toThrow(/unknown nemesis preset "partition-all"/);
    expect(() => parseNemesisSpec('lossy,lossy')).toThrow(/twice/);
    expect(() => parseNemesisSpec('c0>m0:loss=2')).toThrow(/\[0, 1\]/);
    expect(() => parseNemesisSpec('c0>m0:delay=-3')).toThrow(/negative/);
    expect(() => parseNemesisSpec('c0>m0:speed=3')).toThrow(/unknown option "speed"/);
    expect(() => parseNemesisSpec('c0>m0:loss=abc')).toThrow(/needs a number/);
    expect(() => parseNemesisSpec('c0>m0')).toThrow(/must do something/);
  });
});

describe('NemesisRouter (the shell half: held copies and their timers)', () => {
  const frame = (n: number): Buffer => Buffer.from([n]);
  const sent = (): { log: number[]; out: (e: string, f: Buffer) => void } => {
    const log: number[] = [];
    return { log, out: (_e, f) => void log.push(f[0]!) };
  };

  it('sends untouched frames at once, drops partitioned ones, and releases delayed ones in order', async () => {
    const { log, out } = sent();
    let idle = 0;
    const r = new NemesisRouter('c0', { rules: [rule({ to: ['m0'], delayMs: 30 }), rule({ to: ['m1'], partition: true })], seed: 1 }, out, () => void idle++);
    r.route('c1', 'tcp://c1', frame(1), undefined);
    r.route('m1', 'tcp://m1', frame(2), undefined);
    for (let i = 3; i <= 6; i++) r.route('m0', 'tcp://m0', frame(i), undefined);
    expect(log).toEqual([1]);
    await new Promise((ok) => setTimeout(ok, 80));
    expect(log).toEqual([1, 3, 4, 5, 6]);
    expect(r.engine.counters).toMatchObject({ partitioned: 1, delayed: 4 });
    // Healed with nothing held: idle, the shell goes back to its plain path.
    r.set({ rules: [], seed: 1 });
    expect(r.idle).toBe(true);
    expect(idle).toBeGreaterThan(0);
    r.close();
  });

  it('a heal while frames are held: later frames on that link wait behind them; close drops what is held', async () => {
    const { log, out } = sent();
    const r = new NemesisRouter('c0', { rules: [rule({ to: ['m0'], delayMs: 40 })], seed: 1 }, out, () => undefined);
    r.route('m0', 'tcp://m0', frame(1), undefined);
    r.set({ rules: [], seed: 2 });
    expect(r.idle).toBe(false);
    r.route('m0', 'tcp://m0', frame(2), undefined);
    r.route('c1', 'tcp://c1', frame(3), undefined); // another link: not held up
    expect(log).toEqual([3]);
    await new Promise((ok) => setTimeout(ok, 90));
    expect(log).toEqual([3, 1, 2]);
    expect(r.idle).toBe(true);
    r.route('m0', 'tcp://m0', frame(4), undefined);
    const r2 = new NemesisRouter('c0', { rules: [rule({ to: ['m0'], delayMs: 20 })], seed: 1 }, out, () => undefined);
    r2.route('m0', 'tcp://m0', frame(5), undefined);
    r2.close();
    await new Promise((ok) => setTimeout(ok, 50));
    expect(log).toEqual([3, 1, 2, 4]);
  });
});

describe('ClusterService nemesis commands (no cluster)', () => {
  it('answers a valid spec without a cluster, and a bad one, with clear errors; the snapshot shows no rules', async () => {
    const service = new ClusterService();
    expect(await service.handle({ cmd: 'setNemesis', spec: { presets: ['lossy'] } })).toEqual({ ok: false, error: 'no cluster is running' });
    expect(await service.handle({ cmd: 'healAll' })).toEqual({ ok: false, error: 'no cluster is running' });
    const bad = await service.handle({ cmd: 'setNemesis', spec: { rules: [{ from: ['c0'], to: ['m0'], loss: 3 }] } });
    expect(bad).toEqual({ ok: false, error: 'invalid command: spec.rules.0.loss: a probability must be in [0, 1]' });
    expect(service.snapshot().nemesis).toEqual({ spec: null, rules: [], since: null, windows: [] });
    await service.close();
  });
});
