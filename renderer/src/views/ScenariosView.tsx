// Scenarios s1–s6 (DESIGN §5) and s9 (issue 10): run with a progress bar, then the seed's tables —
// one column per trial with the highest and lowest time and the node that took it,
// then the averages, p50/p99 and failover times — and Export CSV. Each scenario can
// run for IVY, write-update (ISIS) or both; both puts each scenario's two results
// side by side, with a comparison chart, and the CSV carries the protocol column.
// s9 kills and reboots a page-owning client per trial: its results add a table of
// those kills with the recovery times (reboot -> its pages served again), and the
// form picks the client memory mode its IVY clusters run with.
import { useMemo, useState } from 'react';
import type { ClientMemory } from '../../../nodes/protocol/messages.js';
import { DEFAULT_CLIENT_MEMORY, PROTOCOL_LABELS, type ClientKillRow, type Protocol, type ScenarioRequest, type ScenarioResult, type TrialRow } from '../../../nodes/control/api.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { DataTable, columnHelper, useColumns, type Columns } from '../components/DataTable.js';
import { HistoryActions } from '../components/HistoryActions.js';
import { CheckField, NumberField, SelectField } from '../components/Field.js';
import { ProtocolComparisonChart } from './ProtocolComparisonChart.js';
import { SlowestFaults } from './SlowestFaults.js';
import { fmtMs } from '../format.js';
import { useCommand } from '../state/commands.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore, type ScenarioState } from '../state/store.js';

export const SCENARIOS = [
  { id: 's1', name: 'baseline', what: 'manager, no backup' },
  { id: 's2', name: 'backup', what: 'primary + backup, no faults' },
  { id: 's3', name: 'primary-fail', what: 'primary killed once' },
  { id: 's4', name: 'primary-reboot', what: 'primary killed and rebooted' },
  { id: 's5', name: 'primary-reboot-many', what: 'primary killed and rebooted k times' },
  { id: 's6', name: 'alternate', what: 'primary and backup killed in turn' },
  { id: 's7', name: 'partition-primary', what: 'primary cut from the backup and half the clients for 3–4 s, then healed' },
  { id: 's8', name: 'lossy', what: '5 % loss and 1–5 ms delay on every link, whole run' },
  { id: 's9', name: 'client-crash-reboot', what: 'a client that owns pages killed and rebooted in every trial' },
] as const;

export const MEMORY_CHOICES: readonly { value: ClientMemory; label: string }[] = [
  { value: 'volatile', label: 'Volatile' },
  { value: 'recoverable', label: 'Recoverable (survives process crash)' },
  { value: 'durable', label: 'Durable (survives power loss)' },
];

type ProtocolChoice = 'ivy' | 'isis' | 'both';
const PROTOCOL_CHOICES: readonly { value: ProtocolChoice; label: string }[] = [
  { value: 'ivy', label: PROTOCOL_LABELS.ivy },
  { value: 'isis', label: PROTOCOL_LABELS.isis },
  { value: 'both', label: 'Both, side by side' },
];
const protocolsOf = (c: ProtocolChoice): Protocol[] => (c === 'both' ? ['ivy', 'isis'] : [c]);

/** A result's key: its scenario id, suffixed with the protocol when it is not IVY (s1, s1-isis). */
export const resultKey = (r: Pick<ScenarioResult, 'id' | 'protocol'>): string => (r.protocol && r.protocol !== 'ivy' ? `${r.id}-${r.protocol}` : r.id);

interface ScenarioForm {
  protocol?: ProtocolChoice;
  selected: string[];
  clients: number;
  trials: number | null;
  pages: number;
  seed: number;
  /** Absent in forms saved before the selector existed: the engine default. */
  clientMemory?: ClientMemory;
  /** Trace the frames for each trial's slowest-fault diagram. */
  traceSlowest?: boolean;
}

const DEFAULT_FORM: ScenarioForm = { protocol: 'ivy', selected: ['s1'], clients: 10, trials: null, pages: 3, seed: 1 };
export const CSV_NAME = 'ivy-timings.csv';

export function ScenariosView() {
  const { store, api } = useApp();
  const scenario = useStore(store, (s) => s.scenario);
  const clusterRunning = useStore(store, (s) => s.snapshot?.running ?? false);
  const [form, setForm] = usePersistentState<ScenarioForm>('scenarios:form', DEFAULT_FORM);
  const { run, busy } = useCommand();
  const all = form.selected.length === SCENARIOS.length;
  // Run while a cluster is running: ask, in place, to stop it and run (scenarios start clusters of their own).
  const [confirming, setConfirming] = useState(false);
  const choice: ProtocolChoice = PROTOCOL_CHOICES.some((c) => c.value === form.protocol) ? form.protocol! : 'ivy';
  const memory: ClientMemory = MEMORY_CHOICES.some((c) => c.value === form.clientMemory) ? form.clientMemory! : DEFAULT_CLIENT_MEMORY;

  const toggle = (id: string, on: boolean) =>
    setForm((f) => ({
      ...f,
      selected: on ? SCENARIOS.map((s) => s.id).filter((x) => x === id || f.selected.includes(x)) : f.selected.filter((x) => x !== id),
    }));

  const start = async () => {
    if (clusterRunning) {
      setConfirming(true);
      return;
    }
    await runNow();
  };

  const stopClusterAndRun = async () => {
    setConfirming(false);
    const stopped = await run({ cmd: 'stopCluster' }, 'run');
    if (stopped.ok) await runNow();
  };

  const runNow = async () => {
    const request: Partial<ScenarioRequest> & { scenarios: string[] } = {
      scenarios: all ? ['all'] : form.selected,
      clients: form.clients,
      pages: form.pages,
      seed: form.seed,
      protocols: protocolsOf(choice),
      clientMemory: memory,
      traceSlowest: form.traceSlowest === true,
    };
    if (form.trials != null) request.trials = form.trials;
    store.setScenario({ running: true, progress: null, fraction: 0, error: null });
    const reply = await run({ cmd: 'runScenario', request }, 'run');
    if (!reply.ok) store.setScenario({ running: false, error: reply.error });
  };

  const cancel = async () => {
    const reply = await run({ cmd: 'cancelScenario' }, 'cancel');
    if (reply.ok) store.setScenario({ running: false, error: 'cancelled' });
  };

  const exportCsv = async () => {
    let csv = scenario.csv;
    if (!csv) {
      const reply = await run({ cmd: 'timingCsv' }, 'csv');
      if (!reply.ok) return;
      csv = typeof reply.value === 'string' ? reply.value : '';
    }
    if (!csv) {
      store.notify('error', 'No timing CSV to export yet.');
      return;
    }
    try {
      const saved = await api.saveCsv(csv, CSV_NAME);
      if (saved) store.notify('info', `Saved ${saved}`);
    } catch (err) {
      store.notify('error', `Export CSV failed: ${(err as Error).message}`);
    }
  };

  const frac = scenario.fraction;
  const p = scenario.progress;

  return (
    <div className="view-stack">
      <section className="card" aria-labelledby="scen-title">
        <h2 id="scen-title">Scenarios</h2>
        <form
          className="scenario-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!scenario.running && form.selected.length) void start();
          }}
        >
          <fieldset className="scenario-picks" disabled={scenario.running}>
            <legend>Scenarios</legend>
            <label className="pick all">
              <input
                type="checkbox"
                checked={all}
                onChange={(e) => setForm((f) => ({ ...f, selected: e.target.checked ? SCENARIOS.map((s) => s.id) : [] }))}
                data-testid="scenario-all"
              />
              All
            </label>
            {SCENARIOS.map((s) => (
              <label key={s.id} className="pick" title={s.what}>
                <input
                  type="checkbox"
                  checked={form.selected.includes(s.id)}
                  onChange={(e) => toggle(s.id, e.target.checked)}
                  data-testid={`scenario-pick-${s.id}`}
                />
                <strong>{s.id}</strong> {s.name}
              </label>
            ))}
          </fieldset>
          <div className="form-grid">
            <SelectField
              label="Protocol"
              value={choice}
              options={PROTOCOL_CHOICES}
              onChange={(v) => setForm((f) => ({ ...f, protocol: v }))}
              disabled={scenario.running}
              testId="scenario-protocol"
              hint={choice === 'ivy' ? 'Rounds measure faults' : 'Write-update rounds measure writes (its reads are local)'}
            />
            <SelectField
              label="Client memory"
              value={memory}
              options={MEMORY_CHOICES}
              onChange={(v) => setForm((f) => ({ ...f, clientMemory: v }))}
              disabled={scenario.running || choice === 'isis'}
              testId="scenario-client-memory"
              hint={choice === 'isis' ? 'Write-update members rejoin by state transfer' : 'Where IVY clients keep their pages; s9 shows what a reboot gets back'}
            />
            <NumberField
              label="Clients"
              value={form.clients}
              onChange={(v) => v != null && setForm((f) => ({ ...f, clients: v }))}
              min={1}
              max={128}
              disabled={scenario.running}
              testId="scenario-clients"
            />
            <NumberField
              label="Trials"
              value={form.trials}
              optional
              placeholder="default"
              hint="Empty: 5 (6 for s5, s6)"
              onChange={(v) => setForm((f) => ({ ...f, trials: v }))}
              min={1}
              max={1000}
              disabled={scenario.running}
              testId="scenario-trials"
            />
            <NumberField
              label="Pages"
              value={form.pages}
              onChange={(v) => v != null && setForm((f) => ({ ...f, pages: v }))}
              min={1}
              max={4096}
              disabled={scenario.running}
              testId="scenario-pages"
            />
            <NumberField
              label="Seed"
              value={form.seed}
              onChange={(v) => v != null && setForm((f) => ({ ...f, seed: v }))}
              disabled={scenario.running}
              testId="scenario-seed"
              hint="Same seed, same fault times"
            />
            <CheckField
              label="Diagram of each trial's slowest fault (traces every frame: faults take ~20 % longer)"
              checked={form.traceSlowest === true}
              onChange={(v) => setForm((f) => ({ ...f, traceSlowest: v }))}
              disabled={scenario.running}
              testId="scenario-trace-slowest"
              wide
            />
          </div>
          <div className="button-row">
            <button
              type="submit"
              className="primary"
              disabled={scenario.running || busy('run') || form.selected.length === 0}
              aria-label="Run scenarios"
              data-testid="scenario-run"
            >
              {scenario.running ? 'Running…' : 'Run'}
            </button>
            <button type="button" onClick={() => void cancel()} disabled={!scenario.running || busy('cancel')} aria-label="Cancel scenarios" data-testid="scenario-cancel">
              Cancel
            </button>
            <button
              type="button"
              onClick={() => void exportCsv()}
              disabled={!scenario.results?.length || busy('csv')}
              aria-label="Export CSV"
              data-testid="export-csv"
            >
              Export CSV
            </button>
          </div>
        </form>
        {clusterRunning && !scenario.running && (
          <p className="muted small" data-testid="scenario-hint">
            A cluster is running: Run offers to stop it, since each scenario starts clusters of its own.
          </p>
        )}
        <ConfirmDialog
          open={confirming}
          question={`Stop the running cluster and run ${all ? 'all scenarios' : form.selected.join(', ')}?`}
          detail="Each scenario starts clusters of its own on the same machine; the running cluster and its workload are stopped first."
          confirmLabel="Stop cluster and run"
          onConfirm={() => void stopClusterAndRun()}
          onCancel={() => setConfirming(false)}
          testId="scenario-confirm"
        />
        <div className="progress-block" data-testid="scenario-status" data-running={scenario.running ? 'true' : 'false'}>
          <progress
            max={1}
            value={scenario.running || scenario.results ? (scenario.running ? frac : 1) : 0}
            aria-label="Scenario progress"
            aria-valuetext={`${Math.round(frac * 100)}%`}
            data-testid="scenario-progress"
            data-value={scenario.running ? frac.toFixed(3) : scenario.results ? '1' : '0'}
          />
          <span className="muted" data-testid="scenario-progress-text" aria-live="polite">
            {scenario.running
              ? p
                ? `${p.scenario}${p.protocol ? ` ${p.protocol === 'isis' ? 'write-update' : 'IVY'}` : ''} (${Math.min(p.index + 1, p.of)}/${p.of})${p.trial > 0 ? ` · trial ${p.trial}/${p.trials}` : ''}${p.message ? ` · ${p.message}` : ''}`
                : 'starting…'
              : scenario.error
                ? `Stopped: ${scenario.error}`
                : scenario.results
                  ? doneText(scenario.results)
                  : 'Idle'}
          </span>
        </div>
      </section>
      {scenario.results && <Results scenario={scenario} />}
    </div>
  );
}

function Linearizable({ value, testId = 'linearizable' }: { value: boolean | null; testId?: string }) {
  const text = value === true ? 'linearizable ✓' : value === false ? 'linearizable ✗' : 'linearizability not checked';
  return (
    <span className={`pill ${value === true ? 'ok' : value === false ? 'bad' : 'off'}`} data-testid={testId} data-value={String(value)}>
      {text}
    </span>
  );
}

/** A write-update history is checked for sequential consistency (its reads are local, so it is not linearizable). */
function Sequential({ value, testId }: { value: boolean | null; testId: string }) {
  const text = value === true ? 'sequentially consistent ✓' : value === false ? 'sequentially consistent ✗' : 'not checked';
  return (
    <span
      className={`pill ${value === true ? 'ok' : value === false ? 'bad' : 'off'}`}
      data-testid={testId}
      data-value={String(value)}
      title="Checked against the total order the history claims (pos / wpos); write-update reads are local, so SC — not linearizability — is the claim"
    >
      {text}
    </span>
  );
}

function CheckPill({ result, testId }: { result: ScenarioResult; testId: string }) {
  if (result.model === 'sequential') return <Sequential value={result.consistent ?? null} testId={testId} />;
  return result.linearizable !== undefined ? <Linearizable value={result.linearizable} testId={testId} /> : null;
}

interface SummaryRow {
  key: string;
  id: string;
  protocol: Protocol;
  check: string;
  name: string;
  trials: number;
  highAverageMs: number;
  lowAverageMs: number;
  averageMs: number;
  p50Ms: number;
  p99Ms: number;
  failover: string;
}

function Results({ scenario }: { scenario: ScenarioState }) {
  const results = useMemo(() => scenario.results ?? [], [scenario.results]);
  const summary = useMemo<SummaryRow[]>(
    () =>
      results.map((r) => ({
        key: resultKey(r),
        id: r.id,
        protocol: r.protocol ?? 'ivy',
        check: r.model === 'sequential' ? (r.consistent ? 'SC ✓' : 'SC ✗') : r.linearizable === true ? 'lin. ✓' : r.linearizable === false ? 'lin. ✗' : '–',
        name: r.name,
        trials: r.trials.length,
        highAverageMs: r.highAverageMs,
        lowAverageMs: r.lowAverageMs,
        averageMs: r.averageMs,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        failover: r.failoverMs.map((f) => fmtMs(f)).join(', '),
      })),
    [results],
  );
  const columns = useColumns<SummaryRow>(() => {
    const h = columnHelper<SummaryRow>();
    const ms = (k: 'highAverageMs' | 'lowAverageMs' | 'averageMs' | 'p50Ms' | 'p99Ms', header: string) =>
      h.accessor(k, { header, meta: { numeric: true }, cell: (c) => fmtMs(c.getValue()) });
    return h.columns([
      h.accessor('id', { header: 'Scenario' }),
      h.accessor('protocol', { header: 'Protocol', cell: (c) => (c.getValue() === 'isis' ? 'write-update' : 'IVY') }),
      h.accessor('name', { header: 'Name' }),
      h.accessor('trials', { header: 'Trials', meta: { numeric: true } }),
      ms('highAverageMs', 'High avg (ms)'),
      ms('lowAverageMs', 'Low avg (ms)'),
      ms('averageMs', 'Average (ms)'),
      ms('p50Ms', 'p50 (ms)'),
      ms('p99Ms', 'p99 (ms)'),
      h.accessor('failover', { header: 'Failover (ms)', cell: (c) => c.getValue() || '–' }),
      h.accessor('check', { header: 'Check' }),
    ]);
  });
  const protocols = new Set(results.map((r) => r.protocol ?? 'ivy'));
  const ivyRan = protocols.has('ivy');

  return (
    <section className="card" aria-labelledby="results-title" data-testid="scenario-results">
      <h2 id="results-title">
        Results {ivyRan && <Linearizable value={scenario.linearizable} />}
        {protocols.has('isis') && <Sequential value={scenario.consistent} testId="consistent" />}
      </h2>
      {protocols.has('isis') && (
        <p className="muted small" data-testid="scenario-isis-note">
          Write-update (ISIS): the registry sits in the manager seat (kills of the primary kill the primary registry); every page is
          replicated, so reads are local hits and excluded like cache hits — at each barrier every client writes, and the tables measure
          those writes. Its histories are checked for sequential consistency, not linearizability.
        </p>
      )}
      {results.length > 1 && (
        <DataTable label="Scenario summary" testId="scenario-summary" data={summary} columns={columns} getRowId={(r) => r.key} noFilter />
      )}
      {protocols.size > 1 && <ProtocolComparisonChart results={results} />}
      <div className={protocols.size > 1 ? 'side-by-side' : undefined}>
        {results.map((r) => (
          // Keyed by the run too: a new run's table starts without the previous run's verdict.
          <ScenarioTable key={`${resultKey(r)}@${scenario.finishedAt ?? 0}`} result={r} />
        ))}
      </div>
    </section>
  );
}

interface TrialMetricRow {
  metric: string;
  key: 'highestMs' | 'highestNode' | 'lowestMs' | 'lowestNode' | 'faults' | 'failed';
  values: (string | number)[];
}

const METRICS: { key: TrialMetricRow['key']; metric: string; optional?: boolean }[] = [
  { key: 'highestMs', metric: 'Highest time (ms)' },
  { key: 'highestNode', metric: 'Highest node' },
  { key: 'lowestMs', metric: 'Lowest time (ms)' },
  { key: 'lowestNode', metric: 'Lowest node' },
  { key: 'faults', metric: 'Faults measured', optional: true },
  { key: 'failed', metric: 'Failed operations', optional: true },
];

function trialValue(t: TrialRow, key: TrialMetricRow['key']): string | number {
  const v = t[key];
  return v ?? '';
}

function msList(values: number[] | undefined): string {
  if (!values?.length) return '–';
  return `${values.map((f) => fmtMs(f)).join(', ')} ms`;
}

function ScenarioTable({ result }: { result: ScenarioResult }) {
  const rows = useMemo<TrialMetricRow[]>(
    () =>
      METRICS.filter((m) => !m.optional || result.trials.some((t) => t[m.key] != null)).map((m) => ({
        metric: m.key === 'faults' && result.measures === 'writes' ? 'Writes measured' : m.metric,
        key: m.key,
        values: result.trials.map((t) => trialValue(t, m.key)),
      })),
    [result],
  );
  const trialCount = result.trials.length;
  const columns = useMemo<Columns<TrialMetricRow>>(() => {
    const h = columnHelper<TrialMetricRow>();
    const cols: Columns<TrialMetricRow> = [
      h.accessor('metric', { header: '', enableSorting: false, meta: { className: 'row-head' }, cell: (c) => <strong>{c.getValue()}</strong> }),
    ];
    for (let i = 0; i < trialCount; i++) {
      cols.push(
        h.accessor((r) => r.values[i] ?? '', {
          id: `trial${i + 1}`,
          header: `Trial ${result.trials[i]?.trial ?? i + 1}`,
          enableSorting: false,
          meta: { numeric: true },
          cell: (c) => {
            const v = c.getValue();
            if (typeof v !== 'number') return v;
            return c.row.original.key.endsWith('Ms') ? fmtMs(v) : String(v);
          },
        }),
      );
    }
    return cols;
  }, [trialCount, result.trials]);

  const key = resultKey(result);
  const isis = result.protocol === 'isis';
  return (
    <div className="scenario-result" data-testid={`scenario-result-${key}`} data-protocol={result.protocol ?? 'ivy'}>
      <h3>
        {result.id} · {result.name}{' '}
        {result.protocol && <span className="pill on">{isis ? 'write-update' : 'IVY'}</span>}{' '}
        <CheckPill result={result} testId={isis ? `consistent-${key}` : `linearizable-${key}`} />
      </h3>
      <DataTable label={`Scenario ${key} trials`} testId={`scenario-table-${key}`} data={rows} columns={columns} getRowId={(r) => r.key} noFilter compact />
      <dl className="figures" data-testid={`scenario-figures-${key}`}>
        <div>
          <dt>High time average</dt>
          <dd data-testid={`scenario-${resultKey(result)}-high-average`}>{fmtMs(result.highAverageMs)} ms</dd>
        </div>
        <div>
          <dt>Low time average</dt>
          <dd data-testid={`scenario-${resultKey(result)}-low-average`}>{fmtMs(result.lowAverageMs)} ms</dd>
        </div>
        <div>
          <dt>Average</dt>
          <dd data-testid={`scenario-${resultKey(result)}-average`}>{fmtMs(result.averageMs)} ms</dd>
        </div>
        <div>
          <dt>p50 / p99</dt>
          <dd data-testid={`scenario-${resultKey(result)}-percentiles`}>
            {fmtMs(result.p50Ms)} / {fmtMs(result.p99Ms)} ms
          </dd>
        </div>
        {!result.clientKills && (
          <div>
            <dt>Failover times</dt>
            <dd data-testid={`scenario-${resultKey(result)}-failover`}>{msList(result.failoverMs)}</dd>
          </div>
        )}
        {result.clientKills && (
          <>
            {result.clientMemory && (
              <div>
                <dt>Client memory</dt>
                <dd data-testid={`scenario-${key}-client-memory`}>{result.clientMemory}</dd>
              </div>
            )}
            <div>
              <dt title="Reboot of the killed client until the first fault served on a page it owned at the kill">Recovery (first fault)</dt>
              <dd data-testid={`scenario-${key}-client-recovery`}>{msList(finite(result.clientRecoveryMs))}</dd>
            </div>
            <div>
              <dt title="Reboot of the killed client until it logged its recovered pages served again">Pages served again</dt>
              <dd data-testid={`scenario-${key}-pages-served`}>{msList(finite(result.pagesServedMs))}</dd>
            </div>
            <div>
              <dt>Failed operations</dt>
              <dd data-testid={`scenario-${key}-failed`}>{result.failedOps ?? 0}</dd>
            </div>
          </>
        )}
        {result.recoveryMs && result.recoveryMs.length > 0 && (
          <div>
            <dt title="Kill of the serving manager until the first fault issued after it completed">Recovery</dt>
            <dd data-testid={`scenario-${resultKey(result)}-recovery`}>{msList(result.recoveryMs)}</dd>
          </div>
        )}
        {result.handbackMs && result.handbackMs.length > 0 && (
          <div>
            <dt title="Reboot of the primary until it served again">Hand-back</dt>
            <dd data-testid={`scenario-${resultKey(result)}-handback`}>{msList(result.handbackMs)}</dd>
          </div>
        )}
      </dl>
      {result.clientKills && <ClientKillTable result={result} />}
      {result.slowest && result.slowest.length > 0 && <SlowestFaults result={result} resultKey={key} />}
      <ScenarioFacts result={result} />
      <HistoryActions source={{ kind: 'scenario', id: result.id, protocol: result.protocol ?? 'ivy' }} testPrefix={`scenario-${resultKey(result)}`} what={resultKey(result)} />
    </div>
  );
}

/** Figures that crossed JSON (NaN arrives as null) and were measured. */
function finite(values: readonly (number | null)[] | undefined): number[] {
  return (values ?? []).filter((v): v is number => v != null && Number.isFinite(v));
}

interface ClientKillTableRow extends ClientKillRow {
  index: number;
}

/** s9: one row per kill of a page-owning client, with the time its reboot took to be served again. */
function ClientKillTable({ result }: { result: ScenarioResult }) {
  const key = resultKey(result);
  const rows = useMemo<ClientKillTableRow[]>(() => (result.clientKills ?? []).map((k, index) => ({ ...k, index })), [result.clientKills]);
  const columns = useColumns<ClientKillTableRow>(() => {
    const h = columnHelper<ClientKillTableRow>();
    // Null: not rebooted, or nothing measured (NaN crosses JSON as null).
    const ms = (k: 'recoveryMs' | 'servedMs', header: string) =>
      h.accessor((r) => r[k] ?? null, { id: k, header, meta: { numeric: true }, cell: (c) => fmtMs(c.getValue()) });
    return h.columns([
      h.accessor((r) => r.trial ?? null, { id: 'trial', header: 'Trial', meta: { numeric: true }, cell: (c) => c.getValue() ?? '–' }),
      h.accessor('node', { header: 'Client killed' }),
      h.accessor('pages', { header: 'Pages it owned', meta: { numeric: true } }),
      ms('recoveryMs', 'Reboot → first fault served (ms)'),
      ms('servedMs', 'Reboot → pages served again (ms)'),
    ]);
  });
  return (
    <div className="client-kills">
      <h4>Client kills and recovery</h4>
      <DataTable label={`Scenario ${key} client recovery`} testId={`scenario-recovery-${key}`} data={rows} columns={columns} getRowId={(r) => String(r.index)} noFilter compact />
    </div>
  );
}

function ScenarioFacts({ result }: { result: ScenarioResult }) {
  const facts: string[] = [];
  if (result.clients != null) facts.push(`${result.clients} clients`);
  if (result.pages != null) facts.push(`${result.pages} pages`);
  if (result.rounds != null) facts.push(`${result.rounds} rounds per trial`);
  if (result.seed != null) facts.push(`seed ${result.seed}`);
  const writes = result.measures === 'writes';
  if (result.faultOps != null) facts.push(`${result.faultOps} ${writes ? 'writes' : 'faults'} measured`);
  if (result.hits != null) facts.push(`${result.hits} ${writes ? 'local reads' : 'cache hits'} excluded`);
  if (result.failedOps != null) facts.push(`${result.failedOps} failed`);
  if (!facts.length && !result.schedule?.length) return null;
  const n = result.nemesis;
  return (
    <div className="muted small scenario-facts">
      {facts.length > 0 && <p>{facts.join(' · ')}</p>}
      {n && (
        <p data-testid={`scenario-${resultKey(result)}-nemesis`}>
          Network nemesis: {n.counters.partitioned} frames cut by partitions, {n.counters.lost} lost, {n.counters.duplicated} duplicated, {n.counters.delayed} delayed
          {n.failoverMs && ` · backup took over after ${n.failoverMs.map((x) => (x === null ? 'no takeover' : `${x} ms`)).join(', ')}`}
          {n.roleChanges && n.roleChanges.length > 0 && ` · ${n.roleChanges.join('; ')}`}
        </p>
      )}
      {result.schedule && result.schedule.length > 0 && (
        <details>
          <summary>Fault schedule ({result.schedule.length})</summary>
          <ol className="schedule" data-testid={`scenario-${resultKey(result)}-schedule`}>
            {result.schedule.map((line, i) => (
              <li key={i} className="mono">
                {line}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}

/** "Done: 2 scenarios", or with both protocols "Done: 1 scenario × 2 protocols". */
function doneText(results: readonly ScenarioResult[]): string {
  const ids = new Set(results.map((r) => r.id)).size;
  const protocols = new Set(results.map((r) => r.protocol ?? 'ivy')).size;
  return `Done: ${ids} scenario${ids === 1 ? '' : 's'}${protocols > 1 ? ` × ${protocols} protocols` : ''}`;
}
