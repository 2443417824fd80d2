// The managers' record caches, primary and backup side by side. A row that differs
// from the other manager's record for the same page is marked, so a lagging or
// diverged backup is visible at a glance. A write-update cluster keeps no page
// records (every client holds every page): its registries' membership views are
// shown instead — view number, members, and any view change under way.
import { useMemo } from 'react';
import type { MembershipView, NodeInfo } from '../../../nodes/control/api.js';
import type { RecordView } from '../../../nodes/core/types.js';
import { RoleBadge, StateBadge } from '../components/Badge.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { compareNodeIds } from '../format.js';
import { useApp } from '../state/context.js';
import { useStore } from '../state/store.js';

interface RecordRow extends RecordView {
  differs: boolean;
}

function signature(r: RecordView): string {
  return `${r.owner ?? '-'}|${[...r.copyset].sort().join(',')}|${r.version}`;
}

function describeActive(a: RecordView['active']): string {
  if (!a) return '';
  return `${a.kind} ${a.requester}#${a.req} (${a.phase})`;
}

function describeQueue(q: RecordView['queue']): string {
  return q.map((e) => `${e.kind[0]}:${e.requester}#${e.req}`).join(' ');
}

const EMPTY: RecordView[] = [];

export function RecordsView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  if (snapshot?.config?.protocol === 'isis') return <MembershipViews />;
  return <IvyRecords />;
}

function IvyRecords() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const managers = useMemo(() => {
    const ids = new Set<string>(Object.keys(snapshot?.records ?? {}));
    for (const n of snapshot?.nodes ?? []) if (n.role !== 'client') ids.add(n.id);
    return [...ids].sort(compareNodeIds);
  }, [snapshot]);

  const rowsById = useMemo(() => {
    const out = new Map<string, RecordRow[]>();
    const records = snapshot?.records ?? {};
    const sigs = new Map<string, Map<number, string>>();
    for (const id of managers) {
      const m = new Map<number, string>();
      for (const r of records[id] ?? EMPTY) m.set(r.page, signature(r));
      sigs.set(id, m);
    }
    for (const id of managers) {
      const others = managers.filter((o) => o !== id && (records[o]?.length ?? 0) > 0);
      out.set(
        id,
        (records[id] ?? EMPTY).map((r) => {
          const sig = signature(r);
          const differs = others.some((o) => sigs.get(o)?.get(r.page) !== sig);
          return { ...r, differs };
        }),
      );
    }
    return out;
  }, [snapshot, managers]);

  const nodes = snapshot?.nodes ?? [];

  return (
    <section className="card grow" aria-labelledby="records-title">
      <h2 id="records-title">Manager record caches</h2>
      {managers.length === 0 ? (
        <p className="muted">No managers: start a cluster on the Cluster tab.</p>
      ) : (
        <div className="side-by-side">
          {managers.map((id) => (
            <ManagerRecords key={id} id={id} node={nodes.find((n) => n.id === id)} rows={rowsById.get(id) ?? []} />
          ))}
        </div>
      )}
    </section>
  );
}

function ManagerRecords({ id, node, rows }: { id: string; node: NodeInfo | undefined; rows: RecordRow[] }) {
  const columns = useColumns<RecordRow>(() => {
    const h = columnHelper<RecordRow>();
    return h.columns([
      h.accessor('page', { header: 'Page', meta: { numeric: true } }),
      // A page whose only holder is down shows who has it (recoverable memory: back when it reboots) or that it died with it.
      h.accessor((r) => r.owner ?? (r.heldBy ? `held by ${r.heldBy} (down)` : r.lostWith ? `lost with ${r.lostWith}` : ''), {
        id: 'owner',
        header: 'Owner',
        cell: (c) => {
          const v = c.getValue();
          if (v.startsWith('held by')) return <span className="busy-text">{v}</span>;
          if (v.startsWith('lost with')) return <span className="error-text">{v}</span>;
          return v || '–';
        },
      }),
      h.accessor((r) => r.copyset.join(' '), {
        id: 'copyset',
        header: 'Copy set',
        meta: { className: 'wrap' },
        cell: (c) => c.getValue() || '–',
      }),
      h.accessor('version', { header: 'Version', meta: { numeric: true } }),
      h.accessor((r) => describeActive(r.active), {
        id: 'active',
        header: 'Active request',
        cell: (c) => (c.getValue() ? <span className="busy-text">{c.getValue()}</span> : '–'),
      }),
      h.accessor((r) => describeQueue(r.queue), {
        id: 'queue',
        header: 'Queue',
        meta: { className: 'wrap' },
        cell: (c) => (c.row.original.queue.length ? `${c.row.original.queue.length}: ${c.getValue()}` : '–'),
      }),
      h.accessor((r) => (r.differs ? 'differs' : ''), {
        id: 'differs',
        header: () => <span title="Differs from the other manager's record">≠</span>,
        cell: (c) =>
          c.row.original.differs ? (
            <span className="warn-text" title="Owner, copy set or version differs from the other manager">
              ≠
            </span>
          ) : (
            ''
          ),
      }),
    ]);
  });
  const diffCount = rows.filter((r) => r.differs).length;
  return (
    <div className="pane" data-testid={`records-${id}`}>
      <h3>
        {id} {node && <RoleBadge role={node.role} />} {node && <StateBadge state={node.state} />}{' '}
        {node && <span className="muted small">epoch {node.epoch}</span>}
        {diffCount > 0 && <span className="warn-text small"> · {diffCount} differ</span>}
      </h3>
      <DataTable
        label={`Records ${id}`}
        testId={`records-table-${id}`}
        data={rows}
        columns={columns}
        getRowId={(r) => String(r.page)}
        rowClassName={(r) => (r.active ? 'row-busy' : undefined)}
        initialSorting={[{ id: 'page', desc: false }]}
        pageSize={100}
        emptyText={node?.state === 'up' ? 'No records yet.' : `No records (${id} is ${node?.state ?? 'absent'}).`}
      />
    </div>
  );
}

type MemberRow = MembershipView['members'][number];

function MembershipViews() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const seats = useMemo(() => {
    const ids = new Set<string>(Object.keys(snapshot?.membership ?? {}));
    for (const n of snapshot?.nodes ?? []) if (n.role !== 'client') ids.add(n.id);
    return [...ids].sort(compareNodeIds);
  }, [snapshot]);
  const nodes = snapshot?.nodes ?? [];
  return (
    <section className="card grow" aria-labelledby="records-title">
      <h2 id="records-title">Registry membership views</h2>
      <p className="muted small">
        Write-update keeps no page records: every client holds every page. The registry (manager seat) tracks who is in the group; a crash, a
        join or a reboot makes it run a view change (flush the old view's messages, install the new one).
      </p>
      {seats.length === 0 ? (
        <p className="muted">No registry: start a write-update cluster on the Cluster tab.</p>
      ) : (
        <div className="side-by-side">
          {seats.map((id) => (
            <RegistryPane key={id} id={id} node={nodes.find((n) => n.id === id)} view={snapshot?.membership?.[id] ?? null} />
          ))}
        </div>
      )}
    </section>
  );
}

function RegistryPane({ id, node, view }: { id: string; node: NodeInfo | undefined; view: MembershipView | null }) {
  const columns = useColumns<MemberRow>(() => {
    const h = columnHelper<MemberRow>();
    return h.columns([
      h.accessor('id', { header: 'Member', sortFn: (a, b) => compareNodeIds(a.original.id, b.original.id) }),
      h.accessor('incarnation', { header: 'Incarnation', meta: { numeric: true } }),
      h.accessor((m) => m.pos ?? -1, {
        id: 'pos',
        header: 'Delivered pos',
        meta: { numeric: true },
        cell: (c) => (c.row.original.pos == null ? '–' : c.row.original.pos),
      }),
    ]);
  });
  const change = view?.change ?? null;
  return (
    <div className="pane" data-testid={`membership-${id}`}>
      <h3>
        {id} {node && <RoleBadge role={node.role} />} {node && <StateBadge state={node.state} />}{' '}
        {view && (
          <span className="muted small">
            view <strong data-testid={`membership-view-${id}`}>{view.view}</strong> · {view.members.length} members
          </span>
        )}
      </h3>
      <p className="small" data-testid={`membership-change-${id}`} data-changing={String(change !== null)}>
        {change ? (
          <span className="busy-text">
            View change to {change.view} ({change.phase}): members {change.members.join(' ') || '–'}
            {change.waitingFor.length > 0 ? ` · waiting for ${change.waitingFor.join(' ')}` : ''}
          </span>
        ) : view ? (
          <span className="muted">No view change in progress</span>
        ) : (
          <span className="muted">{node?.state === 'up' ? 'No membership view yet.' : `No view (${id} is ${node?.state ?? 'absent'}).`}</span>
        )}
      </p>
      <DataTable
        label={`Members ${id}`}
        testId={`membership-table-${id}`}
        data={view?.members ?? []}
        columns={columns}
        getRowId={(m) => m.id}
        rowTestId={(m) => `member-row-${id}-${m.id}`}
        initialSorting={[{ id: 'id', desc: false }]}
        emptyText="No members."
      />
    </div>
  );
}
