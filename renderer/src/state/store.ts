// One store for everything the engine pushes. Pushes can arrive far faster than the
// screen refreshes (64 clients, 4096 page rows per snapshot), so they are buffered and
// applied at most once per animation frame: the latest snapshot wins, events are
// appended in one batch, and views re-render once.
import { useSyncExternalStore } from 'react';
import type {
  ClusterEvent,
  ClusterSnapshot,
  ScenarioProgress,
  ScenarioResult,
  ServerPush,
} from '../../../nodes/control/api.js';
import type { ConnectionStatus } from '../api/connection.js';
import { TraceWindow } from '../messages/model.js';
import { share } from './share.js';

export const MAX_EVENTS = 5000;

export interface ScenarioState {
  running: boolean;
  progress: ScenarioProgress | null;
  /** Overall progress 0..1 of the current run; never moves backwards within a run. */
  fraction: number;
  results: ScenarioResult[] | null;
  csv: string | null;
  linearizable: boolean | null;
  /** Every history passed its protocol's check (linearizable for IVY, sequential for write-update). */
  consistent: boolean | null;
  /** When the last result arrived (ms), to tell a fresh result from an old one. */
  finishedAt: number | null;
  error: string | null;
}

export interface Notice {
  id: number;
  level: 'info' | 'error';
  text: string;
}

export interface UiState {
  /** Outcomes of the user's own commands (errors stay until dismissed). */
  notices: Notice[];
  snapshot: ClusterSnapshot | null;
  /** Newest last, at most MAX_EVENTS. */
  events: ClusterEvent[];
  scenario: ScenarioState;
  connection: ConnectionStatus;
}

type Listener = () => void;

const initialScenario: ScenarioState = {
  running: false,
  progress: null,
  fraction: 0,
  results: null,
  csv: null,
  linearizable: null,
  consistent: null,
  finishedAt: null,
  error: null,
};

export interface FrameScheduler {
  request(cb: () => void): void;
}

const rafScheduler: FrameScheduler = {
  request(cb) {
    // Hidden windows get no animation frames; fall back to a timer there so the
    // buffer never grows without bound and a background tab stays current.
    if (typeof document !== 'undefined' && document.hidden) setTimeout(cb, 250);
    else requestAnimationFrame(() => cb());
  },
};

export class ClusterStore {
  private state: UiState;
  private readonly listeners = new Set<Listener>();
  private scheduled = false;
  private pendingSnapshot: ClusterSnapshot | null = null;
  private pendingEvents: ClusterEvent[] = [];
  private pendingScenario: Partial<ScenarioState> | null = null;
  private lastSeq = -1;
  /** Views on screen that show page tables (see keepPageTables). */
  private pageTableViews = 0;
  /** Traced frames (Messages view): kept apart from UiState, so a busy trace re-renders nothing else. */
  readonly traces = new TraceWindow();

  constructor(
    connection: ConnectionStatus,
    private readonly scheduler: FrameScheduler = rafScheduler,
  ) {
    this.state = { notices: [], snapshot: null, events: [], scenario: initialScenario, connection };
  }

  getState = (): UiState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Feed one push from the engine. Cheap: nothing renders until the next frame. */
  push = (p: ServerPush): void => {
    switch (p.type) {
      case 'trace':
        this.traces.add(p.records, p.skipped, p.cluster);
        return;
      case 'snapshot': {
        // seq is monotonic within one engine; a reconnect resets it (see setConnection).
        if (p.snapshot.seq <= this.lastSeq) return;
        this.lastSeq = p.snapshot.seq;
        this.pendingSnapshot = p.snapshot;
        break;
      }
      case 'event':
        this.pendingEvents.push(p.event);
        if (this.pendingEvents.length > MAX_EVENTS) this.pendingEvents.splice(0, this.pendingEvents.length - MAX_EVENTS);
        break;
      case 'scenarioProgress': {
        const prev = this.pendingScenario?.fraction ?? this.state.scenario.fraction;
        const f = progressFraction(p.progress);
        this.pendingScenario = {
          ...this.pendingScenario,
          running: true,
          progress: p.progress,
          fraction: Math.max(prev, f),
          error: null,
        };
        break;
      }
      case 'scenarioResult':
        this.pendingScenario = {
          ...this.pendingScenario,
          running: false,
          fraction: 1,
          results: p.results,
          csv: p.csv,
          linearizable: p.linearizable,
          consistent: p.consistent ?? p.linearizable,
          finishedAt: Date.now(),
        };
        break;
    }
    this.schedule();
  };

  /** Local changes (user actions, connection state) apply immediately. */
  setScenario(patch: Partial<ScenarioState>): void {
    this.flushNow();
    this.state = { ...this.state, scenario: { ...this.state.scenario, ...patch } };
    this.emit();
  }

  setConnection(connection: ConnectionStatus): void {
    if (connection.state === 'open') this.lastSeq = -1;
    this.state = { ...this.state, connection };
    this.emit();
  }

  /**
   * A view that shows page tables holds this while open; returns the release. With no
   * such view, the page tables a snapshot still carries (the engine's lease outlives the
   * view by up to PAGE_TABLES_LEASE_MS) are dropped before they are shared and stored:
   * 8,192 rows at 128 clients, most of the store's work per snapshot, for no one.
   */
  keepPageTables(): () => void {
    this.pageTableViews++;
    let held = true;
    return () => {
      if (held) this.pageTableViews--;
      held = false;
    };
  }

  private noticeId = 0;

  notify(level: Notice['level'], text: string): number {
    const id = ++this.noticeId;
    const notices = [...this.state.notices, { id, level, text }].slice(-5);
    this.state = { ...this.state, notices };
    this.emit();
    return id;
  }

  dismiss(id: number): void {
    this.state = { ...this.state, notices: this.state.notices.filter((n) => n.id !== id) };
    this.emit();
  }

  clearEvents(): void {
    this.pendingEvents = [];
    this.state = { ...this.state, events: [] };
    this.emit();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.scheduler.request(() => this.flushNow());
  }

  private flushNow(): void {
    this.scheduled = false;
    const snap = this.pendingSnapshot;
    const events = this.pendingEvents;
    const scen = this.pendingScenario;
    if (!snap && events.length === 0 && !scen) return;
    this.pendingSnapshot = null;
    this.pendingEvents = [];
    this.pendingScenario = null;
    let next = this.state;
    // Unchanged parts keep their references, so memoised rows and views skip them.
    if (snap) next = { ...next, snapshot: share(next.snapshot, this.pageTableViews > 0 ? snap : withoutPageTables(snap)) };
    if (events.length > 0) {
      const merged = next.events.concat(events);
      next = { ...next, events: merged.length > MAX_EVENTS ? merged.slice(merged.length - MAX_EVENTS) : merged };
    }
    if (scen) next = { ...next, scenario: { ...next.scenario, ...scen } };
    this.state = next;
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

function withoutPageTables(snap: ClusterSnapshot): ClusterSnapshot {
  if (snap.pageTables === undefined) return snap;
  const { pageTables: _unused, ...rest } = snap;
  return rest;
}

/**
 * Overall fraction done: scenario `index` (0-based) of `of`, `trial` (1-based, 0
 * before the first) of `trials`, and `round` of `rounds` within the trial when given.
 */
export function progressFraction(p: ScenarioProgress): number {
  const of = Math.max(1, p.of);
  const trials = Math.max(1, p.trials);
  let inTrial = 0;
  if (p.round != null && p.rounds != null && p.rounds > 0) inTrial = Math.min(1, Math.max(0, (p.round - 1) / p.rounds));
  const inScenario = p.trial > 0 ? Math.min(1, (p.trial - 1 + inTrial) / trials) : 0;
  const f = (Math.max(0, p.index) + inScenario) / of;
  return Math.min(1, Math.max(0, f));
}

/** Subscribe a component to one slice; the selector must return a stored reference. */
export function useStore<T>(store: ClusterStore, select: (s: UiState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}
