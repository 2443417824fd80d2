// One ticker for every uptime on screen. Once a second it rewrites the text of the
// uptime cells that are in view, straight into the DOM: no React render, no other
// cell touched. At 128 clients the nodes table has 130 uptimes; re-rendering each
// through React every second (and committing 130 text changes, most of them off
// screen) was the bulk of that view's script time. A cell scrolled into view is
// brought up to date at once (IntersectionObserver), so every uptime a user can see
// is current.
import { fmtDuration } from '../format.js';

/** What the ticker needs of an element: its text (a DOM element in the app, a plain object in tests). */
export interface TextTarget {
  textContent: string | null;
}

export interface TickerDeps<E> {
  now: () => number;
  /** Calls tick every ms; returns a stop function. */
  every: (ms: number, tick: () => void) => () => void;
  /**
   * Reports elements entering (true) and leaving (false) the view; returns
   * observe/unobserve. Absent: every element counts as in view.
   */
  watchVisibility?: (onChange: (el: E, inView: boolean) => void) => { observe(el: E): void; unobserve(el: E): void };
}

export function uptimeText(since: number, now: number): string {
  return fmtDuration(Math.max(0, now - since));
}

export class UptimeTicker<E extends TextTarget> {
  private readonly since = new Map<E, number>();
  /** In view (all watched elements when visibility is unknown). */
  private readonly inView = new Set<E>();
  private readonly visibility: { observe(el: E): void; unobserve(el: E): void } | null;
  private stop: (() => void) | null = null;

  constructor(private readonly deps: TickerDeps<E>) {
    this.visibility =
      deps.watchVisibility?.((el, inView) => {
        const since = this.since.get(el);
        if (since === undefined) return;
        if (inView) {
          this.inView.add(el);
          write(el, since, this.deps.now());
        } else this.inView.delete(el);
      }) ?? null;
  }

  /** Shows el's uptime from since, kept current while in view; returns the unwatch function. */
  watch(el: E, since: number): () => void {
    this.since.set(el, since);
    write(el, since, this.deps.now());
    if (this.visibility) this.visibility.observe(el);
    else this.inView.add(el);
    this.stop ??= this.deps.every(1000, () => this.tick());
    return () => {
      this.since.delete(el);
      this.inView.delete(el);
      this.visibility?.unobserve(el);
      if (this.since.size === 0 && this.stop) {
        this.stop();
        this.stop = null;
      }
    };
  }

  /** Watched elements (for tests). */
  get size(): number {
    return this.since.size;
  }

  private tick(): void {
    const now = this.deps.now();
    for (const el of this.inView) {
      const since = this.since.get(el);
      if (since !== undefined) write(el, since, now);
    }
  }
}

function write(el: TextTarget, since: number, now: number): void {
  const text = uptimeText(since, now);
  // An unchanged text is not written: no style or layout work for it.
  if (el.textContent !== text) el.textContent = text;
}

let shared: UptimeTicker<Element> | null = null;

/** The app's one ticker: real time, the browser's visibility. */
export function uptimeTicker(): UptimeTicker<Element> {
  shared ??= new UptimeTicker<Element>({
    now: () => Date.now(),
    every: (ms, tick) => {
      const t = setInterval(tick, ms);
      return () => clearInterval(t);
    },
    watchVisibility:
      typeof IntersectionObserver === 'undefined'
        ? undefined
        : (onChange) => {
            // The implicit root (the viewport) counts clipping by the table's scroll box too.
            const io = new IntersectionObserver((entries) => {
              for (const e of entries) onChange(e.target, e.isIntersecting);
            });
            return { observe: (el) => io.observe(el), unobserve: (el) => io.unobserve(el) };
          },
  });
  return shared;
}
