// Reads a ShiViz log the way ShiViz does (parser regex on line 1, wrapped in ^…$ with the
// multiline flag; executions split by the delimiter on line 2) and applies ShiViz's checks
// on clocks (model/modelGraph.js): per execution and host, own counts run 1..n with no gap;
// every other entry names a host of the execution and a count within its events.
// Returns the events per execution, or throws with ShiViz's complaint.
export interface ShivizEvent {
  host: string;
  clock: Record<string, number>;
  event: string;
}

export function parseShiviz(text: string): Map<string, ShivizEvent[]> {
  const nl = text.indexOf('\n');
  const nl2 = text.indexOf('\n', nl + 1);
  const parser = new RegExp(`^${text.slice(0, nl)}$`, 'gm');
  const delimiterSrc = text.slice(nl + 1, nl2).trim();
  const body = text.slice(nl2 + 1);
  for (const g of ['host', 'clock', 'event']) if (!parser.source.includes(`(?<${g}>`)) throw new Error(`parser lacks the ${g} group`);
  const executions = new Map<string, string>();
  if (delimiterSrc === '') executions.set('', body);
  else {
    const delimiter = new RegExp(`^${delimiterSrc}$`, 'gm');
    const labels = [...body.matchAll(delimiter)].map((m) => m.groups?.trace ?? '');
    const parts = body.split(new RegExp(`^${delimiterSrc.replace(/\(\?<\w+>/g, '(?:')}$`, 'm'));
    if (parts[0]!.trim() !== '') throw new Error('text before the first delimiter');
    labels.forEach((label, i) => executions.set(label, parts[i + 1] ?? ''));
  }
  const out = new Map<string, ShivizEvent[]>();
  for (const [label, raw] of executions) {
    const events: ShivizEvent[] = [];
    for (const m of raw.matchAll(parser)) {
      const g = m.groups!;
      events.push({ host: g.host!, clock: JSON.parse(g.clock!) as Record<string, number>, event: g.event! });
    }
    const lines = raw.split('\n').filter((l) => l.trim() !== '');
    if (events.length !== lines.length) throw new Error(`execution ${label}: ${lines.length - events.length} lines the parser does not match`);
    const byHost = new Map<string, number[]>();
    for (const e of events) {
      if (!e.clock[e.host]) throw new Error(`${e.host}: its own clock entry is missing`);
      (byHost.get(e.host) ?? byHost.set(e.host, []).get(e.host)!).push(e.clock[e.host]!);
    }
    for (const [host, own] of byHost) {
      own.sort((a, b) => a - b);
      own.forEach((v, i) => {
        if (v !== i + 1) throw new Error(`execution ${label}: clock of ${host} goes to ${v} at its event ${i + 1} (ShiViz wants 1, 2, 3, …)`);
      });
    }
    for (const e of events) {
      for (const [h, v] of Object.entries(e.clock)) {
        const n = byHost.get(h)?.length;
        if (n === undefined) throw new Error(`execution ${label}: clock names unknown host ${h}`);
        if (v < 1 || v > n) throw new Error(`execution ${label}: clock value ${v} for ${h}, which has ${n} events`);
      }
    }
    out.set(label, events);
  }
  return out;
}
