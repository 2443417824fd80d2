// Start / stop a cluster, drive a workload, and the nodes table with Kill / Stop /
// Reboot per row. This is the first view, so a freshly started cluster is visible at once.
import type { ClientMemory } from '../../../nodes/protocol/messages.js';
import { useMemo, useRef } from 'react';
import { ClusterConfigSchema, DEFAULT_CLIENT_MEMORY, PROTOCOL_LABELS, PROTOCOLS, type ClusterConfigInput, type NodeInfo, type Protocol, type WorkloadInput } from '../../../nodes/control/api.js';
import { RoleBadge, StateBadge } from '../components/Badge.js';
import { DataTable, columnHelper, useColumns } from '../components/DataTable.js';
import { CheckField, NumberField, SelectField } from '../components/Field.js';
import { HistoryActions } from '../components/HistoryActions.js';
import { Uptime } from '../components/Uptime.js';
import { compareNodeIds, fmtBytes, fmtInt } from '../format.js';
import { useCommand } from '../state/commands.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore } from '../state/store.js';

interface StartForm {
  protocol: Protocol;
  clients: number;
  pages: number;
  pageSize: number;
  backup: boolean;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  clientTimeoutMs: number;
  /** Absent in forms saved before the selector existed: the engine default (recoverable). */
  clientMemory?: ClientMemory;
}

const MEMORY_OPTIONS: { value: ClientMemory; label: string }[] = [
  { value: 'volatile', label: 'Volatile' },
  { value: 'recoverable', label: 'Recoverable (survives process crash)' },
  { value: 'durable', label: 'Durable (survives power loss)' },
];

// The engine's own defaults (one source of truth), except that the form starts with
// a backup manager: failover is what people come to watch.
const ENGINE_DEFAULTS = ClusterConfigSchema.parse({});
const DEFAULT_FORM: StartForm = {
  protocol: ENGINE_DEFAULTS.protocol,
  clients: ENGINE_DEFAULTS.clients,
  pages: ENGINE_DEFAULTS.pages,
  pageSize: ENGINE_DEFAULTS.pageSize,
  backup: true,
  heartbeatMs: ENGINE_DEFAULTS.heartbeatMs,
  heartbeatTimeoutMs: ENGINE_DEFAULTS.heartbeatTimeoutMs,
  clientTimeoutMs: ENGINE_DEFAULTS.clientTimeoutMs,
};

interface WorkloadForm {
  readRatio: number;
  rate: number;
}

export function ClusterView() {
  return (
    <div className="view-stack">
      <div className="card-row">
        <StartCard />
        <WorkloadCard />
      </div>
      <NodesCard />
      <HistoryCard />
    </div>
  );
}

/** "Did it stay linearizable?" for the cluster started here, while it runs or after it stopped. */
function HistoryCard() {
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <p className="muted small">
        Every client logs each operation. Check history runs the linearizability checker on the run so far (operations still in flight count as
        unknown); Export history saves it as JSON Lines for <code>ivy-cluster check</code>.
      </p>
      <HistoryActions source={{ kind: 'live' }} testPrefix="live" what="the live cluster" />
    </section>
  );
}

function StartCard() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const running = snapshot?.running ?? false;
  const [stored, setForm] = usePersistentState<StartForm>('cluster:start', DEFAULT_FORM);
  // A form saved before the protocol selector existed has no protocol: IVY, as it ran then.
  const edited: StartForm = { ...stored, protocol: PROTOCOLS.includes(stored.protocol) ? stored.protocol : 'ivy' };
  const { run, busy } = useCommand();
  // While a cluster runs, the (disabled) form shows what it actually runs with.
  const cfg = snapshot?.config;
  const form: StartForm =
    running && cfg
      ? {
          protocol: cfg.protocol ?? 'ivy',
          clients: cfg.clients,
          pages: cfg.pages,
          pageSize: cfg.pageSize,
          backup: cfg.backup,
          heartbeatMs: cfg.heartbeatMs,
          heartbeatTimeoutMs: cfg.heartbeatTimeoutMs,
          clientTimeoutMs: cfg.clientTimeoutMs ?? edited.clientTimeoutMs,
          clientMemory: cfg.clientMemory ?? DEFAULT_CLIENT_MEMORY,
        }
      : edited;
  const set = <K extends keyof StartForm>(k: K) => (v: StartForm[K] | null) => {
    if (v != null) setForm((f) => ({ ...f, [k]: v }));
  };
  const timeoutTooShort = form.heartbeatTimeoutMs <= form.heartbeatMs;
  const isis = form.protocol === 'isis';

  const start = () => {
    const config: Partial<ClusterConfigInput> = { ...edited };
    void run({ cmd: 'startCluster', config });
  };

  return (
    <section className="card" aria-labelledby="start-title">
      <h2 id="start-title">Cluster</h2>
      <form
        className="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          if (!running) start();
        }}
      >
        <SelectField
          label="Protocol"
          value={form.protocol}
          options={PROTOCOLS.map((p) => ({ value: p, label: PROTOCOL_LABELS[p] }))}
          onChange={(v) => set('protocol')(v)}
          disabled={running}
          testId="start-protocol"
          hint={isis ? 'Registry in the manager seat; every page replicated; writes in one total order' : 'Central manager; write-invalidate'}
        />
        <SelectField
          label="Client memory"
          value={form.clientMemory ?? DEFAULT_CLIENT_MEMORY}
          options={MEMORY_OPTIONS}
          onChange={(v) => set('clientMemory')(v)}
          disabled={running || isis}
          testId="start-client-memory"
          hint={isis ? 'Write-update members rejoin by state transfer' : 'Where a client keeps the pages it owns: a killed and rebooted client gets them back unless volatile'}
        />
        <NumberField label="Clients" value={form.clients} onChange={set('clients')} min={1} max={128} testId="start-clients" disabled={running} />
        <NumberField label="Pages" value={form.pages} onChange={set('pages')} min={1} max={4096} testId="start-pages" disabled={running} />
        <NumberField
          label="Page size (bytes)"
          value={form.pageSize}
          onChange={set('pageSize')}
          min={64}
          max={1 << 20}
          step={64}
          testId="start-page-size"
          disabled={running}
        />
        <NumberField
          label="Heartbeat interval (ms)"
          value={form.heartbeatMs}
          onChange={set('heartbeatMs')}
          min={5}
          max={10_000}
          testId="start-heartbeat"
          disabled={running}
        />
        <NumberField
          label="Heartbeat timeout (ms)"
          value={form.heartbeatTimeoutMs}
          onChange={set('heartbeatTimeoutMs')}
          min={20}
          max={60_000}
          testId="start-heartbeat-timeout"
          disabled={running}
          hint={timeoutTooShort ? 'Should be longer than the interval' : `Silence before the backup ${isis ? 'registry' : ''} takes over`.replace('  ', ' ')}
        />
        <NumberField
          label="Client timeout (ms)"
          value={form.clientTimeoutMs}
          onChange={set('clientTimeoutMs')}
          min={200}
          max={600_000}
          testId="start-client-timeout"
          disabled={running}
          hint="Silence before a client is declared dead"
        />
        <CheckField label={isis ? 'Backup registry' : 'Backup manager'} checked={form.backup} onChange={set('backup')} testId="start-backup" disabled={running} />
        <div className="button-row">
          <button type="submit" className="primary" disabled={running || busy('startCluster')} aria-label="Start cluster" data-testid="start-cluster">
            {busy('startCluster') ? 'Starting…' : 'Start cluster'}
          </button>
          <button
            type="button"
            disabled={!running || busy('stopCluster')}
            onClick={() => void run({ cmd: 'stopCluster' })}
            aria-label="Stop cluster"
            data-testid="stop-cluster"
          >
            {busy('stopCluster') ? 'Stopping…' : 'Stop cluster'}
          </button>
          <button type="button" className="link" disabled={running} onClick={() => setForm(DEFAULT_FORM)}>
            Defaults
          </button>
        </div>
      </form>
    </section>
  );
}

function WorkloadCard() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const running = snapshot?.running ?? false;
  const active = snapshot?.workload ?? null;
  const [form, setForm] = usePersistentState<WorkloadForm>('cluster:workload', { readRatio: 0.6, rate: 50 });
  const { run, busy } = useCommand();

  const apply = () => {
    const workload: Partial<WorkloadInput> = { readRatio: form.readRatio, rate: form.rate };
    void run({ cmd: 'setWorkload', workload }, 'workload');
  };

  return (
    <section className="card" aria-labelledby="workload-title">
      <h2 id="workload-title">
        Workload{' '}
        <span className={`pill ${active ? 'on' : 'off'}`} data-testid="workload-state">
          {active ? 'on' : 'off'}
        </span>
      </h2>
      <form
        className="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          if (running) apply();
        }}
      >
        <NumberField
          label="Read ratio (0–1)"
          value={form.readRatio}
          onChange={(v) => v != null && setForm((f) => ({ ...f, readRatio: v }))}
          min={0}
          max={1}
          step={0.05}
          integer={false}
          testId="workload-read-ratio"
        />
        <NumberField
          label="Rate (ops/s per client)"
          value={form.rate}
          onChange={(v) => v != null && setForm((f) => ({ ...f, rate: v }))}
          min={0}
          max={1_000_000}
          integer={false}
          hint="0 = as fast as possible"
          testId="workload-rate"
        />
        <div className="button-row">
          <button type="submit" className="primary" disabled={!running || busy('workload')} aria-label={active ? 'Update workload' : 'Start workload'} data-testid="workload-start">
            {active ? 'Update workload' : 'Start workload'}
          </button>
          <button
            type="button"
            disabled={!running || !active || busy('workload')}
            onClick={() => void run({ cmd: 'setWorkload', workload: null }, 'workload')}
            aria-label="Stop workload"
            data-testid="workload-stop"
          >
            Stop workload
          </button>
        </div>
        {active && (
          <p className="muted small">
            Running: read ratio {active.readRatio}, {active.rate === 0 ? 'unthrottled' : `${active.rate} ops/s per client`}
            {active.ops ? `, ${active.ops} ops per client` : ''}
          </p>
        )}
        {!running && <p className="muted small">Start a cluster to run a workload.</p>}
      </form>
    </section>
  );
}

const NODE_STATES_ORDER = { up: 0, starting: 1, rebooting: 2, down: 3, stopped: 4 } as const;

function NodeActions({ node }: { node: NodeInfo }) {
  const { run, busy } = useCommand();
  const { id, state } = node;
  const alive = state === 'up' || state === 'starting';
  const canReboot = state === 'down' || state === 'stopped' || state === 'up';
  const b = busy(id);
  return (
    <div className="row-actions">
      <button
        type="button"
        className="danger"
        aria-label={`Kill ${id}`}
        title="SIGKILL: the process dies at once, nothing is flushed"
        disabled={!alive || b}
        data-testid={`kill-${id}`}
        onClick={() => void run({ cmd: 'killNode', id }, id)}
      >
        Kill
      </button>
      <button
        type="button"
        aria-label={`Stop ${id}`}
        title="Graceful stop (SIGTERM)"
        disabled={!alive || b}
        data-testid={`stop-${id}`}
        onClick={() => void run({ cmd: 'stopNode', id }, id)}
      >
        Stop
      </button>
      <button
        type="button"
        aria-label={`Reboot ${id}`}
        title="Start again with the same identity and address"
        disabled={!canReboot || b}
        data-testid={`reboot-${id}`}
        onClick={() => void run({ cmd: 'rebootNode', id }, id)}
      >
        Reboot
      </button>
    </div>
  );
}

/** Resident memory as the table shows it (fmtBytes: 0.1 KiB / MiB), so a few bytes more is no change. */
function shownRss(n: number | null): number | null {
  if (n == null || !Number.isFinite(n) || n < 1024) return n;
  const unit = n < 1024 * 1024 ? 1024 : 1024 * 1024;
  return Math.round((n / unit) * 10) * (unit / 10);
}

function sameNode(a: NodeInfo, b: NodeInfo): boolean {
  for (const k of Object.keys(b) as (keyof NodeInfo)[]) if (!Object.is(a[k], b[k])) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

/**
 * The nodes, with each node's object kept from the last snapshot while nothing the
 * table shows changed: every node reports its RSS (to the byte) several times a
 * second, which would otherwise re-render all 130 rows at 128 clients on every
 * snapshot for the same "52.3 MiB". Nested parts are already shared (state/share.ts).
 */
function useStableNodes(nodes: NodeInfo[] | undefined): NodeInfo[] {
  const last = useRef<NodeInfo[]>([]);
  return useMemo(() => {
    const prev = last.current;
    const byId = new Map(prev.map((n) => [n.id, n]));
    let same = prev.length === (nodes?.length ?? 0);
    const out = (nodes ?? []).map((n, i) => {
      const shown = { ...n, rssBytes: shownRss(n.rssBytes) };
      const p = byId.get(n.id);
      const keep = p && sameNode(p, shown) ? p : shown;
      if (keep !== prev[i]) same = false;
      return keep;
    });
    // Nothing shown changed: the same array, so the table has nothing to redo.
    if (!same) last.current = out;
    return last.current;
  }, [nodes]);
}

const BY_NODE_ID = [{ id: 'id', desc: false }];
const nodeId = (n: NodeInfo): string => n.id;
const nodeRowTestId = (n: NodeInfo): string => `node-row-${n.id}`;
const nodeRowClass = (n: NodeInfo): string => `node-row node-${n.state}`;

function NodesCard() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const nodes = useStableNodes(snapshot?.nodes);
  const running = snapshot?.running ?? false;
  const { run, busy } = useCommand();

  const columns = useColumns<NodeInfo>(() => {
    const h = columnHelper<NodeInfo>();
    return h.columns([
      h.accessor('id', {
        header: 'Node',
        sortFn: (a, b) => compareNodeIds(a.original.id, b.original.id),
        cell: (c) => <strong data-testid={`node-id-${c.row.original.id}`}>{c.getValue()}</strong>,
      }),
      h.accessor('role', {
        header: 'Role',
        cell: (c) => <RoleBadge role={c.getValue()} testId={`node-role-${c.row.original.id}`} />,
      }),
      h.accessor('state', {
        header: 'State',
        sortFn: (a, b) => NODE_STATES_ORDER[a.original.state] - NODE_STATES_ORDER[b.original.state],
        cell: (c) => <StateBadge state={c.getValue()} testId={`node-state-${c.row.original.id}`} />,
      }),
      h.accessor((n) => n.pid ?? '', {
        id: 'pid',
        header: 'PID',
        meta: { numeric: true },
        cell: (c) => <span data-testid={`node-pid-${c.row.original.id}`}>{c.row.original.pid ?? '–'}</span>,
      }),
      h.accessor('endpoint', { header: 'Endpoint', meta: { className: 'mono' } }),
      h.accessor('epoch', {
        header: 'Epoch',
        meta: { numeric: true },
        cell: (c) => <span data-testid={`node-epoch-${c.row.original.id}`}>{c.getValue()}</span>,
      }),
      h.accessor((n) => (n.upSince == null ? -1 : -n.upSince), {
        id: 'uptime',
        header: 'Uptime',
        enableGlobalFilter: false,
        meta: { numeric: true },
        cell: (c) => <Uptime since={c.row.original.upSince} testId={`node-uptime-${c.row.original.id}`} />,
      }),
      h.accessor('restarts', { header: 'Restarts', meta: { numeric: true } }),
      h.accessor('dropped', {
        header: 'Dropped',
        meta: { numeric: true },
        cell: (c) => {
          // Bad input dropped on receipt; beside it, what the network nemesis cut or lost of this node's sends (Network view).
          const n = c.row.original.nemesis;
          const net = n ? n.partitioned + n.lost : 0;
          return (
            <span title={n ? `bad input dropped ${fmtInt(c.getValue())}; network nemesis: ${fmtInt(n.partitioned)} cut, ${fmtInt(n.lost)} lost, ${fmtInt(n.duplicated)} duplicated, ${fmtInt(n.delayed)} delayed` : undefined}>
              <span className={c.getValue() > 0 ? 'warn-text' : undefined}>{fmtInt(c.getValue())}</span>
              {net > 0 && <span className="muted" data-testid={`node-net-dropped-${c.row.original.id}`}>{` + ${fmtInt(net)} net`}</span>}
            </span>
          );
        },
      }),
      h.accessor((n) => n.rssBytes ?? -1, {
        id: 'rss',
        header: 'Memory',
        enableGlobalFilter: false,
        meta: { numeric: true },
        // Its own fixed box (styles.css .live-text): a new figure lays out that box, not the table.
        cell: (c) => <span className="live-text rss">{fmtBytes(c.row.original.rssBytes)}</span>,
      }),
      h.accessor((n) => (n.lastExit ? (n.lastExit.signal ?? `exit ${n.lastExit.code}`) : ''), {
        id: 'lastExit',
        header: 'Last exit',
        cell: (c) => c.getValue() || '–',
      }),
      h.display({
        id: 'actions',
        header: () => <span className="visually-hidden">Actions</span>,
        cell: (c) => <NodeActions node={c.row.original} />,
      }),
    ]);
  });

  // The same props while the nodes are unchanged, so the (memoised) table skips a
  // snapshot that changed nothing it shows instead of rebuilding its row models.
  const adding = !running || busy('addClient');
  const toolbar = useMemo(
    () => (
      <button type="button" aria-label="Add client" data-testid="add-client" disabled={adding} onClick={() => void run({ cmd: 'addClient' })}>
        + Add client
      </button>
    ),
    [adding, run],
  );

  const up = nodes.filter((n) => n.state === 'up').length;
  const epoch = nodes.reduce((m, n) => Math.max(m, n.epoch), 0);
  // The serving primary: a dead manager keeps the role it last reported, so pick the live one with the newest epoch.
  const serving = nodes.filter((n) => n.role === 'primary' && n.state === 'up').sort((a, b) => b.epoch - a.epoch)[0];
  const managersKnown = nodes.some((n) => n.role !== 'client');
  const protocol: Protocol = snapshot?.config?.protocol ?? 'ivy';
  // Write-update: the serving registry's membership view number.
  const membership = protocol === 'isis' && serving ? snapshot?.membership?.[serving.id] : undefined;
  const view = membership?.view ?? null;
  // A view change the registry refused for want of a quorum of the view it would replace: writes wait.
  const blocked = membership?.blocked ?? null;

  return (
    <section className="card grow" aria-labelledby="nodes-title">
      <h2 id="nodes-title">Nodes</h2>
      <p className="muted summary" data-testid="cluster-summary">
        {running ? (
          <>
            Running{' '}
            <span className="pill on" data-testid="cluster-protocol" data-protocol={protocol}>
              {PROTOCOL_LABELS[protocol]}
            </span>{' '}
            · {nodes.length} nodes · {up} up · epoch {epoch}
            {serving ? ` · ${serving.id} serves as primary${protocol === 'isis' ? ' registry' : ''}` : managersKnown ? ` · no primary ${protocol === 'isis' ? 'registry' : ''} serving`.replace('  ', ' ') : ''}
            {view !== null && <span data-testid="cluster-view"> · view {view}</span>}
            {blocked && (
              <span
                className="warn-text"
                role="status"
                data-testid="cluster-view-blocked"
                title="A new view must hold a quorum of the view it replaces, so two sides of a partition can never both go on. Writes wait until a quorum of that view is heard again: heal the partition. A member that crashed lost its promises and cannot vouch for it again, so if most of its members crashed, start the cluster over."
              >
                {' '}
                · view change blocked: {blocked.have} of view {blocked.view}&apos;s {blocked.of} members answer, no quorum; writes wait
              </span>
            )}
          </>
        ) : nodes.length ? (
          'Stopped'
        ) : (
          'No cluster yet: choose a size above and press Start cluster.'
        )}
      </p>
      <DataTable
        label="Nodes"
        testId="nodes-table"
        data={nodes}
        columns={columns}
        getRowId={nodeId}
        rowTestId={nodeRowTestId}
        rowClassName={nodeRowClass}
        initialSorting={BY_NODE_ID}
        emptyText="No nodes."
        toolbar={toolbar}
      />
    </section>
  );
}
