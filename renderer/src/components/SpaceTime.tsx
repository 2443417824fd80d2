// A small space-time (Lamport) diagram of one operation's frames: one vertical line per
// node, one arrow per frame from its send to its receive, time flowing down from the
// operation's start. SVG, since it is a few dozen arrows drawn once (the live Messages
// view draws thousands on a canvas). A frame never received (its receiver was killed, the
// record was lost with it, or the nemesis dropped it: the hover says which) ends in a cross;
// a frame its receiver refused for a stale epoch (fencing) ends on a red bar. Time is
// proportional plus a fixed step per event, so a 40 ms wait shows as a long gap while frames
// microseconds apart still stay readable; exact times are on hover.
import type { SlowFrame } from '../../../nodes/control/api.js';

const COL_W = 96;
const TOP = 28;
const PAD_X = 40;
/** Pixels for the proportional part of the time axis, and at most per event on top of it. */
const LINEAR_PX = 220;
const STEP_PX = 14;

const rank = (id: string): number => (id.startsWith('m') ? 0 : 100_000) + Number(id.slice(1));
const fmtUs = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(us >= 100_000 ? 0 : 2)} ms` : `${us.toFixed(0)} µs`);

export function SpaceTime({ frames, endUs, label, testId }: { frames: readonly SlowFrame[]; endUs: number; label: string; testId?: string }) {
  const nodes = [...new Set(frames.flatMap((f) => [f.from, f.to]))].sort((a, b) => rank(a) - rank(b));
  const times = frames.flatMap((f) => [f.sendUs, f.recvUs]).filter((t): t is number => t !== null);
  const span = Math.max(endUs, ...times, 1);
  const events = [...new Set([...times, endUs])].sort((a, b) => a - b);
  const step = Math.min(STEP_PX, 700 / events.length);
  const order = new Map(events.map((t, i) => [t, i]));
  const y = (us: number): number => TOP + (us / span) * LINEAR_PX + step * (order.get(us) ?? 0);
  const height = TOP + LINEAR_PX + step * events.length + 16;
  const x = (id: string): number => PAD_X + nodes.indexOf(id) * COL_W;
  const width = PAD_X * 2 + Math.max(0, nodes.length - 1) * COL_W;
  return (
    <svg className="space-time" width={width} height={height} role="img" aria-label={label} data-testid={testId} data-arrows={frames.length}>
      <defs>
        <marker id="st-head" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L8,4 L0,8 z" className="st-head" />
        </marker>
      </defs>
      {nodes.map((n) => (
        <g key={n}>
          <text x={x(n)} y={14} textAnchor="middle" className="st-node">
            {n}
          </text>
          <line x1={x(n)} x2={x(n)} y1={TOP - 6} y2={height - 8} className="st-life" />
        </g>
      ))}
      <line x1={8} x2={width - 8} y1={y(endUs)} y2={y(endUs)} className="st-end" />
      <text x={width - 8} y={y(endUs) - 3} textAnchor="end" className="st-tick">
        returned {fmtUs(endUs)}
      </text>
      {frames.map((f, i) => {
        const x0 = x(f.from);
        const x1 = x(f.to);
        const lost = f.recvUs === null;
        const y0 = y(f.sendUs ?? f.recvUs ?? 0);
        const y1 = lost ? y0 + 10 : y(f.recvUs!);
        const xEnd = lost ? x0 + (x1 - x0) * 0.4 : x1;
        const what = `${f.type} ${f.from} → ${f.to}: ${f.sendUs === null ? 'send not traced' : `sent +${fmtUs(f.sendUs)}`}, ${lost ? 'not received' : `received +${fmtUs(f.recvUs!)}`}${f.note ? ` — ${f.note}` : ''}`;
        return (
          <g key={i} className={`st-frame${lost ? ' lost' : ''}${f.fenced ? ' fenced' : ''}`}>
            <title>{what}</title>
            <line x1={x0} y1={y0} x2={xEnd} y2={y1} markerEnd={lost ? undefined : 'url(#st-head)'} />
            {lost && <path d={`M${xEnd - 4},${y1 - 4} l8,8 m0,-8 l-8,8`} />}
            {f.fenced && !lost && <rect x={x1 - 9} y={y1 - 2} width={18} height={4} className="st-fenced" />}
            <text x={(x0 + xEnd) / 2} y={(y0 + y1) / 2 - 3} textAnchor="middle" className="st-label">
              {f.type}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
