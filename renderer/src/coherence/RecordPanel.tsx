// The side panel for one page: the serving manager's record (owner, copy set, version,
// active request, queue, lost) and what every client's page table says about it.
import type { RecordView } from '../../../nodes/core/types.js';
import { cellAt, type Focus, type GridModel } from './model.js';

function describeActive(a: RecordView['active']): string {
  return a ? `${a.kind} by ${a.requester} #${a.req} (${a.phase})` : '–';
}

export function RecordPanel({ model, selected, onClose }: { model: GridModel; selected: Focus; onClose: () => void }) {
  const { row, col: page } = selected;
  const client = model.clients[row] ?? '?';
  const rec = model.records[page] ?? null;
  const cell = cellAt(model, row, page);
  const holders = model.clients
    .map((id, r) => ({ id, c: cellAt(model, r, page) }))
    .filter((h) => h.c && (h.c.access !== 'none' || h.c.owner || h.c.pending));
  return (
    <aside className="coherence-panel" aria-labelledby="coherence-panel-title" data-testid="coherence-panel" data-page={page} data-client={client}>
      <div className="coherence-panel-head">
        <h3 id="coherence-panel-title">Page {page}</h3>
        <button type="button" className="link" onClick={onClose} aria-label="Close page record">
          ✕
        </button>
      </div>
      <h4>
        Record{' '}
        <span className="muted small">{model.manager ? `from ${model.manager} (serving manager)` : 'no manager is reporting records'}</span>
      </h4>
      {rec ? (
        <dl className="kv" data-testid="coherence-record">
          <dt>Owner</dt>
          <dd data-testid="coherence-record-owner">{rec.owner ?? '–'}</dd>
          <dt>Copy set</dt>
          <dd data-testid="coherence-record-copyset">{rec.copyset.length ? [...rec.copyset].join(' ') : '–'}</dd>
          <dt>Version</dt>
          <dd data-testid="coherence-record-version">{rec.version}</dd>
          <dt>Active request</dt>
          <dd className={rec.active ? 'busy-text' : undefined}>{describeActive(rec.active)}</dd>
          <dt>Queue</dt>
          <dd>{rec.queue.length ? rec.queue.map((q) => `${q.kind} by ${q.requester} #${q.req}`).join(', ') : '–'}</dd>
          {rec.lostWith && (
            <>
              <dt>Lost</dt>
              <dd className="error-text">with {rec.lostWith}</dd>
            </>
          )}
        </dl>
      ) : (
        <p className="muted small">{model.manager ? `${model.manager} has no record of page ${page}.` : 'No record.'}</p>
      )}
      <h4>
        {client} <span className="muted small">page table</span>
      </h4>
      {cell ? (
        <dl className="kv" data-testid="coherence-cell">
          <dt>Access</dt>
          <dd>
            <span className={`badge access-${cell.access}`}>{cell.access}</span>
            {cell.owner && ' ● owner'}
          </dd>
          <dt>Version</dt>
          <dd>{cell.version}</dd>
          <dt>Token</dt>
          <dd className="mono">{cell.token ?? '–'}</dd>
          <dt>Pending</dt>
          <dd className={cell.pending ? 'busy-text' : undefined}>{cell.pending ? `${cell.pending} fault` : '–'}</dd>
        </dl>
      ) : (
        <p className="muted small">No page table from {client}.</p>
      )}
      <h4>
        Held by <span className="muted small">(client page tables)</span>
      </h4>
      {holders.length ? (
        <ul className="holders">
          {holders.map((h) => (
            <li key={h.id}>
              <span className="mono">{h.id}</span> <span className={`badge access-${h.c?.access ?? 'none'}`}>{h.c?.access}</span>
              {h.c?.owner && ' ●'} <span className="muted small">v{h.c?.version}</span>
              {h.c?.pending && <span className="busy-text small"> · {h.c.pending} pending</span>}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No client holds page {page}.</p>
      )}
    </aside>
  );
}
