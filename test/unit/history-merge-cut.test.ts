// Reading a live run's history: the clients keep appending while their files are read
// one after another. Here c0's file is read first; then c0 writes c0:2 and c1 reads it,
// and only then is c1's file read. Merged naively, the history holds a read of c0:2 but
// no write of it (not linearizable, though the cluster did nothing wrong); cut at the
// moment before the first file was read, it is consistent.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHistory } from '../../nodes/control/history/linearizability.js';
import { mergeClientLogs } from '../../nodes/control/history/merge.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const line = (o: object) => JSON.stringify(o) + '\n';

describe('mergeClientLogs with a cut', () => {
  it('leaves out what was invoked after the cut and treats later completions as in flight', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivy-cut-'));
    dirs.push(dir);
    // Before the cut (t <= 1000): c0 wrote c0:1, c1 read it.
    writeFileSync(join(dir, 'c0.0.jsonl'), line({ i: 1, op: 'write', page: 0, value: 'c0:1', start: 100 }) + line({ c: 1, value: 'c0:1', end: 200, outcome: 'ok', fault: true }));
    writeFileSync(
      join(dir, 'c1.0.jsonl'),
      line({ i: 1, op: 'read', page: 0, value: null, start: 300 }) +
        line({ c: 1, value: 'c0:1', end: 400, outcome: 'ok', fault: true }) +
        // In flight across the cut: invoked before it, completed after it.
        line({ i: 2, op: 'read', page: 0, value: null, start: 900 }),
    );
    const cut = 1000;
    // After the cut, as if c0's file had already been read: c0 writes c0:2 (its file is not
    // read again), and c1 completes read 2 and reads c0:2 — both lines land in c1's file.
    appendFileSync(join(dir, 'c1.0.jsonl'), line({ c: 2, value: 'c0:1', end: 1100, outcome: 'ok', fault: true }));
    appendFileSync(join(dir, 'c1.0.jsonl'), line({ i: 3, op: 'read', page: 0, value: null, start: 1200 }) + line({ c: 3, value: 'c0:2', end: 1300, outcome: 'ok', fault: true }));

    const naive = mergeClientLogs(dir);
    expect(checkHistory(naive).ok).toBe(false); // a read of c0:2, which nobody wrote in this history

    const ops = mergeClientLogs(dir, { cutNs: cut });
    expect(ops.map((o) => [o.client, o.op, o.value, o.outcome])).toEqual([
      ['c0', 'write', 'c0:1', 'ok'],
      ['c1', 'read', 'c0:1', 'ok'],
      ['c1', 'read', null, 'unknown'],
    ]);
    expect(checkHistory(ops).ok).toBe(true);
  });
});
