// View state that should survive switching tabs (sorting, filters, selections) lives
// here, outside the unmounted view, for the lifetime of the page.
import { useCallback, useState } from 'react';

const memory = new Map<string, unknown>();

export function usePersistentState<T>(key: string, initial: T): [T, (v: T | ((prev: T) => T)) => void] {
  const [value, setValue] = useState<T>(() => (memory.has(key) ? (memory.get(key) as T) : initial));
  const set = useCallback(
    (v: T | ((prev: T) => T)) => {
      setValue((prev) => {
        const next = typeof v === 'function' ? (v as (p: T) => T)(prev) : v;
        memory.set(key, next);
        return next;
      });
    },
    [key],
  );
  return [value, set];
}
