import { useMemo } from 'react';
import type { ClientStats } from '../../../nodes/control/api.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { compareNodeIds, fmtInt, fmtUs } from '../format.js';
import { useApp } from '../state/context.js';
import { useStore } from '../state/store.js';

export function ClientsView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const clients = useMemo(() => snapshot?.clients ?? [], [snapshot]);

  const columns = useColumns<ClientStats>(() => {
    const h = columnHelper<ClientStats>();
    const us = (get: (c: ClientStats) => number, id: string, header: string) =>
      h.accessor(get, { id, header, meta: { numeric: true }, enableGlobalFilter: false, cell: (c) => fmtUs(c.getValue()) });
    return h.columns([
      h.accessor('id', {
        header: 'Client',
        sortFn: (a, b) => compareNodeIds(a.original.id, b.original.id),
        cell: (c) => <strong>{c.getValue()}</strong>,
      }),
      h.accessor('ops', { header: 'Ops', meta: { numeric: true }, cell: (c) => fmtInt(c.getValue()) }),
      h.accessor('hits', { header: 'Hits', meta: { numeric: true }, cell: (c) => fmtInt(c.getValue()) }),
      h.accessor('faults', { header: 'Faults', meta: { numeric: true }, cell: (c) => fmtInt(c.getValue()) }),
      h.accessor('failed', {
        header: 'Failed',
        meta: { numeric: true },
        cell: (c) => <span className={c.getValue() > 0 ? 'error-text' : undefined}>{fmtInt(c.getValue())}</span>,
      }),
      us((c) => c.read.p50Us, 'readP50', 'Read p50'),
      us((c) => c.read.p99Us, 'readP99', 'Read p99'),
      us((c) => c.write.p50Us, 'writeP50', 'Write p50'),
      us((c) => c.write.p99Us, 'writeP99', 'Write p99'),
      us((c) => Math.max(c.read.maxUs, c.write.maxUs), 'max', 'Max'),
    ]);
  });

  const totals = useMemo(() => {
    let ops = 0,
      hits = 0,
      faults = 0,
      failed = 0;
    for (const c of clients) {
      ops += c.ops;
      hits += c.hits;
      faults += c.faults;
      failed += c.failed;
    }
    return { ops, hits, faults, failed };
  }, [clients]);

  return (
    <section className="card grow" aria-labelledby="clients-title">
      <h2 id="clients-title">Clients</h2>
      <p className="muted summary" data-testid="clients-summary">
        {clients.length} clients · {fmtInt(totals.ops)} ops · {fmtInt(totals.hits)} hits · {fmtInt(totals.faults)} faults ·{' '}
        <span className={totals.failed > 0 ? 'error-text' : undefined}>{fmtInt(totals.failed)} failed</span>
        {totals.ops > 0 ? ` · hit rate ${((100 * totals.hits) / totals.ops).toFixed(1)}%` : ''}
      </p>
      <DataTable
        label="Clients"
        testId="clients-table"
        data={clients}
        columns={columns}
        getRowId={(c) => c.id}
        rowTestId={(c) => `client-row-${c.id}`}
        initialSorting={[{ id: 'id', desc: false }]}
        emptyText="No clients: start a cluster on the Cluster tab."
      />
    </section>
  );
}
