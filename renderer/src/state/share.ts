// Structural sharing between consecutive snapshots. Every snapshot arrives as fresh
// objects (JSON off the socket), so without this every node row, page row and record
// looks changed four times a second and every memoised row re-renders. share() keeps
// the previous object wherever the new one is deep-equal, so a reference changes only
// where a value did, and views can skip whatever kept its reference.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `next`, with every part deep-equal to the same part of `prev` replaced by `prev`'s.
 * Returns `prev` itself when the two are deep-equal. `next` is taken over: its arrays
 * and objects may be updated in place (it is fresh from the wire, nobody else holds it).
 */
export function share<T>(prev: unknown, next: T): T {
  if (Object.is(prev, next)) return prev as T;
  if (Array.isArray(next)) {
    if (!Array.isArray(prev)) return next;
    let same = prev.length === next.length;
    for (let i = 0; i < next.length; i++) {
      const s: unknown = share(prev[i], next[i]);
      if (!Object.is(s, prev[i]) || i >= prev.length) same = false;
      next[i] = s;
    }
    return same ? (prev as T) : next;
  }
  if (isPlainObject(next)) {
    if (!isPlainObject(prev)) return next;
    const out: Record<string, unknown> = next;
    let same = true;
    let count = 0;
    for (const k in next) {
      if (!Object.hasOwn(next, k)) continue;
      count++;
      const s: unknown = share(prev[k], next[k]);
      if (!Object.is(s, prev[k]) || !Object.hasOwn(prev, k)) same = false;
      if (s !== next[k]) out[k] = s;
    }
    if (same) for (const k in prev) if (Object.hasOwn(prev, k)) count--;
    return same && count === 0 ? (prev as T) : next;
  }
  return next;
}
