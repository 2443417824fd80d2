// The protocol flags and the protocol-aware pieces of a scenario run that need no
// process: which ops a round issues and measures, the run order of (scenario,
// protocol) pairs, and the side-by-side comparison text.
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ScenarioRequestSchema, ClusterConfigSchema } from '../../nodes/control/api.js';
import { clientMemoryList, oneProtocol, protocolList } from '../../nodes/control/commands/options.js';
import { resolveScenarios } from '../../nodes/control/scenarios/definitions.js';
import { isProtocolOp, recoveryMs, sustainedSummary } from '../../nodes/control/scenarios/figures.js';
import { faultSamples, isMeasured, roundPlan, runRound, type RoundDriver, type RoundOp } from '../../nodes/control/scenarios/rounds.js';
import { runPlan } from '../../nodes/control/scenarios/runner.js';
import type { HistoryOp } from '../../nodes/control/history/schema.js';
import { mulberry32 } from '../../nodes/core/random.js';

describe('--protocol flag values', () => {
  it('accepts ivy and isis for one cluster, case-insensitively', () => {
    expect(oneProtocol('ivy')).toBe('ivy');
    expect(oneProtocol(' ISIS ')).toBe('isis');
  });

  it('rejects unknown names and lists where one protocol is meant, naming what is allowed', () => {
    expect(() => oneProtocol('treadmarks')).toThrow(InvalidArgumentError);
    expect(() => oneProtocol('treadmarks')).toThrow(/expected ivy or isis, got "treadmarks"/);
    expect(() => oneProtocol('ivy,isis')).toThrow(/only scenario and bench run several/);
  });

  it('takes comma lists for scenario and bench, in the order given', () => {
    expect(protocolList('ivy,isis')).toEqual(['ivy', 'isis']);
    expect(protocolList('isis, ivy')).toEqual(['isis', 'ivy']);
    expect(protocolList('isis')).toEqual(['isis']);
  });

  it('rejects empty items, duplicates and unknown names in a list', () => {
    expect(() => protocolList('ivy,')).toThrow(/comma list/);
    expect(() => protocolList('ivy,ivy')).toThrow(/listed twice/);
    expect(() => protocolList('ivy,paxos')).toThrow(/in the comma list, got "paxos"/);
  });

  it('bench --client-memory takes one mode or a comma list of modes, each once', () => {
    expect(clientMemoryList('recoverable')).toEqual(['recoverable']);
    expect(clientMemoryList('volatile, recoverable,DURABLE')).toEqual(['volatile', 'recoverable', 'durable']);
    expect(() => clientMemoryList('volatile,')).toThrow(/comma list/);
    expect(() => clientMemoryList('durable,durable')).toThrow(/listed twice/);
    expect(() => clientMemoryList('volatile,nvram')).toThrow(/expected volatile, recoverable or durable, got "nvram"/);
  });
});

describe('protocol in the API schemas', () => {
  it('a cluster config defaults to ivy and accepts isis only as a known name', () => {
    expect(ClusterConfigSchema.parse({}).protocol).toBe('ivy');
    expect(ClusterConfigSchema.parse({ protocol: 'isis' }).protocol).toBe('isis');
    expect(ClusterConfigSchema.safeParse({ protocol: 'ISIS' }).success).toBe(false);
  });

  it('a scenario request carries one or both protocols, each once', () => {
    expect(ScenarioRequestSchema.parse({ scenarios: ['s1'] }).protocols).toEqual(['ivy']);
    expect(ScenarioRequestSchema.parse({ scenarios: ['s1'], protocols: ['ivy', 'isis'] }).protocols).toEqual(['ivy', 'isis']);
    expect(ScenarioRequestSchema.safeParse({ scenarios: ['s1'], protocols: [] }).success).toBe(false);
    expect(ScenarioRequestSchema.safeParse({ scenarios: ['s1'], protocols: ['isis', 'isis'] }).success).toBe(false);
    expect(ScenarioRequestSchema.safeParse({ scenarios: ['s1'], protocols: ['raft'] }).success).toBe(false);
  });

  it('a scenario request (s9 from the UI) names its client memory mode or leaves it to the engine default', () => {
    expect(ScenarioRequestSchema.parse({ scenarios: ['s9'] }).clientMemory).toBeUndefined();
    expect(ScenarioRequestSchema.parse({ scenarios: ['s9'], clientMemory: 'durable' }).clientMemory).toBe('durable');
    expect(ScenarioRequestSchema.safeParse({ scenarios: ['s9'], clientMemory: 'disk' }).success).toBe(false);
    expect(ScenarioRequestSchema.safeParse({ scenarios: ['s9'], clientMemory: 1 }).success).toBe(false);
  });
});

describe('run plan', () => {
  it('runs each scenario for every protocol before the next scenario', () => {
    const plan = runPlan({ scenarios: resolveScenarios(['s1', 's3']), protocols: ['ivy', 'isis'] });
    expect(plan.map((p) => `${p.def.id}/${p.protocol}`)).toEqual(['s1/ivy', 's1/isis', 's3/ivy', 's3/isis']);
    expect(runPlan({ scenarios: resolveScenarios(['s2']) }).map((p) => p.protocol)).toEqual(['ivy']);
  });
});

const op = (o: Partial<RoundOp>): RoundOp => ({ client: 'c0', kind: 'read', page: 0, ok: true, fault: true, startNs: 0, endNs: 2e6, ...o });

describe('rounds per protocol', () => {
  it('IVY measures successful faults; write-update measures successful writes (reads are local)', () => {
    const ivy = roundPlan('ivy', 3);
    const isis = roundPlan('isis', 3);
    expect(isis).toEqual({ kind: 'writes', pages: 3 });
    const hit = op({ fault: false });
    const write = op({ kind: 'write', fault: false });
    const failed = op({ kind: 'write', ok: false });
    expect([isMeasured(hit, ivy), isMeasured(op({}), ivy), isMeasured(failed, ivy)]).toEqual([false, true, false]);
    expect([isMeasured(op({}), isis), isMeasured(write, isis), isMeasured(failed, isis)]).toEqual([false, true, false]);
    expect(faultSamples([op({ client: 'c3', kind: 'write', endNs: 3e6 }), op({})], isis)).toEqual([{ ms: 3, node: 'c3' }]);
  });

  it('a write-update round has every live client write a page in range at the barrier', async () => {
    const calls: { client: string; kind: string; page: number | 'missing' }[] = [];
    const driver: RoundDriver = {
      nodeInfos: () =>
        ['m0', 'c0', 'c1', 'c2'].map((id) => ({
          id,
          role: id === 'm0' ? 'primary' : 'client',
          state: id === 'c2' ? 'down' : 'up',
          pid: 1,
          endpoint: '',
          epoch: 1,
          upSince: 0,
          restarts: 0,
          lastExit: null,
          dropped: 0,
          rssBytes: null,
        })),
      op: (client, kind, page) => {
        calls.push({ client, kind, page });
        return Promise.resolve({ type: 'opDone', id: 1, client, kind: kind === 'random' ? 'read' : kind, page: typeof page === 'number' ? page : 0, ok: true, fault: true, startNs: 0, endNs: 1 });
      },
    };
    const ops = await runRound(driver, mulberry32(7), 1000, roundPlan('isis', 3));
    expect(calls.map((c) => c.client)).toEqual(['c0', 'c1']);
    expect(calls.every((c) => c.kind === 'write' && typeof c.page === 'number' && c.page >= 0 && c.page < 3)).toBe(true);
    expect(ops.every((o) => o.kind === 'write')).toBe(true);
    calls.length = 0;
    await runRound(driver, mulberry32(7), 1000);
    expect(calls.every((c) => c.kind === 'random' && c.page === 'missing')).toBe(true);
  });
});

const h = (o: Partial<HistoryOp>): HistoryOp => ({ client: 'c0', op: 'read', page: 0, value: null, start: 1000, end: 2000, outcome: 'ok', fault: false, ...o });

describe('history figures per protocol', () => {
  it('write-update counts writes as the protocol ops and local reads as hits, with both latencies', () => {
    const ops = [h({ op: 'write', value: 'c0:1', start: 1000, end: 1_001_000 }), h({ start: 2000, end: 4000 }), h({ op: 'write', value: 'c0:2', outcome: 'fail', start: 3000 })];
    const s = sustainedSummary(ops, 0, 10_000, 'isis');
    expect([s.ops, s.faults, s.hits, s.failed]).toEqual([3, 1, 1, 1]);
    expect(s.read.count).toBe(1);
    expect(s.write.count).toBe(1);
    // IVY sees the same local read as a hit and no read latency.
    expect(sustainedSummary(ops, 0, 10_000, 'ivy').read.count).toBe(0);
    expect(isProtocolOp({ op: 'write', fault: false }, 'isis')).toBe(true);
    expect(isProtocolOp({ op: 'write', fault: false }, 'ivy')).toBe(false);
  });

  it('recovery after a registry kill is the first write issued after it', () => {
    const ops = [h({ op: 'write', value: 'a', start: 500, end: 9_000_000 }), h({ op: 'write', value: 'b', start: 2_000_000, end: 3_000_000 }), h({ start: 1_500_000, end: 1_600_000 })];
    expect(recoveryMs(ops, 1_000_000, 'isis')).toBe(2);
    expect(Number.isNaN(recoveryMs(ops, 1_000_000, 'ivy'))).toBe(true);
  });
});
