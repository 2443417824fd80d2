// The Total order panel (write-update clusters): per client, its membership view and
// delivered position, and its pending ISIS queue — each message with the priority
// this client proposed, the agreed one once the sender decided it, and whether it is
// deliverable (agreed and at the head of the queue). A queue that stays non-empty
// with nothing deliverable is a stuck total order, visible at once.
import { useMemo } from 'react';
import type { MemberOrderView, OrderPriority, OrderQueueEntry } from '../../../nodes/control/api.js';
import { ClientPicker } from '../components/ClientPicker.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { compareNodeIds } from '../format.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore } from '../state/store.js';

interface MemberRow extends MemberOrderView {
  client: string;
}

interface QueueRow extends OrderQueueEntry {
  client: string;
  /** Place in this client's queue (1 = head). */
  place: number;
}

export const fmtPrio = (p: OrderPriority | null): string => (p ? `${p[0]}.${p[1]}` : '–');
const prioKey = (p: OrderPriority | null): number => (p ? p[0] * 10_000 + p[1] : -1);

export function OrderView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const [selected, setSelected] = usePersistentState<string>('order:client', 'all');
  const isis = snapshot?.config?.protocol === 'isis';
  const orders = snapshot?.orders;
  const clientIds = useMemo(() => Object.keys(orders ?? {}).sort(compareNodeIds), [orders]);
  const effective = selected === 'all' || clientIds.includes(selected) ? selected : 'all';

  const members = useMemo<MemberRow[]>(() => clientIds.map((client) => ({ ...orders![client]!, client })), [orders, clientIds]);
  const queue = useMemo<QueueRow[]>(() => {
    const out: QueueRow[] = [];
    for (const client of effective === 'all' ? clientIds : [effective]) {
      (orders?.[client]?.queue ?? []).forEach((q, i) => out.push({ ...q, client, place: i + 1 }));
    }
    return out;
  }, [orders, clientIds, effective]);

  const memberColumns = useColumns<MemberRow>(() => {
    const h = columnHelper<MemberRow>();
    return h.columns([
      h.accessor('client', { header: 'Client', sortFn: (a, b) => compareNodeIds(a.original.client, b.original.client) }),
      h.accessor('view', { header: 'View', meta: { numeric: true }, cell: (c) => <span data-testid={`order-view-${c.row.original.client}`}>{c.getValue()}</span> }),
      h.accessor((m) => m.preparing ?? -1, { id: 'preparing', header: 'Preparing', meta: { numeric: true }, cell: (c) => c.row.original.preparing ?? '–' }),
      h.accessor('pos', {
        header: () => <span title="Writes delivered so far: the client's last applied total-order position">Delivered pos</span>,
        meta: { numeric: true },
        cell: (c) => <span data-testid={`order-pos-${c.row.original.client}`}>{c.getValue()}</span>,
      }),
      h.accessor((m) => m.queue.length, { id: 'pending', header: 'Pending', meta: { numeric: true } }),
      h.accessor((m) => m.members.length, { id: 'members', header: 'Members in view', meta: { numeric: true } }),
      h.accessor((m) => (m.hasState ? 'yes' : 'awaiting transfer'), {
        id: 'state',
        header: 'State',
        cell: (c) => (c.row.original.hasState ? 'replica' : <span className="busy-text">awaiting state transfer</span>),
      }),
    ]);
  });

  const queueColumns = useColumns<QueueRow>(() => {
    const h = columnHelper<QueueRow>();
    return h.columns([
      h.accessor('client', { header: 'Client', sortFn: (a, b) => compareNodeIds(a.original.client, b.original.client) }),
      h.accessor('place', { header: '#', meta: { numeric: true } }),
      h.accessor((q) => `${q.sender}#${q.seq}`, { id: 'message', header: 'Message (sender#seq)', meta: { className: 'mono' } }),
      h.accessor('page', { header: 'Page', meta: { numeric: true } }),
      h.accessor((q) => prioKey(q.proposed), { id: 'proposed', header: 'Proposed', meta: { numeric: true, className: 'mono' }, cell: (c) => fmtPrio(c.row.original.proposed) }),
      h.accessor((q) => prioKey(q.agreed), {
        id: 'agreed',
        header: 'Agreed',
        meta: { numeric: true, className: 'mono' },
        cell: (c) => (c.row.original.agreed ? fmtPrio(c.row.original.agreed) : <span className="muted">not yet</span>),
      }),
      h.accessor((q) => (q.deliverable ? 'deliverable' : q.agreed ? 'agreed, waiting for the head' : 'undeliverable'), {
        id: 'status',
        header: 'Status',
        cell: (c) =>
          c.row.original.deliverable ? <span className="ok-text">deliverable</span> : <span className={c.row.original.agreed ? 'muted' : 'busy-text'}>{c.getValue()}</span>,
      }),
    ]);
  });

  if (!isis) {
    return (
      <section className="card grow" aria-labelledby="order-title">
        <h2 id="order-title">Total order</h2>
        <p className="muted" data-testid="order-not-isis">
          {snapshot?.running
            ? 'This cluster runs IVY (central manager): there is no total order of writes. Start a write-update cluster to see the ISIS queues.'
            : 'No write-update cluster: start one on the Cluster tab (Protocol: Write-update).'}
        </p>
      </section>
    );
  }

  return (
    <div className="view-stack">
      <section className="card" aria-labelledby="order-title">
        <h2 id="order-title">Total order</h2>
        <p className="muted small">
          Every write is multicast to the view; each member proposes a priority (counter.member) and the sender agrees on the maximum. A member
          delivers from the head of its queue once the head is agreed, so every member delivers the same sequence.
        </p>
        <DataTable
          label="Total order members"
          testId="order-members"
          data={members}
          columns={memberColumns}
          getRowId={(m) => m.client}
          rowTestId={(m) => `order-row-${m.client}`}
          initialSorting={[{ id: 'client', desc: false }]}
          emptyText="No member has reported yet."
        />
      </section>
      <section className="card grow" aria-labelledby="queue-title">
        <h2 id="queue-title">Pending ISIS queues</h2>
        <div className="inline-controls">
          <ClientPicker clientIds={clientIds} value={effective} onChange={setSelected} testId="order-client" />
        </div>
        <DataTable
          label="Pending ISIS queue"
          testId="order-queue"
          data={queue}
          columns={queueColumns}
          getRowId={(q) => `${q.client}:${q.sender}:${q.seq}`}
          rowClassName={(q) => (q.deliverable ? 'row-ok' : q.agreed ? undefined : 'row-busy')}
          initialSorting={[]}
          pageSize={200}
          emptyText="No pending messages: every write multicast so far has been delivered."
        />
      </section>
    </div>
  );
}
