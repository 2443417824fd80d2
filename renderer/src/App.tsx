// The shell: a header with cluster and connection status, a keyboard-friendly
// sidebar of views (arrow keys in the list, Alt+1…9 and Alt+0 for the tenth anywhere), and notices.
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useApp } from './state/context.js';
import { useStore } from './state/store.js';
import { ClusterView } from './views/ClusterView.js';
import { ClientsView } from './views/ClientsView.js';
import { RecordsView } from './views/RecordsView.js';
import { PagesView } from './views/PagesView.js';
import { LatencyView } from './views/LatencyView.js';
import { ScenariosView } from './views/ScenariosView.js';
import { EventsView } from './views/EventsView.js';
import { CoherenceView } from './views/CoherenceView.js';
import { OrderView } from './views/OrderView.js';
import { MessagesView } from './views/MessagesView.js';
import { NetworkView } from './views/NetworkView.js';

export const VIEWS = [
  { id: 'cluster', label: 'Cluster', render: () => <ClusterView /> },
  { id: 'clients', label: 'Clients', render: () => <ClientsView /> },
  { id: 'records', label: 'Records', render: () => <RecordsView /> },
  { id: 'pages', label: 'Page caches', render: () => <PagesView /> },
  { id: 'latency', label: 'Latency', render: () => <LatencyView /> },
  { id: 'scenarios', label: 'Scenarios', render: () => <ScenariosView /> },
  { id: 'events', label: 'Event log', render: () => <EventsView /> },
  { id: 'coherence', label: 'Coherence map', render: () => <CoherenceView /> },
  // Write-update only; appended so the earlier views keep their shortcuts.
  { id: 'order', label: 'Total order', render: () => <OrderView /> },
  // Alt+0: the tenth.
  { id: 'messages', label: 'Messages', render: () => <MessagesView /> },
  // Alt+N (no digit left): the network nemesis.
  { id: 'network', label: 'Network', render: () => <NetworkView /> },
] as const;

type ViewId = (typeof VIEWS)[number]['id'];

function viewFromHash(): ViewId {
  const h = window.location.hash.replace(/^#\/?/, '');
  return (VIEWS.find((v) => v.id === h)?.id ?? 'cluster') as ViewId;
}

/** Views past the tenth get a letter (Alt+letter). */
const LETTER_SHORTCUTS: Readonly<Record<string, string>> = { network: 'N' };

/** Alt+1…9 pick views 1–9 and Alt+0 the tenth; later views a letter, or no shortcut (''). */
function shortcutDigit(i: number): string {
  return i < 9 ? String(i + 1) : i === 9 ? '0' : (LETTER_SHORTCUTS[VIEWS[i]?.id ?? ''] ?? '');
}

/**
 * The view index for an Alt+digit press, or -1. Reads the physical key (e.code) first:
 * on macOS Option+digit types a symbol (Option+8 is •), so e.key is no digit there.
 */
function shortcutIndex(e: globalThis.KeyboardEvent): number {
  const letter = /^Key([A-Z])$/.exec(e.code)?.[1];
  if (letter !== undefined) {
    // Option+letter types characters on macOS (Option+N, then n: ñ): never steal it from a text box.
    const t = e.target as HTMLElement | null;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return -1;
    const id = Object.entries(LETTER_SHORTCUTS).find(([, l]) => l === letter)?.[0];
    return id === undefined ? -1 : VIEWS.findIndex((v) => v.id === id);
  }
  const digit = /^(?:Digit|Numpad)(\d)$/.exec(e.code)?.[1] ?? (/^\d$/.test(e.key) ? e.key : undefined);
  if (digit === undefined) return -1;
  return digit === '0' ? 9 : Number(digit) - 1;
}

export function App() {
  const [view, setView] = useState<ViewId>(viewFromHash);
  const tabRefs = useRef(new Map<string, HTMLButtonElement>());

  const select = useCallback((id: ViewId, focus = false) => {
    setView(id);
    if (window.location.hash !== `#${id}`) history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${id}`);
    if (focus) tabRefs.current.get(id)?.focus();
  }, []);

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const v = VIEWS[shortcutIndex(e)];
      if (v) {
        e.preventDefault();
        select(v.id, true);
      }
    };
    window.addEventListener('hashchange', onHash);
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('keydown', onKey);
    };
  }, [select]);

  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = VIEWS.findIndex((v) => v.id === view);
    let next: number | null = null;
    if (e.key === 'ArrowDown' || e.key === 'ArrowRight') next = (i + 1) % VIEWS.length;
    else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') next = (i - 1 + VIEWS.length) % VIEWS.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = VIEWS.length - 1;
    const v = next == null ? undefined : VIEWS[next];
    if (v) {
      e.preventDefault();
      select(v.id, true);
    }
  };

  const current = VIEWS.find((v) => v.id === view) ?? VIEWS[0];

  return (
    <div className="app">
      <Header />
      <nav className="sidebar" aria-label="Views">
        <div role="tablist" aria-orientation="vertical" aria-label="Views" onKeyDown={onTabKey}>
          {VIEWS.map((v, i) => (
            <button
              key={v.id}
              ref={(el) => {
                if (el) tabRefs.current.set(v.id, el);
                else tabRefs.current.delete(v.id);
              }}
              type="button"
              role="tab"
              id={`tab-${v.id}`}
              aria-selected={v.id === view}
              aria-controls={`panel-${v.id}`}
              tabIndex={v.id === view ? 0 : -1}
              data-testid={`tab-${v.id}`}
              className="tab"
              onClick={() => select(v.id)}
              title={shortcutDigit(i) ? `Alt+${shortcutDigit(i)}` : undefined}
            >
              <span>{v.label}</span>
              <kbd aria-hidden="true">{shortcutDigit(i)}</kbd>
            </button>
          ))}
        </div>
      </nav>
      <main className="content" role="tabpanel" id={`panel-${current.id}`} aria-labelledby={`tab-${current.id}`} data-testid={`view-${current.id}`}>
        {current.render()}
      </main>
      <Notices />
    </div>
  );
}

function Header() {
  const { store, mode } = useApp();
  const connection = useStore(store, (s) => s.connection);
  const snapshot = useStore(store, (s) => s.snapshot);
  const scenarioRunning = useStore(store, (s) => s.scenario.running);
  const running = snapshot?.running ?? false;
  const nodes = snapshot?.nodes ?? [];
  const up = nodes.filter((n) => n.state === 'up').length;
  const problem = nodes.some((n) => n.state === 'down');
  return (
    <header className="topbar">
      <h1>
        <span className="logo" aria-hidden="true">
          ◆
        </span>{' '}
        Ivy Cluster
      </h1>
      <div className="status" aria-live="polite">
        <span className={`pill ${running ? (problem ? 'warn' : 'ok') : 'off'}`} data-testid="cluster-status" data-running={String(running)}>
          {running ? `running · ${up}/${nodes.length} up` : 'stopped'}
        </span>
        {scenarioRunning && <span className="pill busy">scenario running</span>}
        <span
          className={`pill ${connection.state === 'open' ? 'ok' : connection.state === 'connecting' ? 'busy' : 'bad'}`}
          data-testid="connection-status"
          data-state={connection.state}
          title={connection.message}
        >
          {mode === 'electron' ? 'desktop' : connection.state === 'open' ? 'connected' : connection.message}
        </span>
      </div>
    </header>
  );
}

function Notices() {
  const { store } = useApp();
  const notices = useStore(store, (s) => s.notices);
  useEffect(() => {
    // Information fades; errors stay until dismissed.
    const timers = notices.filter((n) => n.level === 'info').map((n) => setTimeout(() => store.dismiss(n.id), 5000));
    return () => timers.forEach(clearTimeout);
  }, [notices, store]);
  if (!notices.length) return null;
  return (
    <div className="notices" aria-live="assertive">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.level}`} role={n.level === 'error' ? 'alert' : 'status'} data-testid={n.level === 'error' ? 'command-error' : 'notice'}>
          <span>{n.text}</span>
          <button type="button" className="link" aria-label="Dismiss" onClick={() => store.dismiss(n.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
