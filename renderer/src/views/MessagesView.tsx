// Messages: a live space-time diagram of the protocol talk — one vertical line per node,
// one arrow per frame, time flowing down — over the latest window only (a bounded buffer,
// drawn on a canvas at most once per animation frame), so 64 busy clients stay smooth.
// Opening the view turns message tracing on in the running cluster; leaving turns it off.
// The operation list beside it comes from the same frames: clicking one freezes the diagram
// on exactly the frames it caused, from its request to its confirm.
import { memo, useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { OpReplySchema, TraceExportSchema } from '../api/wire.js';
import { fmtInt } from '../format.js';
import { planDiagram, type DiagramPlan, type Ink } from '../messages/diagram.js';
import { arrowSegments, frameOpKey, marksOf, nemesisText, orderNodes, refusalText, rowWindow, visible, type Arrow, type EpochMark, type Filter, type TracedOp, type TraceView } from '../messages/model.js';
import { useCommand } from '../state/commands.js';
import { useApp } from '../state/context.js';
import { useStore } from '../state/store.js';
import { useTracing } from '../state/tracing.js';

const SPANS_MS = [20, 100, 1000, 5000] as const;
const HEAD = 28;
const COL_MIN = 56;
/** The operation list follows the window at most this often (nodes ship their frames every 250 ms anyway). */
const OPS_EVERY_MS = 250;
/** A row of the operation list until one is measured (px). */
const OP_ROW_PX = 26;
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

interface Palette {
  fg: string;
  muted: string;
  accent: string;
  danger: string;
}

/** The theme's colours, read once (and again when the OS switches between light and dark), not per picture. */
function usePalette(): Palette {
  const read = (): Palette => {
    const css = getComputedStyle(document.documentElement);
    const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    return { fg: v('--text', '#ddd'), muted: v('--text-muted', '#888'), accent: v('--accent', '#4da3ff'), danger: v('--danger', DANGER) };
  };
  const [palette, setPalette] = useState(read);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setPalette(read());
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return palette;
}

/** `value`, but changing at most once per `ms` (the latest value always shows, at most `ms` late). */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const show = () => {
      last.current = performance.now();
      setShown(value);
    };
    const t = setTimeout(show, Math.max(0, last.current + ms - performance.now()));
    return () => clearTimeout(t);
  }, [value, ms]);
  return shown;
}

const DASHES: Record<string, number[]> = { solid: [], stub: [3, 3], dup: [6, 3] };

/** Draws a plan: one path per style for the lines, one for their heads, one for the crosses. */
function paintPlan(ctx: CanvasRenderingContext2D, plan: DiagramPlan, palette: Palette): void {
  const ink = (i: Ink): string => (i === 'accent' ? palette.accent : i === 'danger' ? palette.danger : palette.fg);
  for (const b of plan.batches) {
    const colour = ink(b.style.ink);
    ctx.globalAlpha = b.style.alpha;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = b.style.width;
    // In flight (or its receive outside the window): a short dashed stub towards the receiver.
    ctx.setLineDash(DASHES[b.style.dash] ?? []);
    ctx.beginPath();
    const l = b.lines;
    for (let i = 0; i < l.length; i += 4) {
      ctx.moveTo(l[i]!, l[i + 1]!);
      ctx.lineTo(l[i + 2]!, l[i + 3]!);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (b.heads.length) {
      const h = b.heads;
      ctx.beginPath();
      for (let i = 0; i < h.length; i += 6) {
        ctx.moveTo(h[i]!, h[i + 1]!);
        ctx.lineTo(h[i + 2]!, h[i + 3]!);
        ctx.lineTo(h[i + 4]!, h[i + 5]!);
        ctx.closePath();
      }
      ctx.fill();
    }
    if (b.crosses.length) {
      // Dropped by the nemesis: the arrow stops partway, in a cross.
      const c = b.crosses;
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (let i = 0; i < c.length; i += 2) {
        const x = c[i]!;
        const y = c[i + 1]!;
        ctx.moveTo(x - 5, y - 5);
        ctx.lineTo(x + 5, y + 5);
        ctx.moveTo(x + 5, y - 5);
        ctx.lineTo(x - 5, y + 5);
      }
      ctx.stroke();
    }
  }
  // Refusal bars (red when fenced: a stale epoch).
  for (const [bars, colour] of [
    [plan.refusedBars, palette.muted],
    [plan.fencedBars, palette.danger],
  ] as const) {
    ctx.fillStyle = colour;
    for (let i = 0; i < bars.length; i += 3) {
      ctx.globalAlpha = bars[i + 2]!;
      ctx.fillRect(bars[i]! - 9, bars[i + 1]! - 2, 18, 4);
    }
  }
  ctx.textAlign = 'left';
  for (const lb of plan.labels) {
    ctx.globalAlpha = lb.alpha;
    ctx.fillStyle = ink(lb.ink);
    ctx.fillText(lb.text, lb.x, lb.y);
  }
  ctx.textAlign = 'center';
  ctx.globalAlpha = 1;
  ctx.lineWidth = 1;
}

/** One <option> per value, labelled with it. */
function optionsOf(values: readonly (string | number)[]) {
  return values.map((v) => (
    <option key={v} value={v}>
      {v}
    </option>
  ));
}

export function MessagesView() {
  const { store, api } = useApp();
  const { run, busy } = useCommand();
  const snapshot = useStore(store, (s) => s.snapshot);
  const running = snapshot?.running ?? false;
  // Keyed by the ids, not the nodes array (a new one with every snapshot in which any node changed).
  const clientsKey = (snapshot?.nodes ?? [])
    .filter((n) => n.role === 'client')
    .map((n) => n.id)
    .join(' ');
  const nodesKey = (snapshot?.nodes ?? []).map((n) => n.id).join(' ');
  const clients = useMemo(() => (clientsKey ? clientsKey.split(' ') : []), [clientsKey]);
  const nodeIds = useMemo(() => (nodesKey ? nodesKey.split(' ') : []), [nodesKey]);
  const pages = snapshot?.config?.pages ?? 0;

  const [paused, setPaused] = useState(false);
  const [spanMs, setSpanMs] = useState<number>(100);
  const [filter, setFilter] = useState<Filter>({ page: null, node: null });
  const [selected, setSelected] = useState<TracedOp | null>(null);
  const [hover, setHover] = useState<{ a: Arrow; x: number; y: number } | { mark: EpochMark; x: number; y: number } | null>(null);
  // One version of the window (its arrows, operations and epoch marks computed once per version, in the model).
  const [tv, setTv] = useState<TraceView>(() => store.traces.view());
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
    const own = tv.arrows.filter((a) => frameOpKey(a) === selected.key);
    return own.length > 0 && own.every((a) => a.sendT !== null && a.recvT !== null);
  }, [tv, selected]);

  // Follow the trace at most once per animation frame, unless paused (or a pinned operation is complete).
  const frozen = paused || (selected !== null && (pinnedComplete || pinSettled));
  useEffect(() => {
    if (frozen) return;
    let pending = false;
    setTv(store.traces.view());
    return store.traces.onChange(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        setTv(store.traces.view());
      });
    });
  }, [store, frozen]);

  const ops = useThrottled(tv.ops, OPS_EVERY_MS);
  const epochs = tv.epochs;
  const arrows = useMemo(() => (filter.page === null && filter.node === null ? tv.arrows : tv.arrows.filter((a) => visible(a, filter))), [tv, filter]);
  const columns = useMemo(() => orderNodes([...nodeIds, ...tv.nodes]), [tv.nodes, nodeIds]);
  const marks = useMemo(() => marksOf(arrows), [arrows]);
  const opFrames = useMemo(() => {
    if (!selected) return [];
    return tv.arrows.filter((a) => frameOpKey(a) === selected.key).sort((a, b) => (a.sendT ?? a.recvT ?? 0) - (b.sendT ?? b.recvT ?? 0));
  }, [tv, selected]);

  // The time window: the pinned operation with a margin, else the latest spanMs.
  const win = useMemo(() => {
    if (selected && opFrames.length) {
      const ts = opFrames.flatMap((a) => [a.sendT, a.recvT]).filter((t): t is number => t !== null);
      const lo = Math.min(...ts);
      const hi = Math.max(...ts);
      const pad = Math.max((hi - lo) * 0.15, 50_000);
      return { from: lo - pad, to: hi + pad };
    }
    return { from: tv.newest - spanMs * 1e6, to: tv.newest };
  }, [selected, opFrames, tv.newest, spanMs]);

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

  const palette = usePalette();
  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(size.w, columns.length * COL_MIN);
    const h = size.h;
    // Resizing a canvas reallocates it (and its style change costs a layout): only when the size changed.
    const pw = Math.round(w * dpr);
    const ph = Math.round(h * dpr);
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const { fg, muted, accent } = palette;
    ctx.clearRect(0, 0, w, h);
    const colW = w / Math.max(1, columns.length);
    const xOf = new Map(columns.map((id, i) => [id, colW * (i + 0.5)]));
    const x = (id: string): number => xOf.get(id) ?? -100;
    const span = Math.max(1, win.to - win.from);
    const y = (t: number): number => HEAD + ((t - win.from) / span) * (h - HEAD - 8);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    for (const id of columns) {
      ctx.fillStyle = filter.node === id ? accent : fg;
      ctx.fillText(id, x(id), 16);
    }
    // The nodes' lines: one path.
    ctx.strokeStyle = muted;
    ctx.globalAlpha = 0.5;
    ctx.beginPath();
    for (const id of columns) {
      ctx.moveTo(x(id), HEAD - 4);
      ctx.lineTo(x(id), h);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    const plan = planDiagram(arrows, win, x, y, selected?.key);
    paintPlan(ctx, plan, palette);
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
    drawn.current = { arrows: plan.inWindow, marks, x, y };
    const counts = marksOf(plan.inWindow);
    const data = canvas.dataset;
    const set = (k: string, v: string) => {
      // Unchanged attributes are left alone (a write is a DOM mutation, even of the same text).
      if (data[k] !== v) data[k] = v;
    };
    set('arrows', String(plan.inWindow.length));
    set('highlighted', String(plan.highlighted));
    set('dropped', String(counts.dropped));
    set('dups', String(counts.dups));
    set('fenced', String(counts.fenced));
    set('epochMarks', String(marks.length));
    // Where the first drop's cross and fenced bar are drawn (CSS px): a test hovers them for their text.
    set('firstDrop', plan.firstDrop ?? '');
    set('firstFence', plan.firstFence ?? '');
  }, [arrows, epochs, columns, win, size, selected, filter.node, palette]);

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
    setHover({ a: best, x: px, y: py });
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

  // The operation list renders only the rows in its scroll box's view (newest first); the rest are one spacer each side.
  const opsBoxRef = useRef<HTMLElement>(null);
  const opsTableRef = useRef<HTMLTableElement>(null);
  const [opsView, setOpsView] = useState({ top: 0, height: 1000 });
  const [opRowPx, setOpRowPx] = useState(OP_ROW_PX);
  const onOpsScroll = useCallback(() => {
    const box = opsBoxRef.current;
    const body = opsTableRef.current?.tBodies[0];
    if (!box || !body) return;
    // From the list's first row: the box's scroll position less where the rows start in it.
    const bodyTop = body.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    setOpsView({ top: box.scrollTop - bodyTop, height: box.clientHeight });
    const row = body.querySelector<HTMLElement>('tr[data-testid="messages-op"]');
    if (row && row.offsetHeight > 0) setOpRowPx(row.offsetHeight);
  }, []);
  useEffect(() => {
    const box = opsBoxRef.current;
    if (!box) return;
    onOpsScroll();
    const ro = new ResizeObserver(onOpsScroll);
    ro.observe(box);
    return () => ro.disconnect();
  }, [onOpsScroll]);
  // Measure a row once the list has one.
  const hasOps = ops.length > 0;
  useEffect(() => {
    if (hasOps) onOpsScroll();
  }, [hasOps, onOpsScroll]);
  const shownOps = useMemo(() => {
    const { start, end } = rowWindow(ops.length, opRowPx, opsView.top, opsView.height);
    // Newest first: list position i is ops[ops.length - 1 - i].
    const rows: TracedOp[] = [];
    for (let i = start; i < end; i++) rows.push(ops[ops.length - 1 - i]!);
    return { start, end, rows };
  }, [ops, opRowPx, opsView]);
  const toggleOp = useCallback((op: TracedOp) => setSelected((s) => (s?.key === op.key ? null : op)), []);
  // The filters' options change only with the cluster, not with every push.
  const pageOptions = useMemo(() => optionsOf(Array.from({ length: Math.min(pages, 4096) }, (_, p) => p)), [pages]);
  const nodeOptions = useMemo(() => optionsOf(nodeIds), [nodeIds]);
  const clientOptions = useMemo(() => optionsOf(clients), [clients]);

  return (
    <div className="messages-view">
      <section className="card" aria-labelledby="messages-title">
        <h2 id="messages-title">Messages</h2>
        <p className="muted summary" data-testid="messages-summary">
          {running ? 'tracing every frame while this view is open' : 'no cluster running: start one in the Cluster view'} · {fmtInt(tv.records)} frames in the window
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
              {pageOptions}
            </select>
          </label>
          <label>
            Node{' '}
            <select value={filter.node ?? ''} onChange={(e) => setFilter((f) => ({ ...f, node: e.target.value === '' ? null : e.target.value }))} data-testid="messages-filter-node">
              <option value="">all</option>
              {nodeOptions}
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
              {clientOptions}
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
        <section className="card messages-ops" aria-labelledby="messages-ops-title" ref={opsBoxRef} onScroll={onOpsScroll}>
          <h3 id="messages-ops-title">Operations</h3>
          <p className="muted small">IVY faults, from the request to the confirm; write-update writes, from the multicast to the agreed priority.</p>
          <table className="table" data-testid="messages-ops" ref={opsTableRef}>
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
              {shownOps.start > 0 && <tr aria-hidden="true" className="messages-ops-gap" style={{ height: shownOps.start * opRowPx }} />}
              {shownOps.rows.map((op) => (
                <OpRow key={op.key} op={op} selected={selected?.key === op.key} onToggle={toggleOp} />
              ))}
              {shownOps.end < ops.length && <tr aria-hidden="true" className="messages-ops-gap" style={{ height: (ops.length - shownOps.end) * opRowPx }} />}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}

const fmtLatency = (op: TracedOp): string => (op.endT === null ? '…' : `${((op.endT - op.startT) / 1000).toFixed(0)} µs`);

/**
 * One operation's row. The list is rebuilt with every push (new objects for the same operations):
 * a row re-renders only when what it shows changed, so a push costs the rows that are new or ended.
 */
const OpRow = memo(
  function OpRow({ op, selected, onToggle }: { op: TracedOp; selected: boolean; onToggle: (op: TracedOp) => void }) {
    return (
      <tr
        className={selected ? 'selected' : undefined}
        aria-selected={selected}
        tabIndex={0}
        onClick={() => onToggle(op)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            onToggle(op);
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
    );
  },
  (a, b) => a.selected === b.selected && a.onToggle === b.onToggle && a.op.key === b.op.key && a.op.startT === b.op.startT && a.op.endT === b.op.endT && a.op.outcome === b.op.outcome,
);

function segmentDistance(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}
