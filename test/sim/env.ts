// Seed counts and ranges come from the environment so a failing seed can be replayed
// or a sweep widened without editing the tests.

/** A non-negative integer from `process.env[name]`, or `fallback` when unset or empty. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}
