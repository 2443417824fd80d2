// The supervisor's copy of every node's vector clock, kept current from the clock deltas the
// nodes ship with their trace records (tracer.ts), so each record can be written with the
// node's whole clock without the nodes sending it per frame.
import type { TraceTuple } from '../../runtime/control.js';
import { nodeOfCode } from '../../runtime/trace-clock.js';
import { TRACE_BATCH_MAX } from '../../runtime/tracer.js';
import type { TraceRecord } from './record.js';

export class TraceMirror {
  private readonly clocks = new Map<string, Map<string, number>>();

  constructor(private readonly run?: string) {}

  /**
   * The clock a new process of `id` starts tracing with: what its predecessor knew, with its own count
   * above anything that predecessor can have stamped (the highest count any node saw from it, plus one
   * unshipped batch). Resets the mirror to it.
   */
  startFor(id: string): Record<string, number> {
    const mine = this.clocks.get(id);
    let own = 0;
    for (const c of this.clocks.values()) own = Math.max(own, c.get(id) ?? 0);
    const start: Record<string, number> = mine ? Object.fromEntries(mine) : {};
    start[id] = own > 0 ? own + TRACE_BATCH_MAX : 0;
    this.clocks.set(id, new Map(Object.entries(start)));
    return start;
  }

  /** One node's batch as trace-file records, in order. */
  resolve(id: string, tuples: readonly TraceTuple[]): TraceRecord[] {
    let clock = this.clocks.get(id);
    if (!clock) this.clocks.set(id, (clock = new Map()));
    const out: TraceRecord[] = [];
    for (const [dir, peer, t, type, epoch, page, req, requester, view, seq, frame, delta, note] of tuples) {
      for (let i = 0; i + 1 < delta.length; i += 2) {
        const code = delta[i]!;
        // Codes name nodes m0..m9999 / c0..c9999 (trace-clock.ts); anything else is not a clock entry.
        if (code > 0xffff || (code & 0x7fff) > 9999) continue;
        const node = nodeOfCode(code);
        if (delta[i + 1]! > (clock.get(node) ?? 0)) clock.set(node, delta[i + 1]!);
      }
      const vc: Record<string, number> = {};
      for (const [node, v] of clock) if (v > 0) vc[node] = v;
      // Keys in the order of DESIGN §6's example line, built by assignment (no object spreads per record);
      // epoch and vc are set below, in that order.
      const r: TraceRecord = { node: id, dir: dir === 0 ? 'send' : 'recv', peer, t, type } as TraceRecord;
      if (page !== null) r.page = page;
      if (req !== null) r.req = req;
      if (requester !== null) r.requester = requester;
      if (view !== null) r.view = view;
      if (seq !== null) r.seq = seq;
      r.epoch = epoch;
      if (frame !== null) r.frame = `${dir === 0 ? id : peer}:${frame}`;
      if (this.run !== undefined) r.run = this.run;
      // A node's note where it belongs (a bad node's misplaced one is left out: records stay valid).
      if (note !== undefined && note[1] !== '') {
        if (note[0] === 'refused') {
          if (dir === 1) r.refused = note[1];
        } else if (dir === 0) {
          r.nemesis = note[0];
          r.rule = note[1];
        }
      }
      r.vc = vc;
      out.push(r);
    }
    return out;
  }
}
