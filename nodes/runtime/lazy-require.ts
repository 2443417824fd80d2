// A CommonJS module required on first use rather than at load. Node processes may
// start from a V8 start-up snapshot (scripts/build-nodes.mjs), whose modules were
// evaluated when the snapshot was built: a native addon (zeromq) cannot be loaded
// then, and where node_modules is is only known when the node runs.
import { createRequire } from 'node:module';

/** Where `require` resolves from: this bundle's URL, or what the snapshot's entry sets at start (requireBase). */
let base: string | undefined;

/** Called by a node started from the snapshot before anything is required: the path its bundle would have. */
export function setRequireBase(path: string): void {
  base = path;
}

export function lazyRequire<T extends object>(id: string): T {
  let mod: T | undefined;
  const load = (): T => (mod ??= createRequire(base ?? import.meta.url)(id) as T);
  return new Proxy({} as T, { get: (_target, key) => Reflect.get(load(), key) as unknown });
}
