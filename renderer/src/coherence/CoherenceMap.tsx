// The grid itself: one <canvas> sized for the device pixel ratio, hit-tested for hover
// and click, and driven from the keyboard (arrows move a focus ring, Enter opens the
// page's record, Escape closes it). Hover state lives here, so moving the mouse
// repaints the canvas without re-rendering the rest of the view.
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type RefObject } from 'react';
import { drawMap, readPalette, type Palette } from './draw.js';
import { cellAt, cellRect, computeLayout, describeCell, encodeRows, hitTest, moveFocus, type Focus, type GridModel } from './model.js';

export interface MapProps {
  model: GridModel;
  focus: Focus;
  onFocusChange: (f: Focus) => void;
  selected: Focus | null;
  onSelect: (f: Focus | null) => void;
  /** Id of the element that summarises the grid (aria-describedby). */
  describedBy?: string;
}

function usePalette(): Palette {
  const [palette, setPalette] = useState(readPalette);
  useEffect(() => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => setPalette(readPalette());
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);
  return palette;
}

/** The container's content box, followed as the window resizes. */
function useSize(ref: RefObject<HTMLElement | null>): { w: number; h: number } {
  const [size, setSize] = useState({ w: 800, h: 600 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize((s) => (s.w === el.clientWidth && s.h === el.clientHeight ? s : { w: el.clientWidth, h: el.clientHeight }));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}

export const CoherenceMap = memo(function CoherenceMap({ model, focus, onFocusChange, selected, onSelect, describedBy }: MapProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const palette = usePalette();
  const size = useSize(wrapRef);
  const [hover, setHover] = useState<Focus | null>(null);
  const [focused, setFocused] = useState(false);
  const rows = model.clients.length;
  const cols = model.pages;

  // 2 px of slack so the canvas never causes scrollbars by rounding.
  const layout = useMemo(() => computeLayout(rows, cols, size.w - 2, size.h - 2), [rows, cols, size.w, size.h]);
  const f = rows > 0 && cols > 0 ? { row: Math.min(focus.row, rows - 1), col: Math.min(focus.col, cols - 1) } : null;
  const hov = hover && hover.row < rows && hover.col < cols ? hover : null;
  const sel = selected && selected.row < rows && selected.col < cols ? selected : null;

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (canvas) drawMap(canvas, model, layout, palette, { hover: hov, focus: f, focusVisible: focused, selected: sel });
  });

  // Keep the focused cell in view when the grid is larger than the screen.
  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap || !f || !focused) return;
    const r = cellRect(layout, f.row, f.col);
    if (r.x < wrap.scrollLeft + layout.left) wrap.scrollLeft = r.x - layout.left;
    else if (r.x + r.w > wrap.scrollLeft + wrap.clientWidth) wrap.scrollLeft = r.x + r.w - wrap.clientWidth + 4;
    if (r.y < wrap.scrollTop + layout.top) wrap.scrollTop = r.y - layout.top;
    else if (r.y + r.h > wrap.scrollTop + wrap.clientHeight) wrap.scrollTop = r.y + r.h - wrap.clientHeight + 4;
  }, [f?.row, f?.col, focused, layout]);

  const at = (e: MouseEvent<HTMLCanvasElement>): Focus | null => {
    const box = e.currentTarget.getBoundingClientRect();
    return hitTest(layout, e.clientX - box.left, e.clientY - box.top);
  };
  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const h = at(e);
    if (h?.row !== hover?.row || h?.col !== hover?.col) setHover(h);
  };
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const h = at(e);
    if (!h) return;
    onFocusChange(h);
    onSelect(h);
  };
  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    if (!f) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(f);
      return;
    }
    if (e.key === 'Escape' && sel) {
      e.preventDefault();
      onSelect(null);
      return;
    }
    if (e.altKey || e.metaKey) return; // Alt+N switches views
    const next = moveFocus(f, e.key, rows, cols, { ctrl: e.ctrlKey, page: Math.max(1, Math.floor((wrapRef.current?.clientHeight ?? 400) / layout.pitch) - 1) });
    if (next) {
      e.preventDefault();
      setHover(null); // the keyboard takes over the tooltip
      onFocusChange(next);
    }
  };

  // The tooltip follows the mouse, else the keyboard focus while the grid has it.
  const tip = hov ?? (focused ? f : null);
  const tipCell = tip ? cellAt(model, tip.row, tip.col) : null;
  const tipRect = tip ? cellRect(layout, tip.row, tip.col) : null;
  const flipX = tipRect ? tipRect.x + 260 > layout.width : false;

  const pending = useMemo(() => {
    const out: string[] = [];
    model.cells.forEach((c, i) => {
      if (c?.pending) out.push(`${model.clients[Math.floor(i / model.pages)]}:${i % model.pages}:${c.pending}`);
    });
    return out.join(' ');
  }, [model]);
  const lost = useMemo(
    () =>
      model.lostWith
        .map((w, page) => (w ? `${page}:${w}` : ''))
        .filter(Boolean)
        .join(' '),
    [model],
  );
  const encoded = useMemo(() => encodeRows(model), [model]);

  return (
    <div className="coherence-scroll" ref={wrapRef}>
      <div className="coherence-stage" style={{ width: layout.width, height: layout.height }}>
        <canvas
          ref={canvasRef}
          className="coherence-canvas"
          tabIndex={0}
          role="application"
          aria-roledescription="coherence map"
          aria-label={`Coherence map, ${rows} clients by ${cols} pages. Arrow keys move between cells, Enter opens the page's record, Escape closes it.`}
          aria-describedby={describedBy}
          data-testid="coherence-canvas"
          data-clients={model.clients.join(' ')}
          data-states={model.clientStates.join(' ')}
          data-pages={cols}
          data-rows={encoded}
          data-pending={pending}
          data-lost={lost}
          data-pitch={layout.pitch}
          data-cell={layout.cell}
          data-left={layout.left}
          data-top={layout.top}
          data-focus={f ? `${f.row},${f.col}` : ''}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
          onClick={onClick}
          onKeyDown={onKey}
          onFocus={() => setFocused(true)}
          onBlur={() => setFocused(false)}
        />
        {tip && tipRect && (
          <div
            className="coherence-tip"
            role="tooltip"
            data-testid="coherence-tooltip"
            data-client={model.clients[tip.row]}
            data-page={tip.col}
            style={{
              left: flipX ? undefined : tipRect.x + tipRect.w + 8,
              right: flipX ? layout.width - tipRect.x + 8 : undefined,
              top: Math.max(0, tipRect.y - 6),
            }}
          >
            <strong>
              {model.clients[tip.row]} · page {tip.col}
            </strong>
            {tipCell ? (
              <>
                <span>
                  <span className={`badge access-${tipCell.access}`}>{tipCell.access}</span>
                  {tipCell.owner && <span className="tip-owner"> ● owner</span>}
                </span>
                <span data-testid="coherence-tip-version">version {tipCell.version}</span>
                <span data-testid="coherence-tip-token" className="mono">
                  token {tipCell.token ?? '–'}
                </span>
                {tipCell.pending && <span className="busy-text">pending {tipCell.pending} fault</span>}
              </>
            ) : (
              <span className="muted">no page table ({model.clientStates[tip.row]})</span>
            )}
            {model.lostWith[tip.col] && <span className="error-text">lost with {model.lostWith[tip.col]}</span>}
            {tipCell && model.clientStates[tip.row] !== 'up' && model.clientStates[tip.row] !== 'absent' && (
              <span className="muted small">
                {model.clients[tip.row]} is {model.clientStates[tip.row]}: its last report
              </span>
            )}
          </div>
        )}
      </div>
      <div className="visually-hidden" aria-live="polite" data-testid="coherence-live">
        {focused && f ? describeCell(model, f.row, f.col) : ''}
      </div>
    </div>
  );
});
