// IVY beside write-update on the same scenarios, same machine, same run: per
// scenario, the seed's Average and the p99 of what each protocol's rounds measure
// (IVY: faults; write-update: writes, its reads being local). Bars, IVY left of
// write-update, so a glance says which protocol a client waits longer on.
import { useMemo } from 'react';
import uPlotLib from 'uplot';
import type uPlot from 'uplot';
import type { ScenarioResult } from '../../../nodes/control/api.js';
import { Chart, cssVar } from '../components/Chart.js';
import { fmtMs } from '../format.js';

/** Aligned data: x = scenario index; IVY average, write-update average, IVY p99, write-update p99 (ms; null where not run). */
export function comparisonData(results: readonly ScenarioResult[]): { ids: string[]; data: uPlot.AlignedData } {
  const ids = [...new Set(results.map((r) => r.id))];
  const pick = (id: string, protocol: 'ivy' | 'isis', k: 'averageMs' | 'p99Ms'): number | null => {
    const r = results.find((x) => x.id === id && (x.protocol ?? 'ivy') === protocol);
    const v = r?.[k];
    return v != null && Number.isFinite(v) ? v : null;
  };
  return {
    ids,
    data: [
      ids.map((_, i) => i),
      ids.map((id) => pick(id, 'ivy', 'averageMs')),
      ids.map((id) => pick(id, 'isis', 'averageMs')),
      ids.map((id) => pick(id, 'ivy', 'p99Ms')),
      ids.map((id) => pick(id, 'isis', 'p99Ms')),
    ],
  };
}

export function ProtocolComparisonChart({ results }: { results: readonly ScenarioResult[] }) {
  const { ids, data } = useMemo(() => comparisonData(results), [results]);
  const makeOptions = (width: number): uPlot.Options => {
    const text = cssVar('--text-muted', '#666');
    const grid = cssVar('--grid', 'rgba(128,128,128,0.2)');
    const ivy = cssVar('--read', '#2563eb');
    const isis = cssVar('--write', '#ea580c');
    const bars = uPlotLib.paths.bars;
    const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({ stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...extra });
    const ms = (_u: uPlot, v: number | null) => (v == null ? '–' : `${fmtMs(v)} ms`);
    return {
      width,
      height: 240,
      padding: [12, 28, 0, 0],
      // One slot per scenario, bars from zero (a bar that starts above zero misleads).
      scales: {
        x: { time: false, range: () => [-0.5, ids.length - 0.5] },
        ms: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] },
      },
      axes: [
        axis({ splits: () => ids.map((_, i) => i), values: (_u, vals) => vals.map((v) => ids[Math.round(v)] ?? ''), size: 36 }),
        axis({ scale: 'ms', label: 'ms' }),
      ],
      series: [
        { label: 'scenario', value: (_u, v) => (v == null ? '–' : (ids[Math.round(v)] ?? '')) },
        { label: 'IVY average', scale: 'ms', stroke: ivy, fill: `${ivy}99`, width: 1, paths: bars?.({ size: [0.4, 60], align: -1 }), points: { show: false }, value: ms },
        { label: 'write-update average', scale: 'ms', stroke: isis, fill: `${isis}99`, width: 1, paths: bars?.({ size: [0.4, 60], align: 1 }), points: { show: false }, value: ms },
        { label: 'IVY p99', scale: 'ms', stroke: ivy, width: 2, dash: [4, 3], points: { show: true, size: 7 }, paths: () => null, value: ms },
        { label: 'write-update p99', scale: 'ms', stroke: isis, width: 2, dash: [4, 3], points: { show: true, size: 7 }, paths: () => null, value: ms },
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
  };
  return (
    <div className="comparison-chart">
      <h3>IVY vs write-update</h3>
      <Chart
        makeOptions={makeOptions}
        optionsKey={`cmp-${ids.join(',')}`}
        data={data}
        height={240}
        label={`Protocol comparison over ${ids.length} scenario${ids.length === 1 ? '' : 's'}: average and p99 per protocol`}
        testId="protocol-comparison-chart"
      />
      <p className="muted small">IVY rounds measure faults (cache hits excluded); write-update rounds measure writes (reads are local).</p>
    </div>
  );
}
