// Client page caches. "All clients" flattens every page table (64 × 64 = 4096 rows),
// which the table paginates; one client shows its own table.
import { useId, useMemo } from 'react';
import type { PageRow } from '../../../nodes/control/api.js';
import { AccessBadge } from '../components/Badge.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { compareNodeIds } from '../format.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore } from '../state/store.js';

interface PageCacheRow extends PageRow {
  client: string;
}

const ACCESS_ORDER = { none: 0, read: 1, write: 2 } as const;

export function PagesView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const [selected, setSelected] = usePersistentState<string>('pages:client', 'all');
  const [hideNone, setHideNone] = usePersistentState<boolean>('pages:hideNone', false);
  const selectId = useId();
  const hideId = useId();

  const tables = snapshot?.pageTables;
  const clientIds = useMemo(() => Object.keys(tables ?? {}).sort(compareNodeIds), [tables]);
  const effective = selected === 'all' || clientIds.includes(selected) ? selected : 'all';

  const rows = useMemo(() => {
    const out: PageCacheRow[] = [];
    if (!tables) return out;
    const ids = effective === 'all' ? clientIds : [effective];
    for (const client of ids) {
      for (const r of tables[client] ?? []) {
        if (hideNone && r.access === 'none' && !r.pending) continue;
        out.push({ ...r, client });
      }
    }
    return out;
  }, [tables, clientIds, effective, hideNone]);

  const columns = useColumns<PageCacheRow>(() => {
    const h = columnHelper<PageCacheRow>();
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
  });

  return (
    <section className="card grow" aria-labelledby="pages-title">
      <h2 id="pages-title">Client page caches</h2>
      <div className="inline-controls">
        <label htmlFor={selectId}>Client</label>
        <select id={selectId} value={effective} onChange={(e) => setSelected(e.target.value)} data-testid="pages-client">
          <option value="all">All clients</option>
          {clientIds.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
        <input id={hideId} type="checkbox" checked={hideNone} onChange={(e) => setHideNone(e.target.checked)} />
        <label htmlFor={hideId}>Hide pages with no access</label>
      </div>
      <DataTable
        label="Page caches"
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
