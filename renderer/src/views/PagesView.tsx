// Client page caches. "All clients" flattens every page table (64 × 64 = 4096 rows),
// which the table paginates; one client shows its own table. In a write-update
// cluster every client holds a full replica: its rows show, per page, the
// total-order position of the write the replica holds (wpos), beside the client's
// last applied position (pos), instead of IVY's access rights and ownership.
import { useId, useMemo, useRef } from 'react';
import type { PageRow } from '../../../nodes/control/api.js';
import { AccessBadge } from '../components/Badge.js';
import { ClientPicker } from '../components/ClientPicker.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { compareNodeIds } from '../format.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore } from '../state/store.js';
import { useWatchPageTables } from '../state/watch-page-tables.js';

interface PageCacheRow extends PageRow {
  client: string;
  /** Write-update: the client's last applied total-order position. */
  appliedPos: number | null;
}

const ACCESS_ORDER = { none: 0, read: 1, write: 2 } as const;

export function PagesView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  useWatchPageTables();
  const [selected, setSelected] = usePersistentState<string>('pages:client', 'all');
  const [hideNone, setHideNone] = usePersistentState<boolean>('pages:hideNone', false);
  const hideId = useId();

  const tables = snapshot?.pageTables;
  const orders = snapshot?.orders;
  const isis = snapshot?.config?.protocol === 'isis';
  const clientIds = useMemo(() => Object.keys(tables ?? {}).sort(compareNodeIds), [tables]);
  const effective = selected === 'all' || clientIds.includes(selected) ? selected : 'all';

  // A table row per page row, reused while its page row (shared across snapshots when
  // unchanged) and the client's applied position stay the same, so the table's rows
  // re-render only where a page changed.
  const derived = useRef(new WeakMap<PageRow, PageCacheRow>());
  const rows = useMemo(() => {
    const out: PageCacheRow[] = [];
    if (!tables) return out;
    const cache = derived.current;
    const ids = effective === 'all' ? clientIds : [effective];
    for (const client of ids) {
      const appliedPos = orders?.[client]?.pos ?? null;
      for (const r of tables[client] ?? []) {
        if (!isis && hideNone && r.access === 'none' && !r.pending) continue;
        let row = cache.get(r);
        if (row?.client !== client || row.appliedPos !== appliedPos) {
          row = { ...r, client, appliedPos };
          cache.set(r, row);
        }
        out.push(row);
      }
    }
    return out;
  }, [tables, orders, isis, clientIds, effective, hideNone]);

  const columns = useColumns<PageCacheRow>(() => {
    const h = columnHelper<PageCacheRow>();
    if (isis) {
      return h.columns([
        h.accessor('client', { header: 'Client', sortFn: (a, b) => compareNodeIds(a.original.client, b.original.client) }),
        h.accessor('page', { header: 'Page', meta: { numeric: true } }),
        h.accessor((r) => r.wpos ?? -1, {
          id: 'wpos',
          header: () => <span title="Total-order position of the write whose value this replica holds (0: never written)">Write pos</span>,
          meta: { numeric: true },
          cell: (c) => <span data-testid={`page-wpos-${c.row.original.client}-${c.row.original.page}`}>{c.row.original.wpos ?? '–'}</span>,
        }),
        h.accessor((r) => r.appliedPos ?? -1, {
          id: 'appliedPos',
          header: () => <span title="The client's last applied total-order position">Applied pos</span>,
          meta: { numeric: true },
          cell: (c) => c.row.original.appliedPos ?? '–',
        }),
        h.accessor('preview', { header: 'Preview', meta: { className: 'mono preview' } }),
        h.accessor((r) => r.token ?? '', { id: 'token', header: 'Token', meta: { className: 'mono' }, cell: (c) => c.getValue() || '–' }),
      ]);
    }
    return h.columns([
      h.accessor('client', { header: 'Client', sortFn: (a, b) => compareNodeIds(a.original.client, b.original.client) }),
      h.accessor('page', { header: 'Page', meta: { numeric: true } }),
      h.accessor('access', {
        header: 'Access',
        sortFn: (a, b) => ACCESS_ORDER[a.original.access] - ACCESS_ORDER[b.original.access],
        cell: (c) => <AccessBadge access={c.getValue()} />,
      }),
      h.accessor((r) => (r.owner ? 'owner' : ''), { id: 'owner', header: 'Owner', cell: (c) => (c.getValue() ? '★ owner' : '') }),
      h.accessor('version', { header: 'Version', meta: { numeric: true } }),
      h.accessor((r) => r.pending ?? '', {
        id: 'pending',
        header: 'Pending',
        cell: (c) => (c.getValue() ? <span className="busy-text">{c.getValue()} fault</span> : ''),
      }),
      h.accessor('preview', { header: 'Preview', meta: { className: 'mono preview' } }),
      h.accessor((r) => r.token ?? '', { id: 'token', header: 'Token', meta: { className: 'mono' }, cell: (c) => c.getValue() || '–' }),
    ]);
  }, [isis]);

  return (
    <section className="card grow" aria-labelledby="pages-title">
      <h2 id="pages-title">{isis ? 'Client replicas' : 'Client page caches'}</h2>
      {isis && (
        <p className="muted small" data-testid="pages-isis-note">
          Write-update: every client holds every page. Write pos is the total-order position of the write a replica holds; applied pos is
          how far the client has delivered the total order. Two clients with the same applied pos hold identical replicas.
        </p>
      )}
      {snapshot?.running && !tables && (
        <p className="muted small" data-testid="pages-loading">
          Asking the cluster for every client&apos;s page table…
        </p>
      )}
      <div className="inline-controls">
        <ClientPicker clientIds={clientIds} value={effective} onChange={setSelected} testId="pages-client" />
        {!isis && (
          <>
            <input id={hideId} type="checkbox" checked={hideNone} onChange={(e) => setHideNone(e.target.checked)} />
            <label htmlFor={hideId}>Hide pages with no access</label>
          </>
        )}
      </div>
      <DataTable
        label={isis ? 'Replicas' : 'Page caches'}
        testId="pages-table"
        data={rows}
        columns={columns}
        getRowId={(r) => `${r.client}:${r.page}`}
        rowTestId={(r) => `page-row-${r.client}-${r.page}`}
        rowClassName={(r) => (r.pending ? 'row-busy' : undefined)}
        initialSorting={[]}
        pageSize={100}
        emptyText="No page tables: start a cluster on the Cluster tab."
      />
    </section>
  );
}
