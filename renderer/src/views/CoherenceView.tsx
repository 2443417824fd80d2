// Coherence map: every client's page table as one picture (clients × pages, colour =
// access, owner, pending faults, lost pages), with the serving manager's record of a
// page one click or Enter away. Where Page caches is a 4,096-row list at 64 × 64,
// this is one screen.
import { useCallback, useId, useMemo } from 'react';
import { CoherenceMap } from '../coherence/CoherenceMap.js';
import { buildGrid, type Focus } from '../coherence/model.js';
import { RecordPanel } from '../coherence/RecordPanel.js';
import { fmtInt } from '../format.js';
import { useApp } from '../state/context.js';
import { usePersistentState } from '../state/persist.js';
import { useStore } from '../state/store.js';
import { useWatchPageTables } from '../state/watch-page-tables.js';

/** Selection by client id and page, so it survives clients joining (rows shifting). */
interface Pick {
  client: string;
  page: number;
}

export function CoherenceView() {
  const { store } = useApp();
  const snapshot = useStore(store, (s) => s.snapshot);
  useWatchPageTables();
  const model = useMemo(() => buildGrid(snapshot), [snapshot]);
  const [focusPick, setFocusPick] = usePersistentState<Pick>('coherence:focus', { client: 'c0', page: 0 });
  const [selPick, setSelPick] = usePersistentState<Pick | null>('coherence:selected', null);
  const summaryId = useId();

  const toFocus = useCallback(
    (p: Pick | null): Focus | null => {
      if (!p) return null;
      const row = model.clients.indexOf(p.client);
      return row < 0 || p.page >= model.pages ? null : { row, col: p.page };
    },
    [model],
  );
  const toPick = useCallback((f: Focus): Pick => ({ client: model.clients[f.row] ?? 'c0', page: f.col }), [model]);
  const focus = toFocus(focusPick) ?? { row: 0, col: 0 };
  const selected = toFocus(selPick);
  const onFocusChange = useCallback((f: Focus) => setFocusPick(toPick(f)), [setFocusPick, toPick]);
  const onSelect = useCallback((f: Focus | null) => setSelPick(f ? toPick(f) : null), [setSelPick, toPick]);

  const { counts } = model;
  const extraKinds = model.accessKinds.filter((k) => k !== 'none' && k !== 'read' && k !== 'write');

  return (
    <section className="card grow coherence-view" aria-labelledby="coherence-title">
      <h2 id="coherence-title">Coherence map</h2>
      <p className="muted summary" id={summaryId} data-testid="coherence-summary">
        {model.clients.length} clients × {model.pages} pages · {fmtInt(counts.byAccess.read ?? 0)} read · {fmtInt(counts.byAccess.write ?? 0)} write
        {extraKinds.map((k) => ` · ${fmtInt(counts.byAccess[k] ?? 0)} ${k}`).join('')} · {fmtInt(counts.owners)} owned ·{' '}
        <span className={counts.pending ? 'busy-text' : undefined}>{fmtInt(counts.pending)} pending</span> ·{' '}
        <span className={counts.lost ? 'error-text' : undefined}>{fmtInt(counts.lost)} lost</span>
        {model.manager ? ` · records from ${model.manager}` : ''}
      </p>
      <ul className="coherence-legend" aria-label="Legend">
        {model.accessKinds.map((k) => (
          <li key={k}>
            <span className={`map-swatch map-${k === 'none' || k === 'read' || k === 'write' ? k : 'other'}`} aria-hidden="true" />
            {k === 'none' ? 'no access' : `${k} access`}
          </li>
        ))}
        <li>
          <span className="map-swatch map-read map-owner" aria-hidden="true" />
          owner
        </li>
        <li>
          <span className="map-swatch map-none map-pending" aria-hidden="true" />
          pending fault (corner: access asked for)
        </li>
        <li>
          <span className="map-swatch map-lost" aria-hidden="true" />
          lost page
        </li>
        <li>
          <span className="map-swatch map-absent" aria-hidden="true" />
          no page table
        </li>
      </ul>
      {model.clients.length === 0 || model.pages === 0 ? (
        <p className="muted">No page tables: start a cluster on the Cluster tab.</p>
      ) : (
        <div className="coherence-body">
          <CoherenceMap model={model} focus={focus} onFocusChange={onFocusChange} selected={selected} onSelect={onSelect} describedBy={summaryId} />
          {selected ? (
            <RecordPanel model={model} selected={selected} onClose={() => setSelPick(null)} />
          ) : (
            <aside className="coherence-panel muted small" aria-label="Page record">
              Click a cell, or focus the map (Tab), move with the arrow keys and press Enter, to see the page&apos;s record and who holds it.
            </aside>
          )}
        </div>
      )}
    </section>
  );
}
