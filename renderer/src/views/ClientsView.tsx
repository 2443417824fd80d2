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
  // Write-update: a hit is a local read and a fault a total-order write; only writes are timed (reads need no message).
  const isis = snapshot?.config?.protocol === 'isis';

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
      h.accessor('hits', { header: isis ? 'Local reads' : 'Hits', meta: { numeric: true }, cell: (c) => fmtInt(c.getValue()) }),
      h.accessor('faults', { header: isis ? 'Writes' : 'Faults', meta: { numeric: true }, cell: (c) => fmtInt(c.getValue()) }),
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
  }, [isis]);

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
        {clients.length} clients · {fmtInt(totals.ops)} ops · {fmtInt(totals.hits)} {isis ? 'local reads' : 'hits'} · {fmtInt(totals.faults)}{' '}
        {isis ? 'writes' : 'faults'} ·{' '}
        <span className={totals.failed > 0 ? 'error-text' : undefined}>{fmtInt(totals.failed)} failed</span>
        {totals.ops > 0 && !isis ? ` · hit rate ${((100 * totals.hits) / totals.ops).toFixed(1)}%` : ''}
      </p>
      {isis && (
        <p className="muted small" data-testid="clients-isis-note">
          Write-update: every read is local (no message, not timed here); latency columns are of writes, each one ISIS total-order multicast.
        </p>
      )}
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
