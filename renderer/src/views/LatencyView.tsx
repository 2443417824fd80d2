// Latency: a read-vs-write histogram and a time series of p50/p99 and throughput,
// with vertical marks where nodes were killed, stopped, rebooted or failed over.
import { useEffect, useMemo, useState } from 'react';
import type uPlot from 'uplot';
import uPlotLib from 'uplot';
import type { HistogramBucket, LatencyPoint, Mark, MarkKind, NemesisView } from '../../../nodes/control/api.js';
import { Chart, cssVar } from '../components/Chart.js';
import { fmtClock, fmtInt, fmtUs } from '../format.js';
import { useApp } from '../state/context.js';
import { useStore } from '../state/store.js';

const MARK_STYLE: Record<MarkKind, { color: string; label: string }> = {
  start: { color: '#6b7280', label: 'start' },
  kill: { color: '#dc2626', label: 'kill' },
  stop: { color: '#d97706', label: 'stop' },
  reboot: { color: '#2563eb', label: 'reboot' },
  up: { color: '#16a34a', label: 'up' },
  down: { color: '#b91c1c', label: 'down' },
  failover: { color: '#9333ea', label: 'failover' },
  handback: { color: '#0891b2', label: 'handback' },
};

/** Re-render when the OS switches between light and dark, so charts pick up new colours. */
function useColorScheme(): string {
  const [scheme, setScheme] = useState(() => (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setScheme(mq.matches ? 'dark' : 'light');
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return scheme;
}

function themeColors() {
  return {
    text: cssVar('--text-muted', '#666'),
    grid: cssVar('--grid', 'rgba(128,128,128,0.2)'),
    read: cssVar('--read', '#2563eb'),
    write: cssVar('--write', '#ea580c'),
    ops: cssVar('--ops', '#16a34a'),
  };
}

function axis(c: ReturnType<typeof themeColors>, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: c.text,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1 },
    ...extra,
  };
}

export function LatencyView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const scheme = useColorScheme();
  const histogram = snapshot?.histogram;
  const series = snapshot?.series;
  const marks = snapshot?.marks;
  const bands = snapshot?.nemesis?.windows;
  const isis = snapshot?.config?.protocol === 'isis';

  return (
    <div className="view-stack">
      <section className="card" aria-labelledby="latency-now-title">
        <h2 id="latency-now-title">Latency</h2>
        {isis && (
          <p className="muted small" data-testid="latency-isis-note">
            Write-update: reads are local (no message) and not timed here; the write figures are ISIS total-order writes.
          </p>
        )}
        <LatestFigures series={series ?? []} />
      </section>
      <section className="card" aria-labelledby="series-title">
        <h3 id="series-title">Over time</h3>
        <SeriesChart series={series ?? []} marks={marks ?? []} bands={bands ?? []} scheme={scheme} />
        <MarksLegend marks={marks ?? []} />
        <BandsLegend bands={bands ?? []} />
      </section>
      <section className="card" aria-labelledby="hist-title">
        <h3 id="hist-title">{isis ? 'Histogram (writes: every one a total-order multicast)' : 'Histogram (operations that needed the manager)'}</h3>
        <HistogramChart histogram={histogram ?? []} scheme={scheme} />
      </section>
    </div>
  );
}

function LatestFigures({ series }: { series: LatencyPoint[] }) {
  const last = series.length ? series[series.length - 1] : undefined;
  const prev = series.length > 1 ? series[series.length - 2] : undefined;
  const opsPerS = last && prev && last.t > prev.t ? (last.ops * 1000) / (last.t - prev.t) : null;
  return (
    <dl className="figures" data-testid="latency-figures">
      <div>
        <dt>Read p50</dt>
        <dd>{fmtUs(last?.readP50Us)}</dd>
      </div>
      <div>
        <dt>Read p99</dt>
        <dd>{fmtUs(last?.readP99Us)}</dd>
      </div>
      <div>
        <dt>Write p50</dt>
        <dd>{fmtUs(last?.writeP50Us)}</dd>
      </div>
      <div>
        <dt>Write p99</dt>
        <dd>{fmtUs(last?.writeP99Us)}</dd>
      </div>
      <div>
        <dt>Throughput</dt>
        <dd>{opsPerS == null ? '–' : `${fmtInt(opsPerS)} ops/s`}</dd>
      </div>
    </dl>
  );
}

/** Fault marks get a labelled dashed line; lifecycle noise (start, up) only a faint tick. */
const LABELLED: ReadonlySet<MarkKind> = new Set(['kill', 'stop', 'reboot', 'down', 'failover', 'handback']);

type Band = NemesisView['windows'][number];
const BAND_COLOR = '#f59e0b';

/** Nemesis periods as shaded bands under the curves, labelled at the top; one still in force runs to the right edge. */
function drawBands(u: uPlot, bands: readonly Band[]): void {
  if (!bands.length) return;
  const { ctx } = u;
  const { top, height, left, width } = u.bbox;
  const dpr = devicePixelRatio || 1;
  ctx.save();
  ctx.font = `${10 * dpr}px system-ui, sans-serif`;
  ctx.textBaseline = 'bottom';
  for (const b of bands) {
    const x0 = Math.max(left, u.valToPos(b.from / 1000, 'x', true));
    const x1 = Math.min(left + width, b.to === null ? left + width : u.valToPos(b.to / 1000, 'x', true));
    if (x1 <= x0) continue;
    ctx.globalAlpha = 0.14;
    ctx.fillStyle = BAND_COLOR;
    ctx.fillRect(x0, top, x1 - x0, height);
    ctx.globalAlpha = 0.9;
    ctx.fillText(`nemesis: ${b.label}`, x0 + 3 * dpr, top + height - 2 * dpr);
  }
  ctx.restore();
}

function marksPlugin(getMarks: () => Mark[], getBands: () => readonly Band[]): uPlot.Plugin {
  return {
    hooks: {
      drawClear: [(u: uPlot) => drawBands(u, getBands())],
      draw: [
        (u: uPlot) => {
          const ms = getMarks();
          if (!ms.length) return;
          const { ctx } = u;
          const { top, height, left, width } = u.bbox;
          const dpr = devicePixelRatio || 1;
          const rowH = 12 * dpr;
          const rowsRight: number[] = [-Infinity, -Infinity, -Infinity, -Infinity];
          ctx.save();
          ctx.font = `${10 * dpr}px system-ui, sans-serif`;
          ctx.textBaseline = 'top';
          const sorted = [...ms].sort((a, b) => a.t - b.t);
          for (const m of sorted) {
            const x = Math.round(u.valToPos(m.t / 1000, 'x', true));
            if (x < left || x > left + width) continue;
            const style = MARK_STYLE[m.kind] ?? MARK_STYLE.start;
            ctx.strokeStyle = style.color;
            ctx.fillStyle = style.color;
            if (!LABELLED.has(m.kind)) {
              ctx.globalAlpha = 0.45;
              ctx.lineWidth = dpr;
              ctx.setLineDash([]);
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + 6 * dpr);
              ctx.stroke();
              ctx.globalAlpha = 1;
              continue;
            }
            ctx.lineWidth = dpr * 1.5;
            ctx.setLineDash([4 * dpr, 3 * dpr]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            // Labels of nearby marks go on the next free row instead of on top of each other.
            const text = `${style.label} ${m.node}`;
            const w = ctx.measureText(text).width;
            const tx = x + 3 * dpr;
            const row = rowsRight.findIndex((right) => tx > right + 4 * dpr);
            if (row === -1) continue;
            rowsRight[row] = tx + w;
            ctx.fillText(text, tx, top + 2 * dpr + row * rowH);
          }
          ctx.restore();
        },
      ],
    },
  };
}

function SeriesChart({ series, marks, bands, scheme }: { series: LatencyPoint[]; marks: Mark[]; bands: readonly Band[]; scheme: string }) {
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs: number[] = [];
    const rp50: (number | null)[] = [];
    const rp99: (number | null)[] = [];
    const wp50: (number | null)[] = [];
    const wp99: (number | null)[] = [];
    const ops: (number | null)[] = [];
    let prevT: number | null = null;
    for (const p of series) {
      xs.push(p.t / 1000);
      rp50.push(p.readP50Us == null ? null : p.readP50Us / 1000);
      rp99.push(p.readP99Us == null ? null : p.readP99Us / 1000);
      wp50.push(p.writeP50Us == null ? null : p.writeP50Us / 1000);
      wp99.push(p.writeP99Us == null ? null : p.writeP99Us / 1000);
      ops.push(prevT != null && p.t > prevT ? (p.ops * 1000) / (p.t - prevT) : null);
      prevT = p.t;
    }
    return [xs, rp50, rp99, wp50, wp99, ops];
  }, [series]);

  // The draw hook reads marks through a ref-like closure so new marks need no rebuild.
  const [marksBox] = useState<{ current: Mark[] }>(() => ({ current: marks }));
  marksBox.current = marks;
  const [bandsBox] = useState<{ current: readonly Band[] }>(() => ({ current: bands }));
  bandsBox.current = bands;

  const makeOptions = (width: number): uPlot.Options => {
    const c = themeColors();
    return {
      width,
      height: 300,
      plugins: [marksPlugin(() => marksBox.current, () => bandsBox.current)],
      scales: { x: { time: true }, ms: { auto: true }, ops: { auto: true } },
      axes: [
        axis(c),
        axis(c, { scale: 'ms', label: 'latency (ms)', values: (_u, vals) => vals.map((v) => (v < 1 ? v.toFixed(2) : String(v))) }),
        axis(c, { scale: 'ops', side: 1, label: 'ops/s', grid: { show: false } }),
      ],
      series: [
        {},
        { label: 'read p50', scale: 'ms', stroke: c.read, width: 1.5, value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} ms`) },
        { label: 'read p99', scale: 'ms', stroke: c.read, width: 1.5, dash: [6, 4], value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} ms`) },
        { label: 'write p50', scale: 'ms', stroke: c.write, width: 1.5, value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} ms`) },
        { label: 'write p99', scale: 'ms', stroke: c.write, width: 1.5, dash: [6, 4], value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} ms`) },
        { label: 'ops/s', scale: 'ops', stroke: c.ops, width: 1, fill: `${c.ops}14`, value: (_u, v) => (v == null ? '–' : fmtInt(v)) },
      ],
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
    };
  };

  const empty = series.length === 0;
  return (
    <>
      {empty && <p className="muted">No samples yet: start a cluster and a workload (Cluster tab) or run a scenario.</p>}
      <Chart
        makeOptions={makeOptions}
        optionsKey={`series-${scheme}`}
        data={data}
        height={300}
        label={`Latency over time: ${series.length} samples, ${marks.length} marks, ${bands.length} nemesis periods`}
        testId="latency-series-chart"
      />
    </>
  );
}

function MarksLegend({ marks: all }: { marks: Mark[] }) {
  const marks = all.filter((m) => LABELLED.has(m.kind));
  if (!marks.length) return null;
  const recent = marks.slice(-12).reverse();
  return (
    <ul className="marks" aria-label="Fault marks" data-testid="latency-marks">
      {recent.map((m, i) => (
        <li key={`${m.t}-${m.kind}-${m.node}-${i}`}>
          <span className="mark-swatch" style={{ background: (MARK_STYLE[m.kind] ?? MARK_STYLE.start).color }} aria-hidden="true" />
          {fmtClock(m.t)} {m.kind} {m.node}
        </li>
      ))}
      {marks.length > recent.length && <li className="muted">…and {marks.length - recent.length} earlier</li>}
    </ul>
  );
}

function BandsLegend({ bands }: { bands: readonly Band[] }) {
  if (!bands.length) return null;
  const recent = bands.slice(-8).reverse();
  return (
    <ul className="marks" aria-label="Nemesis periods" data-testid="latency-nemesis">
      {recent.map((b, i) => (
        <li key={`${b.from}-${i}`}>
          <span className="mark-swatch" style={{ background: BAND_COLOR }} aria-hidden="true" />
          nemesis {b.label}: {fmtClock(b.from)} – {b.to === null ? 'now' : fmtClock(b.to)}
        </li>
      ))}
    </ul>
  );
}

function HistogramChart({ histogram, scheme }: { histogram: HistogramBucket[]; scheme: string }) {
  const data = useMemo<uPlot.AlignedData>(
    () => [histogram.map((_, i) => i), histogram.map((b) => b.read), histogram.map((b) => b.write)],
    [histogram],
  );
  const [labels] = useState<{ current: HistogramBucket[] }>(() => ({ current: histogram }));
  labels.current = histogram;

  const makeOptions = (width: number): uPlot.Options => {
    const c = themeColors();
    const bars = uPlotLib.paths.bars;
    const label = (i: number) => {
      const idx = Math.round(i);
      const b = labels.current[idx];
      if (!b) return '';
      if (Number.isFinite(b.leUs)) return `≤ ${fmtUs(b.leUs)}`;
      const prev = labels.current[idx - 1];
      return prev && Number.isFinite(prev.leUs) ? `> ${fmtUs(prev.leUs)}` : 'more';
    };
    return {
      width,
      height: 260,
      padding: [12, 28, 0, 0],
      scales: { x: { time: false, distr: 2 }, y: { auto: true } },
      axes: [
        axis(c, { values: (_u, vals) => vals.map((v) => label(v)), rotate: 0, size: 40 }),
        axis(c, { label: 'operations' }),
      ],
      series: [
        { label: 'bucket', value: (_u, v) => (v == null ? '–' : label(v)) },
        { label: 'read', stroke: c.read, fill: `${c.read}99`, width: 1, paths: bars ? bars({ size: [0.42, 40], align: -1 }) : undefined, points: { show: false } },
        { label: 'write', stroke: c.write, fill: `${c.write}99`, width: 1, paths: bars ? bars({ size: [0.42, 40], align: 1 }) : undefined, points: { show: false } },
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
  };
  return (
    <>
      {histogram.length === 0 && <p className="muted">No operations measured yet.</p>}
      <Chart
        makeOptions={makeOptions}
        optionsKey={`hist-${scheme}`}
        data={data}
        height={260}
        label={`Latency histogram: ${histogram.reduce((s, b) => s + b.read, 0)} reads, ${histogram.reduce((s, b) => s + b.write, 0)} writes`}
        testId="latency-histogram-chart"
      />
    </>
  );
}
