// Filtering and sorting of big tables outside TanStack. TanStack builds a row object
// (with its own caches) for every data row whenever the data changes: for the Page
// caches view at 128 clients that is 8,192 rows four times a second, ~18 ms of the
// renderer's main thread each time. A big table instead filters and sorts the plain
// data here, with the same rules TanStack applies (the column's sortFn or the same
// automatic choice, includesString over the globally filterable columns, ties in data
// order), and hands TanStack only the rows of the page on screen.
import { reSplitAlphaNumeric, type Row, type RowData, type SortingState } from '@tanstack/react-table';
import type { Columns, Features } from './DataTable.js';

/** Above this many rows a table filters, sorts and paginates outside TanStack. */
export const LARGE_TABLE_ROWS = 1000;

type SortFn = (a: Row<Features, RowData>, b: Row<Features, RowData>, columnId: string) => number;

interface ColumnInfo {
  id: string;
  get: (original: unknown, index: number) => unknown;
  canSort: boolean;
  canGlobalFilter: boolean;
  sortFn: SortFn | string | undefined;
  sortUndefined: unknown;
  invertSorting: boolean;
}

interface DefShape {
  id?: string;
  accessorKey?: string;
  accessorFn?: (row: unknown, index: number) => unknown;
  enableSorting?: boolean;
  enableGlobalFilter?: boolean;
  sortFn?: SortFn | string;
  sortUndefined?: unknown;
  invertSorting?: boolean;
}

function columnInfo<T extends RowData>(columns: Columns<T>): Map<string, ColumnInfo> {
  const out = new Map<string, ColumnInfo>();
  for (const c of columns as unknown as DefShape[]) {
    const key = c.accessorKey;
    const id = c.id ?? key;
    if (id === undefined) continue;
    const fn = c.accessorFn;
    const get = fn ?? (key !== undefined ? (o: unknown) => (o as Record<string, unknown>)[key] : null);
    if (!get) continue;
    out.set(id, {
      id,
      get,
      canSort: c.enableSorting !== false,
      // As DataTable's getColumnCanGlobalFilter: every accessor column unless opted out.
      canGlobalFilter: c.enableGlobalFilter !== false,
      sortFn: c.sortFn,
      sortUndefined: c.sortUndefined,
      invertSorting: c.invertSorting === true,
    });
  }
  return out;
}

/** A stand-in for TanStack's row, enough for sort functions: original, index, id and getValue. */
interface LiteRow {
  original: unknown;
  index: number;
  id: string;
  getValue: (columnId: string) => unknown;
}

/** TanStack's automatic sort function for a column: by the type of its first values. */
function autoSortFnName(rows: LiteRow[], id: string): string {
  let isString = false;
  for (const r of rows.slice(0, 10)) {
    const v = r.getValue(id);
    if (Object.prototype.toString.call(v) === '[object Date]') return 'datetime';
    if (typeof v === 'string') {
      isString = true;
      if (v.split(reSplitAlphaNumeric).length > 1) return 'alphanumeric';
    }
  }
  return isString ? 'text' : 'basic';
}

/**
 * The rows of `data` that match `globalFilter`, in the order `sorting` gives: what
 * TanStack's filtered and sorted row models would hold, as plain data.
 */
export function filterAndSort<T extends RowData>(
  data: readonly T[],
  columns: Columns<T>,
  sorting: SortingState,
  globalFilter: string,
  sortFns: Readonly<Record<string, SortFn>>,
): T[] {
  const filter = globalFilter === '' ? null : String(globalFilter).toLowerCase();
  if (filter === null && sorting.length === 0) return data as T[];
  const cols = columnInfo(columns);
  const lite = (original: T, index: number): LiteRow => {
    const cache = new Map<string, unknown>();
    return {
      original,
      index,
      id: String(index),
      getValue: (columnId) => {
        if (cache.has(columnId)) return cache.get(columnId);
        const v = cols.get(columnId)?.get(original, index);
        cache.set(columnId, v);
        return v;
      },
    };
  };
  let rows = data.map(lite);
  if (filter !== null) {
    const searchable = [...cols.values()].filter((c) => c.canGlobalFilter);
    rows = rows.filter((r) =>
      searchable.some((c) => {
        const v = r.getValue(c.id);
        return v != null && String(v).toLowerCase().includes(filter);
      }),
    );
  }
  const resolved = sorting.flatMap((s) => {
    const c = cols.get(s.id);
    if (!c?.canSort) return [];
    const named = typeof c.sortFn === 'function' ? null : (c.sortFn ?? autoSortFnName(rows, c.id));
    const fn = named === null ? (c.sortFn as SortFn) : sortFns[named];
    return fn ? [{ id: s.id, desc: s.desc, fn, sortUndefined: c.sortUndefined, invert: c.invertSorting }] : [];
  });
  if (resolved.length > 0) {
    const asRow = (r: LiteRow) => r as unknown as Row<Features, RowData>;
    rows.sort((a, b) => {
      for (const s of resolved) {
        let n = 0;
        if (s.sortUndefined) {
          const au = a.getValue(s.id) === undefined;
          const bu = b.getValue(s.id) === undefined;
          if (au && bu) continue;
          if (au || bu) {
            if (s.sortUndefined === 'first') return au ? -1 : 1;
            if (s.sortUndefined === 'last') return au ? 1 : -1;
            n = au ? Number(s.sortUndefined) : -Number(s.sortUndefined);
          }
        }
        if (n === 0) n = s.fn(asRow(a), asRow(b), s.id);
        if (n !== 0) return (s.desc ? -n : n) * (s.invert ? -1 : 1);
      }
      return a.index - b.index;
    });
  }
  return rows.map((r) => r.original as T);
}

/**
 * The rows of a long list worth rendering: those in the scroll box's view (`top` and `height`, in
 * px from the list's first row), with `overscan` more on each side; [start, end) in list order.
 * Big tables (DataTable) and the Messages view's operation list render only these.
 */
export function rowWindow(count: number, rowHeight: number, top: number, height: number, overscan = 10): { start: number; end: number } {
  const h = Math.max(1, rowHeight);
  const start = Math.max(0, Math.min(count, Math.floor(top / h) - overscan));
  const end = Math.max(start, Math.min(count, Math.ceil((top + Math.max(0, height)) / h) + overscan));
  return { start, end };
}
