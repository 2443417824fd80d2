// Converts a trace (DESIGN §6) to the log format ShiViz reads, so a run opens in that viewer:
//   line 1: the parser regex, with the named groups ShiViz requires (host, clock, event);
//   line 2: the regex that separates executions (a scenario run's clusters), or empty;
//   then one line per event: `c3 {"c3":12,"m0":9} send read_req to m0 page=2 req=17 epoch=1`.
// ShiViz demands more of clocks than causality does: each host's own counts must run 1, 2, 3, …
// with no gap, and every entry must name an event in the log. A trace has gaps (a restarted node
// resumes above its predecessor; events of a killed node's last batch never arrive), so every
// count is renumbered to the rank of the latest event of that host present in the trace, which
// keeps exactly the happened-before order between the events that are there.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { TraceRecord } from './record.js';
import { describeBadLines, readTrace, traceLines, type BadLine } from './read.js';

/** ShiViz wraps it in ^…$ (multiline); the clock is a flat JSON object, so it has no inner brace. */
export const SHIVIZ_PARSER = String.raw`(?<host>\S+) (?<clock>\{[^}]*\}) (?<event>.*)`;
/** One line before each execution; `trace` labels it in ShiViz's execution picker. */
export const SHIVIZ_DELIMITER = String.raw`=== (?<trace>.+) ===`;

const RUNLESS = '';

/** The event text: what happened, with the key fields (no braces: the parser's clock ends at the first). */
export function shivizEvent(r: TraceRecord): string {
  const keys = [
    r.page !== undefined ? `page=${r.page}` : '',
    r.req !== undefined ? `req=${r.req}` : '',
    r.requester !== undefined ? `requester=${r.requester}` : '',
    r.view !== undefined ? `view=${r.view}` : '',
    r.seq !== undefined ? `seq=${r.seq}` : '',
    `epoch=${r.epoch}`,
    r.frame !== undefined ? `frame=${r.frame}` : '',
    `t=${r.t}`,
    // A dropped frame's send stays a local event of its sender (no receive merges its clock): noted here.
    r.nemesis !== undefined ? `nemesis=${r.nemesis} rule=${r.rule ?? ''}` : '',
    r.refused !== undefined ? `refused="${r.refused}"` : '',
  ].filter(Boolean);
  return `${r.dir} ${r.type} ${r.dir === 'send' ? 'to' : 'from'} ${r.peer} ${keys.join(' ')}`.replace(/[{}\n]/g, '');
}

/** The counts of each host's events present in the trace, per run, and the renumbering they give. */
export class ShivizRenumbering {
  private readonly counts = new Map<string, Map<string, number[]>>();
  private readonly lines = new Map<string, Map<string, number[]>>();
  private sorted = false;

  add(r: TraceRecord, line: number): void {
    const run = r.run ?? RUNLESS;
    let hosts = this.counts.get(run);
    let hostLines = this.lines.get(run);
    if (!hosts || !hostLines) {
      this.counts.set(run, (hosts = new Map()));
      this.lines.set(run, (hostLines = new Map()));
    }
    let own = hosts.get(r.node);
    let at = hostLines.get(r.node);
    if (!own || !at) {
      hosts.set(r.node, (own = []));
      hostLines.set(r.node, (at = []));
    }
    own.push(r.vc[r.node]!);
    at.push(line);
    this.sorted = false;
  }

  get runs(): string[] {
    return [...this.counts.keys()];
  }

  /** Sorts, and reports events of one host with the same own count (a trace no clock can produce). */
  finish(): BadLine[] {
    const bad: BadLine[] = [];
    for (const [run, hosts] of this.counts) {
      for (const [host, own] of hosts) {
        const at = this.lines.get(run)!.get(host)!;
        const order = own.map((_, i) => i).sort((a, b) => own[a]! - own[b]!);
        const sortedOwn = order.map((i) => own[i]!);
        for (let i = 1; i < sortedOwn.length; i++) {
          if (sortedOwn[i] === sortedOwn[i - 1]) {
            bad.push({ line: at[order[i]!]!, message: `${host} has two events with clock ${sortedOwn[i]} (the other on line ${at[order[i - 1]!]})` });
          }
        }
        hosts.set(host, sortedOwn);
      }
    }
    this.lines.clear();
    this.sorted = true;
    return bad;
  }

  /** Rank (1-based) of the latest event of `host` with own count ≤ `count`; 0 if none is in the trace. */
  rank(run: string, host: string, count: number): number {
    if (!this.sorted) throw new Error('finish() first');
    const own = this.counts.get(run)?.get(host);
    if (!own) return 0;
    let lo = 0;
    let hi = own.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (own[mid]! <= count) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The record's clock, renumbered; entries for hosts with no earlier event in the trace left out. */
  clock(r: TraceRecord): Record<string, number> {
    const run = r.run ?? RUNLESS;
    const out: Record<string, number> = {};
    for (const [host, v] of Object.entries(r.vc)) {
      const k = this.rank(run, host, v);
      if (k > 0) out[host] = k;
    }
    return out;
  }

  line(r: TraceRecord): string {
    return `${r.node} ${JSON.stringify(this.clock(r))} ${shivizEvent(r)}\n`;
  }

  /** Line 1 and 2 of the file. Several runs (or a named one): one execution each, after a delimiter line. */
  header(): string {
    return `${SHIVIZ_PARSER}\n${this.delimited() ? SHIVIZ_DELIMITER : ''}\n`;
  }

  delimited(): boolean {
    const runs = this.runs;
    return runs.length > 1 || (runs.length === 1 && runs[0] !== RUNLESS);
  }

  delimiterLine(run: string): string {
    return `=== ${run === RUNLESS ? 'trace' : run} ===\n`;
  }
}

export type ConvertResult = { ok: true; events: number; runs: number } | { ok: false; error: string };

/** Reads `input` twice (counts, then lines), so neither the trace nor the output is held in memory. */
export async function convertTraceToShiviz(input: string, output: string): Promise<ConvertResult> {
  const ren = new ShivizRenumbering();
  const first = await readTrace(input, (r, line) => ren.add(r, line));
  if (first.badCount > 0) return { ok: false, error: describeBadLines(input, first.bad, first.badCount) };
  if (first.records === 0) return { ok: false, error: `${input} holds no trace records` };
  const dup = ren.finish();
  if (dup.length > 0) return { ok: false, error: describeBadLines(input, dup.slice(0, 20), dup.length) };

  const out = createWriteStream(output, { flags: 'w' });
  let failure: Error | null = null;
  out.on('error', (err) => (failure ??= err));
  out.write(ren.header());
  // Each execution must be contiguous after its delimiter: one pass per run (a scenario run has a few).
  for (const run of ren.runs) {
    if (ren.delimited()) out.write(ren.delimiterLine(run));
    let chunk = '';
    for await (const l of traceLines(input)) {
      if (!l.ok || (l.record.run ?? RUNLESS) !== run) continue;
      chunk += ren.line(l.record);
      if (chunk.length > 1 << 16) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.write(chunk);
  }
  await new Promise<void>((done) => out.end(done));
  if (failure) return { ok: false, error: `writing ${output}: ${(failure as Error).message}` };
  return { ok: true, events: first.records, runs: ren.runs.length };
}
