// Messages: a live space-time diagram of the protocol talk — one vertical line per node,
// one arrow per frame, time flowing down — over the latest window only (a bounded buffer,
// drawn on a canvas at most once per animation frame), so 64 busy clients stay smooth.
// Opening the view turns message tracing on in the running cluster; leaving turns it off.
// The operation list beside it comes from the same frames: clicking one freezes the diagram
// on exactly the frames it caused, from its request to its confirm.
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import type { TraceRecord } from '../../../nodes/control/api.js';
import { OpReplySchema, TraceExportSchema } from '../api/wire.js';
import { fmtInt } from '../format.js';
import {
  arrowSegments,
  arrowsOf,
  epochMarks,
  frameOpKey,
  isFenced,
  marksOf,
  nemesisText,
  nodeColumns,
  opsOf,
  refusalText,
  visible,
  type Arrow,
  type EpochMark,
  type Filter,
  type TracedOp,
} from '../messages/model.js';
import { useCommand } from '../state/commands.js';
import { useApp } from '../state/context.js';
import { useStore } from '../state/store.js';
import { useTracing } from '../state/tracing.js';

const SPANS_MS = [20, 100, 1000, 5000] as const;
const HEAD = 28;
const COL_MIN = 56;
/** How long a pinned operation keeps following the trace for the frames of it still in other nodes' batches (batches ship every 250 ms). */
const PIN_FOLLOW_MS = 1500;

interface Drawn {
  arrows: Arrow[];
  marks: EpochMark[];
  x: (id: string) => number;
  y: (t: number) => number;
}

/** The red of nemesis drops and fenced frames (the theme's danger colour when it has one). */
const DANGER = '#e5484d';
/** The colour of epoch (takeover) marks. */
const EPOCH = '#f5a524';

export function MessagesView() {
  const { store, api } = useApp();
  const { run, busy } = useCommand();
  const snapshot = useStore(store, (s) => s.snapshot);
  const running = snapshot?.running ?? false;
  const clients = useMemo(() => (snapshot?.nodes ?? []).filter((n) => n.role === 'client').map((n) => n.id), [snapshot?.nodes]);
  const nodeIds = useMemo(() => (snapshot?.nodes ?? []).map((n) => n.id), [snapshot?.nodes]);
  const pages = snapshot?.config?.pages ?? 0;

  const [paused, setPaused] = useState(false);
  const [spanMs, setSpanMs] = useState<number>(100);
  const [filter, setFilter] = useState<Filter>({ page: null, node: null });
  const [selected, setSelected] = useState<TracedOp | null>(null);
  const [hover, setHover] = useState<{ a: Arrow; x: number; y: number } | { mark: EpochMark; x: number; y: number } | null>(null);
  const [records, setRecords] = useState<TraceRecord[]>(() => store.traces.snapshot());
  const [opForm, setOpForm] = useState<{ client: string; kind: 'read' | 'write'; page: number }>({ client: 'c0', kind: 'read', page: 0 });

  // Tracing on while the view is open (and a cluster runs); off when it closes (unless the Network view holds it).
  useTracing(api, running);

  // A pinned operation keeps following the trace until every one of its frames has both ends (nodes ship
  // their records in batches, so a receive can arrive a batch later than its send), or for PIN_FOLLOW_MS.
  const [pinSettled, setPinSettled] = useState(false);
  useEffect(() => {
    setPinSettled(false);
    if (!selected) return;
    const t = setTimeout(() => setPinSettled(true), PIN_FOLLOW_MS);
    return () => clearTimeout(t);
  }, [selected]);
  const pinnedComplete = useMemo(() => {
    if (!selected) return false;
    const own = arrowsOf(records).filter((a) => frameOpKey(a) === selected.key);
    return own.length > 0 && own.every((a) => a.sendT !== null && a.recvT !== null);
  }, [records, selected]);

  // Follow the trace at most once per animation frame, unless paused (or a pinned operation is complete).
  const frozen = paused || (selected !== null && (pinnedComplete || pinSettled));
  useEffect(() => {
    if (frozen) return;
    let pending = false;
    setRecords(store.traces.snapshot());
    return store.traces.onChange(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        setRecords(store.traces.snapshot());
      });
    });
  }, [store, frozen]);

  const ops = useMemo(() => opsOf(records), [records]);
  const arrows = useMemo(() => arrowsOf(records).filter((a) => visible(a, filter)), [records, filter]);
  const columns = useMemo(() => nodeColumns(records, nodeIds), [records, nodeIds]);
  const epochs = useMemo(() => epochMarks(records), [records]);
  const marks = useMemo(() => marksOf(arrows), [arrows]);
  const opFrames = useMemo(() => {
    if (!selected) return [];
    return arrowsOf(records)
      .filter((a) => frameOpKey(a) === selected.key)
      .sort((a, b) => (a.sendT ?? a.recvT ?? 0) - (b.sendT ?? b.recvT ?? 0));
  }, [records, selected]);

  // The time window: the pinned operation with a margin, else the latest spanMs.
  const win = useMemo(() => {
    if (selected && opFrames.length) {
      const ts = opFrames.flatMap((a) => [a.sendT, a.recvT]).filter((t): t is number => t !== null);
      const lo = Math.min(...ts);
      const hi = Math.max(...ts);
      const pad = Math.max((hi - lo) * 0.15, 50_000);
      return { from: lo - pad, to: hi + pad };
    }
    const newest = records.length ? records[records.length - 1]!.t : 0;
    return { from: newest - spanMs * 1e6, to: newest };
  }, [selected, opFrames, records, spanMs]);

  const canvasRef = useRef<HTMLCanvasElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const drawn = useRef<Drawn | null>(null);
  const [size, setSize] = useState({ w: 800, h: 480 });
  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(300, el.clientWidth), h: Math.max(240, el.clientHeight) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(size.w, columns.length * COL_MIN);
    const h = size.h;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const css = getComputedStyle(canvas);
    const fg = css.getPropertyValue('--text').trim() || '#ddd';
    const muted = css.getPropertyValue('--text-muted').trim() || '#888';
    const accent = css.getPropertyValue('--accent').trim() || '#4da3ff';
    ctx.clearRect(0, 0, w, h);
    const colW = w / Math.max(1, columns.length);
    const xOf = new Map(columns.map((id, i) => [id, colW * (i + 0.5)]));
    const x = (id: string): number => xOf.get(id) ?? -100;
    const span = Math.max(1, win.to - win.from);
    const y = (t: number): number => HEAD + ((t - win.from) / span) * (h - HEAD - 8);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const id of columns) {
      ctx.fillStyle = filter.node === id ? accent : fg;
      ctx.fillText(id, x(id), 16);
      ctx.strokeStyle = muted;
      ctx.globalAlpha = 0.5;
      ctx.beginPath();
      ctx.moveTo(x(id), HEAD - 4);
      ctx.lineTo(x(id), h);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    const inWindow = arrows.filter((a) => {
      const t0 = a.sendT ?? a.recvT!;
      const t1 = Math.max(a.recvT ?? a.sendT!, a.dupRecvT ?? 0);
      return t1 >= win.from && t0 <= win.to;
    });
    const key = selected?.key;
    const danger = css.getPropertyValue('--danger').trim() || DANGER;
    let firstDrop: string | null = null;
    let firstFence: string | null = null;
    for (const a of inWindow) {
      const mine = key !== undefined && frameOpKey(a) === key;
      ctx.globalAlpha = key === undefined || mine ? 1 : 0.15;
      const color = mine ? accent : fg;
      ctx.lineWidth = mine ? 2.5 : 1;
      for (const sg of arrowSegments(a, x, y)) {
        ctx.strokeStyle = sg.end === 'cross' ? danger : color;
        ctx.fillStyle = ctx.strokeStyle;
        // In flight (or its receive outside the window): a short dashed stub towards the receiver.
        ctx.setLineDash(sg.end === 'stub' ? [3, 3] : sg.dup ? [6, 3] : []);
        ctx.beginPath();
        ctx.moveTo(sg.x0, sg.y0);
        ctx.lineTo(sg.x1, sg.y1);
        ctx.stroke();
        ctx.setLineDash([]);
        if (sg.end === 'head') {
          const ang = Math.atan2(sg.y1 - sg.y0, sg.x1 - sg.x0);
          ctx.beginPath();
          ctx.moveTo(sg.x1, sg.y1);
          ctx.lineTo(sg.x1 - 8 * Math.cos(ang - 0.4), sg.y1 - 8 * Math.sin(ang - 0.4));
          ctx.lineTo(sg.x1 - 8 * Math.cos(ang + 0.4), sg.y1 - 8 * Math.sin(ang + 0.4));
          ctx.fill();
        } else if (sg.end === 'cross') {
          // Dropped by the nemesis: the arrow stops partway, in a cross.
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(sg.x1 - 5, sg.y1 - 5);
          ctx.lineTo(sg.x1 + 5, sg.y1 + 5);
          ctx.moveTo(sg.x1 + 5, sg.y1 - 5);
          ctx.lineTo(sg.x1 - 5, sg.y1 + 5);
          ctx.stroke();
          ctx.lineWidth = mine ? 2.5 : 1;
          firstDrop ??= `${Math.round(sg.x1)},${Math.round(sg.y1)}`;
        }
        if (sg.dup) {
          ctx.textAlign = 'left';
          ctx.fillText('dup', (sg.x0 + sg.x1) / 2 + 4, (sg.y0 + sg.y1) / 2 + 10);
          ctx.textAlign = 'center';
        }
      }
      if (a.refused !== undefined && a.recvT !== null) {
        // Refused at the receiving end: a bar across its line (red when fenced: a stale epoch).
        const yr = y(a.recvT);
        const xr = x(a.to);
        ctx.fillStyle = isFenced(a.refused) ? danger : muted;
        ctx.fillRect(xr - 9, yr - 2, 18, 4);
        if (isFenced(a.refused)) firstFence ??= `${Math.round(xr)},${Math.round(yr)}`;
      }
      if (mine) {
        ctx.fillStyle = accent;
        const sg = arrowSegments(a, x, y)[0]!;
        ctx.textAlign = 'left';
        ctx.fillText(a.type, (sg.x0 + sg.x1) / 2 + 4, (sg.y0 + sg.y1) / 2 - 3);
        ctx.textAlign = 'center';
      }
    }
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;
    // A manager's move to a new epoch (a takeover): a mark across its line, labelled.
    const marks = epochs.filter((m) => m.t >= win.from && m.t <= win.to && xOf.has(m.node));
    ctx.fillStyle = EPOCH;
    ctx.textAlign = 'left';
    const labelled = new Map<string, number>();
    for (const m of marks) {
      ctx.fillRect(x(m.node) - 12, y(m.t) - 1.5, 24, 3);
      // Marks close together (a run of candidacies) share one label: the latest that fits.
      const last = labelled.get(m.node);
      if (last !== undefined && y(m.t) - last < 13) continue;
      ctx.fillText(`epoch ${m.epoch}`, x(m.node) + 14, y(m.t) + 4);
      labelled.set(m.node, y(m.t));
    }
    ctx.textAlign = 'center';
    drawn.current = { arrows: inWindow, marks, x, y };
    canvas.dataset.arrows = String(inWindow.length);
    canvas.dataset.highlighted = String(inWindow.filter((a) => key !== undefined && frameOpKey(a) === key).length);
    const counts = marksOf(inWindow);
    canvas.dataset.dropped = String(counts.dropped);
    canvas.dataset.dups = String(counts.dups);
    canvas.dataset.fenced = String(counts.fenced);
    canvas.dataset.epochMarks = String(marks.length);
    // Where the first drop's cross and fenced bar are drawn (CSS px): a test hovers them for their text.
    canvas.dataset.firstDrop = firstDrop ?? '';
    canvas.dataset.firstFence = firstFence ?? '';
  }, [arrows, epochs, columns, win, size, selected, filter.node]);

  const onMove = useCallback((e: MouseEvent<HTMLCanvasElement>) => {
    const d = drawn.current;
    if (!d) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    let best: Arrow | null = null;
    let bestD = 6;
    for (const a of d.arrows) {
      // A marked frame (dropped, refused) wins over plain ones drawn across it: the marks are what one hovers for.
      const bonus = (a.nemesis === 'drop' && a.recvT === null) || a.refused !== undefined ? 4 : 0;
      for (const sg of arrowSegments(a, d.x, d.y)) {
        const dist = segmentDistance(px, py, sg.x0, sg.y0, sg.x1, sg.y1) - bonus;
        if (dist < bestD) {
          bestD = dist;
          best = a;
        }
      }
      // The refusal bar at the receiving end.
      if (a.refused !== undefined && a.recvT !== null && Math.abs(px - d.x(a.to)) <= 9 && Math.abs(py - d.y(a.recvT)) - bonus < bestD) {
        bestD = Math.abs(py - d.y(a.recvT)) - bonus;
        best = a;
      }
    }
    if (!best) {
      const mark = d.marks.find((m) => Math.abs(px - d.x(m.node)) <= 12 && Math.abs(py - d.y(m.t)) <= 4);
      setHover(mark ? { mark, x: px, y: py } : null);
      return;
    }
    setHover(best ? { a: best, x: px, y: py } : null);
  }, []);

  const exportTrace = async () => {
    const reply = await run({ cmd: 'exportTrace' }, 'export-trace');
    if (!reply.ok) return;
    const file = TraceExportSchema.safeParse(reply.value);
    if (!file.success) {
      store.notify('error', 'Export trace: the engine sent a malformed trace');
      return;
    }
    try {
      const saved = await api.saveHistory(file.data.jsonl, file.data.name);
      if (saved) store.notify('info', `Saved ${fmtInt(file.data.records)} traced frames to ${saved} (for ShiViz: ivy-cluster trace ${file.data.name} --shiviz OUT)`);
    } catch (err) {
      store.notify('error', `Export trace failed: ${(err as Error).message}`);
    }
  };

  const runOp = async () => {
    const reply = await run({ cmd: 'runOp', ...opForm }, 'run-op');
    if (!reply.ok) return;
    const r = OpReplySchema.safeParse(reply.value);
    if (r.success) store.notify(r.data.ok ? 'info' : 'error', `${r.data.kind} of page ${r.data.page} on ${r.data.client}: ${r.data.ok ? `${r.data.fault ? 'fault' : 'hit'}, ${r.data.latencyUs} µs` : (r.data.error ?? 'failed')}`);
  };

  const fmtLatency = (op: TracedOp): string => (op.endT === null ? '…' : `${((op.endT - op.startT) / 1000).toFixed(0)} µs`);

  return (
    <div className="messages-view">
      <section className="card" aria-labelledby="messages-title">
        <h2 id="messages-title">Messages</h2>
        <p className="muted summary" data-testid="messages-summary">
          {running ? 'tracing every frame while this view is open' : 'no cluster running: start one in the Cluster view'} · {fmtInt(records.length)} frames in the window
          {store.traces.skipped ? ` · ${fmtInt(store.traces.skipped)} skipped to keep up` : ''}
        </p>
        {(marks.dropped > 0 || marks.dups > 0 || marks.refused > 0 || epochs.length > 0) && (
          <p className="muted small messages-legend" data-testid="messages-marks">
            In the window: <span className="drop">✕ {fmtInt(marks.dropped)} dropped by the nemesis</span> · {fmtInt(marks.dups)} duplicated (dashed, “dup”) ·{' '}
            <span className="fenced">▬ {fmtInt(marks.fenced)} fenced</span> (refused for a stale epoch{marks.refused > marks.fenced ? `; ${fmtInt(marks.refused - marks.fenced)} refused otherwise, grey` : ''}) ·{' '}
            <span className="epoch">▬ {fmtInt(epochs.length)} epoch change{epochs.length === 1 ? '' : 's'}</span> (a takeover, on the manager&apos;s line)
          </p>
        )}
        <div className="button-row messages-controls">
          <button type="button" onClick={() => setPaused((p) => !p)} aria-pressed={paused} data-testid="messages-pause">
            {paused ? 'Resume' : 'Pause'}
          </button>
          <label>
            Window{' '}
            <select value={spanMs} onChange={(e) => setSpanMs(Number(e.target.value))} data-testid="messages-span">
              {SPANS_MS.map((s) => (
                <option key={s} value={s}>
                  {s >= 1000 ? `${s / 1000} s` : `${s} ms`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Page{' '}
            <select value={filter.page ?? ''} onChange={(e) => setFilter((f) => ({ ...f, page: e.target.value === '' ? null : Number(e.target.value) }))} data-testid="messages-filter-page">
              <option value="">all</option>
              {Array.from({ length: Math.min(pages, 4096) }, (_, p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label>
            Node{' '}
            <select value={filter.node ?? ''} onChange={(e) => setFilter((f) => ({ ...f, node: e.target.value === '' ? null : e.target.value }))} data-testid="messages-filter-node">
              <option value="">all</option>
              {nodeIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => void exportTrace()} disabled={busy('export-trace')} data-testid="messages-export-trace">
            Export trace
          </button>
        </div>
        <div className="button-row messages-controls" aria-label="One operation">
          <label>
            Client{' '}
            <select value={opForm.client} onChange={(e) => setOpForm((f) => ({ ...f, client: e.target.value }))} data-testid="messages-op-client">
              {clients.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          <select value={opForm.kind} onChange={(e) => setOpForm((f) => ({ ...f, kind: e.target.value === 'write' ? 'write' : 'read' }))} aria-label="Operation" data-testid="messages-op-kind">
            <option value="read">read</option>
            <option value="write">write</option>
          </select>
          <label>
            page{' '}
            <input
              type="number"
              min={0}
              max={Math.max(0, pages - 1)}
              value={opForm.page}
              onChange={(e) => setOpForm((f) => ({ ...f, page: Math.max(0, Math.min(Math.max(0, pages - 1), Math.floor(Number(e.target.value) || 0))) }))}
              data-testid="messages-op-page"
            />
          </label>
          <button type="button" onClick={() => void runOp()} disabled={!running || busy('run-op')} data-testid="messages-op-run">
            Run
          </button>
        </div>
      </section>
      <div className="messages-body">
        <section className="card grow messages-diagram" aria-label="Space-time diagram">
          <div className="messages-canvas-wrap" ref={wrapRef}>
            <canvas
              ref={canvasRef}
              data-testid="messages-canvas"
              role="img"
              aria-label={`Space-time diagram: ${columns.length} nodes, time flowing down`}
              onMouseMove={onMove}
              onMouseLeave={() => setHover(null)}
            />
            {hover && 'mark' in hover && (
              <div className="messages-tip" style={{ left: hover.x + 12, top: hover.y + 12 }} data-testid="messages-tip">
                <strong>{hover.mark.node}</strong> moves to epoch {hover.mark.epoch} (its frames carried epoch {hover.mark.from} before): a takeover
              </div>
            )}
            {hover && 'a' in hover && (
              <div className="messages-tip" style={{ left: hover.x + 12, top: hover.y + 12 }} data-testid="messages-tip">
                <strong>{hover.a.type}</strong> {hover.a.from} → {hover.a.to}
                {hover.a.page !== undefined && ` · page ${hover.a.page}`}
                {hover.a.req !== undefined && ` · req ${hover.a.req}`}
                {hover.a.requester !== undefined && ` · for ${hover.a.requester}`} · epoch {hover.a.epoch}
                {hover.a.sendT !== null && hover.a.recvT !== null && ` · ${((hover.a.recvT - hover.a.sendT) / 1000).toFixed(0)} µs in flight`}
                {hover.a.nemesis !== undefined && (
                  <span className="messages-tip-note" data-testid="messages-tip-nemesis">
                    {nemesisText(hover.a)}
                  </span>
                )}
                {hover.a.refused !== undefined && (
                  <span className="messages-tip-note" data-testid="messages-tip-refused">
                    {refusalText(hover.a.refused)}
                  </span>
                )}
              </div>
            )}
          </div>
          {selected && (
            <div className="messages-op-frames">
              <h3>
                Frames of {selected.client} {selected.kind} page {selected.page} ({selected.protocol === 'isis' ? 'seq' : 'req'} {selected.req}){' '}
                <button type="button" className="link" onClick={() => setSelected(null)} data-testid="messages-unpin">
                  back to live
                </button>
              </h3>
              <ol data-testid="messages-op-frames">
                {opFrames.map((a) => (
                  <li key={a.frame}>
                    {a.type} {a.from} → {a.to}
                    {a.nemesis === 'drop' && a.recvT === null ? ` (${nemesisText(a)})` : a.recvT === null ? ' (not received in the window)' : ''}
                    {a.dupRecvT !== undefined ? ' (arrived twice: duplicated by nemesis)' : ''}
                    {a.refused !== undefined ? ` (${refusalText(a.refused)})` : ''}
                  </li>
                ))}
              </ol>
            </div>
          )}
        </section>
        <section className="card messages-ops" aria-labelledby="messages-ops-title">
          <h3 id="messages-ops-title">Operations</h3>
          <p className="muted small">IVY faults, from the request to the confirm; write-update writes, from the multicast to the agreed priority.</p>
          <table className="table" data-testid="messages-ops">
            <thead>
              <tr>
                <th>client</th>
                <th>op</th>
                <th>page</th>
                <th>latency</th>
                <th>outcome</th>
              </tr>
            </thead>
            <tbody>
              {[...ops].reverse().map((op) => (
                <tr
                  key={op.key}
                  className={selected?.key === op.key ? 'selected' : undefined}
                  aria-selected={selected?.key === op.key}
                  tabIndex={0}
                  onClick={() => setSelected((s) => (s?.key === op.key ? null : op))}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      setSelected((s) => (s?.key === op.key ? null : op));
                    }
                  }}
                  data-testid="messages-op"
                  data-key={op.key}
                >
                  <td>{op.client}</td>
                  <td>{op.kind}</td>
                  <td>{op.page}</td>
                  <td>{fmtLatency(op)}</td>
                  <td>{op.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}

function segmentDistance(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}
