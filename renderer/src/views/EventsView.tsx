import { useId, useMemo } from 'react';
import type { ClusterEvent } from '../../../nodes/control/api.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { fmtClock } from '../format.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore } from '../state/store.js';

interface EventRow extends ClusterEvent {
  seq: number;
}

const LEVEL_ORDER = { info: 0, warn: 1, error: 2 } as const;

export function EventsView() {
  const { store } = useApp();
  const events = useStore(store, (s) => s.events);
  const [level, setLevel] = usePersistentState<'all' | 'info' | 'warn' | 'error'>('events:level', 'all');
  const [kind, setKind] = usePersistentState<string>('events:kind', '');
  const [node, setNode] = usePersistentState<string>('events:node', '');
  const levelId = useId();
  const kindId = useId();
  const nodeId = useId();
  const kindsId = useId();

  const kinds = useMemo(() => [...new Set(events.map((e) => e.kind))].sort(), [events]);

  const rows = useMemo(() => {
    const k = kind.trim().toLowerCase();
    const n = node.trim().toLowerCase();
    const minLevel = level === 'all' ? 0 : LEVEL_ORDER[level];
    const out: EventRow[] = [];
    events.forEach((e, i) => {
      if (LEVEL_ORDER[e.level] < minLevel) return;
      if (k && !e.kind.toLowerCase().includes(k)) return;
      if (n && !(e.node ?? '').toLowerCase().includes(n)) return;
      out.push({ ...e, seq: i });
    });
    return out;
  }, [events, level, kind, node]);

  const columns = useColumns<EventRow>(() => {
    const h = columnHelper<EventRow>();
    return h.columns([
      h.accessor('t', {
        header: 'Time',
        enableGlobalFilter: false,
        sortFn: (a, b) => a.original.t - b.original.t || a.original.seq - b.original.seq, meta: { className: 'mono nowrap' }, cell: (c) => fmtClock(c.getValue()) }),
      h.accessor('level', {
        header: 'Level',
        sortFn: (a, b) => LEVEL_ORDER[a.original.level] - LEVEL_ORDER[b.original.level],
        cell: (c) => <span className={`badge level-${c.getValue()}`}>{c.getValue()}</span>,
      }),
      h.accessor('kind', { header: 'Kind' }),
      h.accessor((e) => e.node ?? '', { id: 'node', header: 'Node', cell: (c) => c.getValue() || '–' }),
      h.accessor('message', { header: 'Message', meta: { className: 'wrap' } }),
    ]);
  });

  return (
    <section className="card grow" aria-labelledby="events-title">
      <h2 id="events-title">Event log</h2>
      <div className="inline-controls">
        <label htmlFor={levelId}>Level</label>
        <select id={levelId} value={level} onChange={(e) => setLevel(e.target.value as typeof level)} data-testid="events-level">
          <option value="all">all</option>
          <option value="info">info and above</option>
          <option value="warn">warn and above</option>
          <option value="error">error</option>
        </select>
        <label htmlFor={kindId}>Kind</label>
        <input id={kindId} type="search" list={kindsId} value={kind} onChange={(e) => setKind(e.target.value)} placeholder="e.g. failover" data-testid="events-kind" />
        <datalist id={kindsId}>
          {kinds.map((k) => (
            <option key={k} value={k} />
          ))}
        </datalist>
        <label htmlFor={nodeId}>Node</label>
        <input id={nodeId} type="search" value={node} onChange={(e) => setNode(e.target.value)} placeholder="e.g. m0" data-testid="events-node" />
        <button type="button" onClick={() => store.clearEvents()}>
          Clear
        </button>
      </div>
      <DataTable
        label="Events"
        testId="events-table"
        data={rows}
        columns={columns}
        getRowId={(e) => String(e.seq)}
        rowClassName={(e) => `event-${e.level}`}
        initialSorting={[{ id: 't', desc: true }]}
        pageSize={200}
        filterPlaceholder="Search messages…"
        emptyText="No events yet."
      />
    </section>
  );
}
