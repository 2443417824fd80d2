// A small React wrapper around uPlot: the chart is built once per option set, data
// updates go through setData (no rebuild), and the width follows the container.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  /** Builds the options for a given width; called again only when `optionsKey` changes. */
  makeOptions: (width: number) => uPlot.Options;
  optionsKey: string;
  data: uPlot.AlignedData;
  label: string;
  testId?: string;
  height: number;
}

export function Chart({ makeOptions, optionsKey, data, label, testId, height }: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;
  const makeRef = useRef(makeOptions);
  makeRef.current = makeOptions;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const u = new uPlot(makeRef.current(width), dataRef.current, el);
    plot.current = u;
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const w = Math.max(200, el.clientWidth);
        if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
      });
    });
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [optionsKey, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={ref} className="chart" role="img" aria-label={label} data-testid={testId} />;
}

/** Chart colours come from CSS custom properties so light and dark themes both work. */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}
