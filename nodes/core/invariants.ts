// The invariants of DESIGN §2, checked over a manager and its clients. Tests and the
// simulator call this after every step; it returns violations instead of throwing so
// a failing seed can print all of them at once.
import type { NodeId } from '../protocol/messages.js';
import type { ClientCore } from './client.js';
import type { ManagerCore } from './manager.js';

//
// With client leases, a copy counts only while its holder may serve it: `canServe` (e.g. the client's
// lease is valid at the simulated instant) leaves out clients that would revalidate first. A client
// paused past its eviction still holds its old copies, harmlessly; the record may still list it until
// the eviction, so pages such a client holds or is listed for are not compared with the record.
export function checkInvariants(manager: ManagerCore, clients: readonly ClientCore[], canServe?: (c: ClientCore) => boolean): string[] {
  const problems: string[] = [];
  const records = manager.recordCache();
  const suspended = canServe ? clients.filter((c) => !canServe(c)) : [];
  const serving = canServe ? clients.filter((c) => canServe(c)) : clients;
  for (const rec of records) {
    const { page } = rec;
    const views = serving.map((c) => ({ id: c.id, view: c.pageTable()[page]!, bytes: c.pageBytes(page) }));
    const writers = views.filter((v) => v.view.access === 'write');
    const holders = views.filter((v) => v.view.access !== 'none');
    const owners = views.filter((v) => v.view.owner);
    if (writers.length > 1) problems.push(`page ${page}: ${writers.length} writers (${writers.map((w) => w.id).join(', ')})`);
    if (writers.length === 1 && holders.length > 1) {
      problems.push(`page ${page}: ${writers[0]!.id} has write access while ${holders.filter((h) => h !== writers[0]).map((h) => h.id).join(', ')} hold copies`);
    }
    if (owners.length > 1) problems.push(`page ${page}: ${owners.length} clients think they own it`);
    const owner = owners[0];
    if (owner && owner.view.access !== 'none') {
      for (const h of holders) {
        if (h.view.version !== owner.view.version) {
          problems.push(`page ${page}: ${h.id} holds version ${h.view.version}, owner ${owner.id} has ${owner.view.version}`);
        } else if (h.bytes && owner.bytes && !equalBytes(h.bytes, owner.bytes)) {
          problems.push(`page ${page}: ${h.id}'s copy differs from owner ${owner.id}'s bytes at the same version`);
        }
      }
    }
    const quiet = rec.active === null && rec.queue.length === 0 && views.every((v) => v.view.pending === null);
    if (!quiet) continue;
    const involved = suspended.some((c) => {
      const v = c.pageTable()[page]!;
      return v.access !== 'none' || v.owner || v.pending !== null || rec.owner === c.id || rec.copyset.includes(c.id);
    });
    if (involved) continue;
    const ownerId: NodeId | null = owner?.id ?? null;
    if (rec.owner !== ownerId) problems.push(`page ${page}: manager says owner ${rec.owner}, clients say ${ownerId}`);
    const copies = holders.filter((h) => h.id !== ownerId).map((h) => h.id).sort();
    if (copies.join(',') !== rec.copyset.join(',')) {
      problems.push(`page ${page}: manager copy set [${rec.copyset.join(',')}], clients holding copies [${copies.join(',')}]`);
    }
    if (owner && rec.version > owner.view.version) {
      problems.push(`page ${page}: manager version ${rec.version} ahead of owner's ${owner.view.version}`);
    }
  }
  return problems;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
