// Check history / Export history for one history source (the live cluster, or one
// scenario of the last run): the checker's verdict in place, with the minimal
// counterexample when there is one, and the history saved as JSON Lines (native save
// dialog in the desktop app, a download in the browser).
import { useState } from 'react';
import type { HistorySource } from '../../../nodes/control/api.js';
import { HistoryExportSchema, HistoryVerdictSchema, type HistoryVerdictView } from '../api/wire.js';
import { fmtInt } from '../format.js';
import { useCommand } from '../state/commands.js';
import { useApp } from '../state/context.js';

export interface HistoryActionsProps {
  source: HistorySource;
  /** Prefix of the test ids: `${testPrefix}-check-history`, `-export-history`, `-history-verdict`. */
  testPrefix: string;
  /** Names the history in accessible labels, e.g. "live cluster" or "s1". */
  what: string;
}

export function HistoryActions({ source, testPrefix, what }: HistoryActionsProps) {
  const { api, store } = useApp();
  const { run, busy } = useCommand();
  const [verdict, setVerdict] = useState<HistoryVerdictView | null>(null);

  const check = async () => {
    const reply = await run({ cmd: 'checkHistory', source }, 'check');
    if (!reply.ok) return;
    const v = HistoryVerdictSchema.safeParse(reply.value);
    if (!v.success) {
      store.notify('error', 'Check history: the engine sent a malformed verdict');
      return;
    }
    setVerdict(v.data);
  };

  const exportHistory = async () => {
    const reply = await run({ cmd: 'exportHistory', source }, 'export');
    if (!reply.ok) return;
    const file = HistoryExportSchema.safeParse(reply.value);
    if (!file.success) {
      store.notify('error', 'Export history: the engine sent a malformed history');
      return;
    }
    try {
      const saved = await api.saveHistory(file.data.jsonl, file.data.name);
      if (saved) store.notify('info', `Saved ${fmtInt(file.data.ops)} operations to ${saved}`);
    } catch (err) {
      store.notify('error', `Export history failed: ${(err as Error).message}`);
    }
  };

  return (
    <div className="history-actions">
      <div className="button-row">
        <button type="button" onClick={() => void check()} disabled={busy('check')} aria-label={`Check history of ${what}`} data-testid={`${testPrefix}-check-history`}>
          {busy('check') ? 'Checking…' : 'Check history'}
        </button>
        <button type="button" onClick={() => void exportHistory()} disabled={busy('export')} aria-label={`Export history of ${what}`} data-testid={`${testPrefix}-export-history`}>
          Export history
        </button>
      </div>
      <div aria-live="polite">{verdict && <Verdict verdict={verdict} testId={`${testPrefix}-history-verdict`} />}</div>
    </div>
  );
}

function Verdict({ verdict, testId }: { verdict: HistoryVerdictView; testId: string }) {
  const at = new Date(verdict.checkedAt).toLocaleTimeString();
  const name = verdict.model === 'sequential' ? 'sequentially consistent' : 'linearizable';
  const counts = `${fmtInt(verdict.ops)} operations on ${fmtInt(verdict.pages)} page${verdict.pages === 1 ? '' : 's'}, ${fmtInt(verdict.unknown)} with unknown outcome · checked ${at}`;
  return (
    <div className="verdict" data-testid={testId} data-value={String(verdict.consistent)} data-model={verdict.model} data-checked-at={verdict.checkedAt}>
      <p>
        <span className={`pill ${verdict.consistent ? 'ok' : 'bad'}`}>{verdict.consistent ? `${name} ✓` : `NOT ${name} ✗`}</span>{' '}
        <span className="muted small">{counts}</span>
      </p>
      {!verdict.consistent && (
        <>
          <p className="small">
            Page {verdict.page}: {verdict.explanation}
          </p>
          <Counterexample ops={verdict.counterexample} testId={`${testId}-counterexample`} />
        </>
      )}
    </div>
  );
}

function Counterexample({ ops, testId }: { ops: HistoryVerdictView['counterexample']; testId: string }) {
  const base = ops.reduce((m, o) => Math.min(m, o.start), Number.POSITIVE_INFINITY);
  const us = (t: number) => `${fmtInt(Math.round((t - base) / 1000))} µs`;
  return (
    <div className="table-scroll">
      <table className="counterexample" data-testid={testId}>
        <caption className="muted small">Minimal counterexample ({ops.length} operations; times since the first started)</caption>
        <thead>
          <tr>
            <th scope="col">Client</th>
            <th scope="col">Op</th>
            <th scope="col">Page</th>
            <th scope="col">Value</th>
            <th scope="col" className="num">Start</th>
            <th scope="col" className="num">End</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {ops.map((o, i) => (
            <tr key={i}>
              <td>{o.client}</td>
              <td>{o.op}</td>
              <td>{o.page}</td>
              <td className="mono">{o.value ?? 'null'}</td>
              <td className="num">{us(o.start)}</td>
              <td className="num">{o.end === null ? '?' : us(o.end)}</td>
              <td>{o.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
