// Network: the nemesis of the running cluster. Presets with one click each (a second
// click lifts that preset), Heal all, the rules in force as the engine resolved them
// (node ids, with the roles of the moment they were applied), a form for a link rule
// of your own, and per node what the nemesis did to the frames it sent.
import { useState, type FormEvent } from 'react';
import type { NemesisRuleInput, NemesisSpec } from '../../../nodes/control/nemesis/spec.js';
import { NEMESIS_PRESETS, PRESET_DESCRIPTIONS, type NemesisPreset } from '../../../nodes/control/nemesis/presets.js';
import { CheckField, NumberField } from '../components/Field.js';
import { fmtClock, fmtInt } from '../format.js';
import { useCommand } from '../state/commands.js';
import { useApp } from '../state/context.js';
import { useStore } from '../state/store.js';
import { useTracing } from '../state/tracing.js';

const PRESET_LABELS: Record<NemesisPreset, string> = {
  'isolate-primary-backup': 'Isolate primary from backup',
  'isolate-primary': 'Isolate primary from everyone',
  'split-clients': 'Split the clients in half',
  'slow-client': 'One slow client (c0)',
  lossy: 'Lossy network',
};

interface RuleForm {
  from: string;
  to: string;
  symmetric: boolean;
  partition: boolean;
  delayMs: number | null;
  jitterMs: number | null;
  lossPct: number | null;
  dupPct: number | null;
}

const EMPTY_RULE: RuleForm = { from: 'c0', to: 'others', symmetric: true, partition: false, delayMs: 20, jitterMs: 5, lossPct: 0, dupPct: 0 };

const ends = (s: string): string[] =>
  s
    .split(/[\s,+]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function NetworkView() {
  const { store, api } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  const { run, busy } = useCommand();
  const [form, setForm] = useState<RuleForm>(EMPTY_RULE);
  const running = snapshot?.running ?? false;
  // Frames are traced while this view is open, so the Messages view can draw what the rules dropped and the fencing that followed.
  useTracing(api, running);
  const nemesis = snapshot?.nemesis;
  const spec: NemesisSpec = nemesis?.spec ?? { presets: [], rules: [] };
  const rules = nemesis?.rules ?? [];
  const nodes = snapshot?.nodes ?? [];

  const apply = (next: { presets: NemesisPreset[]; rules: NemesisRuleInput[] }) => {
    if (next.presets.length === 0 && next.rules.length === 0) return run({ cmd: 'healAll' }, 'nemesis');
    return run({ cmd: 'setNemesis', spec: next }, 'nemesis');
  };

  const togglePreset = (p: NemesisPreset) => {
    const on = spec.presets.includes(p);
    void apply({ presets: on ? spec.presets.filter((x) => x !== p) : [...spec.presets, p], rules: spec.rules });
  };

  const addRule = (e: FormEvent) => {
    e.preventDefault();
    const rule: NemesisRuleInput = {
      from: ends(form.from),
      to: ends(form.to),
      symmetric: form.symmetric,
      partition: form.partition,
      delayMs: form.delayMs ?? 0,
      jitterMs: form.jitterMs ?? 0,
      loss: (form.lossPct ?? 0) / 100,
      dup: (form.dupPct ?? 0) / 100,
    };
    void apply({ presets: spec.presets, rules: [...spec.rules, rule] });
  };

  return (
    <div className="view-stack">
      <section className="card" aria-labelledby="nemesis-title">
        <h2 id="nemesis-title">Network</h2>
        <p className="muted small">
          Rules act on the frames each node sends (real processes, real sockets). Groups such as “primary” are resolved when a rule is applied: a failover
          later does not move a partition onto the new primary. While this view is open every frame is traced (it costs some latency): the Messages view
          then draws each frame a rule dropped (an arrow ending in a cross), duplicates, the frames nodes refused for a stale epoch (fencing) and the
          takeover&apos;s new epoch.
        </p>
        <div className="button-row nemesis-presets" role="group" aria-label="Nemesis presets">
          {NEMESIS_PRESETS.map((p) => {
            const on = spec.presets.includes(p);
            return (
              <button
                key={p}
                type="button"
                aria-pressed={on}
                title={PRESET_DESCRIPTIONS[p]}
                disabled={!running || busy('nemesis')}
                onClick={() => togglePreset(p)}
                data-testid={`nemesis-preset-${p}`}
              >
                {PRESET_LABELS[p]}
              </button>
            );
          })}
          <button type="button" className="primary" disabled={!running || busy('nemesis') || rules.length === 0} onClick={() => void run({ cmd: 'healAll' }, 'nemesis')} data-testid="nemesis-heal">
            Heal all
          </button>
        </div>
        {!running && <p className="muted">Start a cluster (Cluster tab) to break its network.</p>}
        <h3>Rules in force</h3>
        {rules.length === 0 ? (
          <p className="muted" data-testid="nemesis-rules-empty">
            None: every link is normal.
          </p>
        ) : (
          <>
            <p className="muted small">since {nemesis?.since ? fmtClock(nemesis.since) : '–'}</p>
            <ul className="nemesis-rules" data-testid="nemesis-rules">
              {rules.map((r, i) => (
                <li key={`${i}-${r.text}`} className="mono" data-testid="nemesis-rule">
                  {r.text}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <section className="card" aria-labelledby="nemesis-rule-title">
        <h3 id="nemesis-rule-title">Add a link rule</h3>
        <form onSubmit={addRule} data-testid="nemesis-rule-form">
          <div className="form-grid">
            <TextField label="From" value={form.from} onChange={(from) => setForm((f) => ({ ...f, from }))} hint="node ids or groups: primary, backup, managers, clients, half-a, half-b, all" testId="nemesis-from" />
            <TextField label="To" value={form.to} onChange={(to) => setForm((f) => ({ ...f, to }))} hint="as From, or others (every node not in From)" testId="nemesis-to" />
            <NumberField label="Delay (ms)" value={form.delayMs} min={0} max={60_000} integer={false} onChange={(delayMs) => setForm((f) => ({ ...f, delayMs }))} testId="nemesis-delay" />
            <NumberField label="± jitter (ms)" value={form.jitterMs} min={0} max={60_000} integer={false} onChange={(jitterMs) => setForm((f) => ({ ...f, jitterMs }))} testId="nemesis-jitter" />
            <NumberField label="Loss (%)" value={form.lossPct} min={0} max={100} integer={false} onChange={(lossPct) => setForm((f) => ({ ...f, lossPct }))} testId="nemesis-loss" />
            <NumberField label="Duplicate (%)" value={form.dupPct} min={0} max={100} integer={false} onChange={(dupPct) => setForm((f) => ({ ...f, dupPct }))} testId="nemesis-dup" />
            <CheckField label="Partition (drop everything)" checked={form.partition} onChange={(partition) => setForm((f) => ({ ...f, partition }))} testId="nemesis-partition" />
            <CheckField label="Both ways" checked={form.symmetric} onChange={(symmetric) => setForm((f) => ({ ...f, symmetric }))} testId="nemesis-symmetric" />
          </div>
          <div className="button-row">
            <button type="submit" className="primary" disabled={!running || busy('nemesis')} data-testid="nemesis-add-rule">
              Add rule
            </button>
          </div>
          <p className="muted small">Jitter draws each copy's delay uniformly in delay ± jitter (never below 0), so it may reorder frames on a link; without jitter a link stays in order.</p>
        </form>
      </section>

      <section className="card" aria-labelledby="nemesis-counters-title">
        <h3 id="nemesis-counters-title">What the nemesis did (frames each node sent)</h3>
        <div className="table-scroll">
        <table data-testid="nemesis-counters">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Role</th>
              <th scope="col" className="num">Cut (partition)</th>
              <th scope="col" className="num">Lost</th>
              <th scope="col" className="num">Duplicated</th>
              <th scope="col" className="num">Delayed</th>
              <th scope="col" className="num" title="Malformed or stale frames the node dropped on receipt (not the nemesis)">Bad input dropped</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-testid={`nemesis-counters-${n.id}`}>
                <td className="mono">{n.id}</td>
                <td>{n.role}</td>
                <td className="num">{fmtInt(n.nemesis?.partitioned ?? 0)}</td>
                <td className="num">{fmtInt(n.nemesis?.lost ?? 0)}</td>
                <td className="num">{fmtInt(n.nemesis?.duplicated ?? 0)}</td>
                <td className="num">{fmtInt(n.nemesis?.delayed ?? 0)}</td>
                <td className="num">{fmtInt(n.dropped)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      </section>
    </div>
  );
}

function TextField({ label, value, onChange, hint, testId }: { label: string; value: string; onChange: (v: string) => void; hint: string; testId: string }) {
  const id = `${testId}-input`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="text" value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={`${id}-hint`} data-testid={testId} spellCheck={false} />
      <small id={`${id}-hint`} className="hint">
        {hint}
      </small>
    </div>
  );
}
