// The slowest fault of each trial as a message diagram ("why was this one 40 ms?"): while
// a scenario's cluster traces, the frames of operations are kept (heartbeats are not),
// and after the run each trial's slowest measured operation is matched to the traced
// operations of the same client, page and kind that started within it (a retry after a
// failover keeps its request id; a new attempt gets its own, so all of them count).
import type { SlowestFault, SlowFrame } from '../api.js';
import { arrowsOf, frameOpKey, isFenced, nemesisText, opsOf, refusalText } from '../trace/frames.js';
import type { TraceRecord } from '../trace/record.js';
import type { RoundOp } from './rounds.js';
import { roundMs } from './table.js';

/** Operation frames kept per cluster; later ones are counted, not kept (10 clients × 5 trials need ~20k). */
export const OP_RECORD_CAP = 400_000;
/** Frames drawn per fault: a fault retried across a failover can have hundreds. */
export const SLOW_FRAMES_MAX = 120;
/** Frames after the operation returns still belong to it (IVY's confirm, write-update's acks and stable). */
const TAIL_NS = 100e6;

export class OpFrameCollector {
  readonly records: TraceRecord[] = [];
  dropped = 0;

  readonly add = (records: readonly TraceRecord[]): void => {
    for (const r of records) {
      if (r.req === undefined && r.seq === undefined) continue;
      if (this.records.length >= OP_RECORD_CAP) this.dropped++;
      else this.records.push(r);
    }
  };
}

/** The slowest measured operation of one trial's, or null when none completed. */
export function slowestOp(measured: readonly RoundOp[]): RoundOp | null {
  let worst: RoundOp | null = null;
  for (const o of measured) if (worst === null || o.endNs - o.startNs > worst.endNs - worst.startNs) worst = o;
  return worst;
}

export function slowestFault(trial: number, op: RoundOp, records: readonly TraceRecord[]): SlowestFault {
  const inWindow = records.filter((r) => r.t >= op.startNs && r.t <= op.endNs + TAIL_NS);
  const keys = new Set(
    opsOf(inWindow, Number.POSITIVE_INFINITY)
      .filter((o) => o.client === op.client && o.page === op.page && o.kind === op.kind && o.startT <= op.endNs)
      .map((o) => o.key),
  );
  const at = (t: number | null): number | null => (t === null ? null : Math.round((t - op.startNs) / 100) / 10);
  const frames = arrowsOf(inWindow)
    .filter((a) => keys.has(frameOpKey(a) ?? ''))
    .sort((a, b) => (a.sendT ?? a.recvT ?? 0) - (b.sendT ?? b.recvT ?? 0))
    .map((a): SlowFrame => {
      const f: SlowFrame = { type: a.type, from: a.from, to: a.to, sendUs: at(a.sendT), recvUs: at(a.recvT) };
      const note = [nemesisText(a), a.refused === undefined ? undefined : refusalText(a.refused)].filter((n) => n !== undefined).join('; ');
      if (note !== '') f.note = note;
      if (a.refused !== undefined && isFenced(a.refused)) f.fenced = true;
      return f;
    });
  return {
    trial,
    client: op.client,
    kind: op.kind,
    page: op.page,
    ms: roundMs((op.endNs - op.startNs) / 1e6),
    frames: frames.slice(0, SLOW_FRAMES_MAX),
    moreFrames: Math.max(0, frames.length - SLOW_FRAMES_MAX),
  };
}

interface Event {
  us: number;
  what: string;
}

/** The longest stretch with nothing happening between the op's start, its frames' sends and receives, and its return. */
export function longestWait(f: Pick<SlowestFault, 'frames' | 'ms'>): { fromUs: number; toUs: number; after: string; before: string } | null {
  const events: Event[] = [{ us: 0, what: 'the operation started' }];
  for (const x of f.frames) {
    if (x.sendUs !== null) events.push({ us: x.sendUs, what: `${x.from} sent ${x.type} to ${x.to}` });
    if (x.recvUs !== null) events.push({ us: x.recvUs, what: `${x.to} received ${x.type} from ${x.from}` });
  }
  events.push({ us: f.ms * 1000, what: 'the operation returned' });
  events.sort((a, b) => a.us - b.us);
  let best: { fromUs: number; toUs: number; after: string; before: string } | null = null;
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    if (!best || b.us - a.us > best.toUs - best.fromUs) best = { fromUs: a.us, toUs: b.us, after: a.what, before: b.what };
  }
  return best;
}

/** One line per trial for the command line: the fault, its latency, and where it waited longest. */
export function slowestLines(list: readonly SlowestFault[]): string[] {
  return list.map((f) => {
    const w = longestWait(f);
    const wait = w && w.toUs > w.fromUs ? `; longest wait ${((w.toUs - w.fromUs) / 1000).toFixed(2)} ms, after ${w.after} (+${(w.fromUs / 1000).toFixed(2)} ms), until ${w.before}` : '';
    return `  trial ${f.trial}: ${f.client} ${f.kind} of page ${f.page}, ${f.ms} ms, ${f.frames.length + f.moreFrames} frames${wait}`;
  });
}
