// The one table component: TanStack Table v9 with sortable headers, a filter box
// and (for big tables) pagination, so 4096 page rows never hit the DOM at once.
import { memo, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  columnFilteringFeature,
  createColumnHelper,
  createFilteredRowModel,
  createPaginatedRowModel,
  createSortedRowModel,
  FlexRender,
  filterFn_includesString,
  globalFilteringFeature,
  rowPaginationFeature,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_basic,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type PaginationState,
  type Row,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';
import { usePersistentState } from '../state/persist.js';
import { LARGE_TABLE_ROWS, filterAndSort, rowWindow } from './table-rows.js';

export interface ColumnMetaInfo {
  /** Right-align numbers. */
  numeric?: boolean;
  /** Extra class on every cell of the column. */
  className?: string;
}

export const features = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, basic: sortFn_basic, text: sortFn_text },
  columnFilteringFeature,
  globalFilteringFeature,
  filteredRowModel: createFilteredRowModel(),
  filterFns: { includesString: filterFn_includesString },
  rowPaginationFeature,
  paginatedRowModel: createPaginatedRowModel(),
  columnMeta: {} as ColumnMetaInfo,
});

export type Features = typeof features;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Columns<T extends RowData> = ColumnDef<Features, T, any>[];

export function columnHelper<T extends RowData>() {
  return createColumnHelper<Features, T>();
}

export interface DataTableProps<T extends RowData> {
  /** Accessible name of the table, also the key under which its sorting and filter persist. */
  label: string;
  data: T[];
  columns: Columns<T>;
  getRowId: (row: T) => string;
  testId?: string;
  initialSorting?: SortingState;
  /** Paginate when there are more rows than this (default 200). */
  pageSize?: number;
  rowTestId?: (row: T) => string | undefined;
  rowClassName?: (row: T) => string | undefined;
  toolbar?: ReactNode;
  emptyText?: string;
  filterPlaceholder?: string;
  /** Hide the filter box and row count (tiny tables). */
  noFilter?: boolean;
  /** Size the table to its content instead of the full width. */
  compact?: boolean;
  caption?: ReactNode;
}

const PAGE_SIZES = [50, 100, 200, 500, 1000];
/** Rows rendered at first in a big table's page (more than a 70vh scroll box holds), and kept beyond its edges. */
const INITIAL_WINDOW = 40;
const OVERSCAN = 12;
const ROW_HEIGHT_GUESS = 30;

/** Stands in for rows outside a big table's scroll box. */
function Spacer({ rows, rowHeight, colSpan }: { rows: number; rowHeight: number; colSpan: number }) {
  return (
    <tr className="virtual-spacer" aria-hidden="true" style={{ height: rows * rowHeight }}>
      <td colSpan={colSpan} />
    </tr>
  );
}

function DataTableInner<T extends RowData>(props: DataTableProps<T>) {
  const {
    label,
    data,
    columns,
    getRowId,
    testId,
    initialSorting = [],
    pageSize: threshold = 200,
    rowTestId,
    rowClassName,
    toolbar,
    emptyText = 'Nothing to show.',
    filterPlaceholder = 'Filter…',
    noFilter = false,
    compact = false,
    caption,
  } = props;
  const key = `table:${label}`;
  const [sorting, setSorting] = usePersistentState<SortingState>(`${key}:sort`, initialSorting);
  const [globalFilter, setGlobalFilter] = usePersistentState<string>(`${key}:filter`, '');
  const [pagination, setPagination] = usePersistentState<PaginationState>(`${key}:page`, {
    pageIndex: 0,
    pageSize: PAGE_SIZES.includes(threshold) ? threshold : 200,
  });
  const filterId = useId();

  // Big tables (Page caches: 8,192 rows at 128 clients) filter, sort and paginate here
  // and give TanStack only the page on screen; small ones use TanStack's row models.
  const large = data.length > LARGE_TABLE_ROWS;
  const matching = useMemo(
    () => (large ? filterAndSort(data, columns, sorting, globalFilter, features.sortFns) : null),
    [large, data, columns, sorting, globalFilter],
  );
  const pageStart = pagination.pageIndex * pagination.pageSize;
  const largePaginate = matching !== null && matching.length > threshold;
  const pageRows = useMemo(
    () => (matching === null ? null : largePaginate ? matching.slice(pageStart, pageStart + pagination.pageSize) : matching),
    [matching, largePaginate, pageStart, pagination.pageSize],
  );
  // Of a big table's page only the rows in (and near) the scroll box are rendered;
  // spacer rows keep the scroll height, so the scroll bar and position stay honest.
  const scroller = useRef<HTMLDivElement>(null);
  const rowHeight = useRef(ROW_HEIGHT_GUESS);
  const [span, setSpan] = useState<readonly [number, number]>([0, INITIAL_WINDOW]);
  const virtual = pageRows !== null && pageRows.length > INITIAL_WINDOW;
  const total = pageRows?.length ?? 0;
  const winStart = virtual ? Math.min(span[0], Math.max(0, total - INITIAL_WINDOW)) : 0;
  const winEnd = virtual ? Math.min(total, Math.max(span[1], winStart + INITIAL_WINDOW)) : total;
  const pageData = useMemo(
    () => (pageRows === null ? data : virtual ? pageRows.slice(winStart, winEnd) : pageRows),
    [pageRows, data, virtual, winStart, winEnd],
  );
  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    // The rows in view, no overscan (the page's end clamps them later); the window moves only when they near its edge.
    const seen = rowWindow(Number.MAX_SAFE_INTEGER, rowHeight.current, el.scrollTop, el.clientHeight, 0);
    setSpan((prev) =>
      seen.start - OVERSCAN / 2 >= prev[0] && seen.end + OVERSCAN / 2 <= prev[1] ? prev : ([Math.max(0, seen.start - OVERSCAN), seen.end + OVERSCAN] as const),
    );
  }, []);
  // Measure a real row once rows are on screen, then fit the window to the scroll box.
  useLayoutEffect(() => {
    if (!virtual) return;
    const tr = scroller.current?.querySelector<HTMLTableRowElement>('tbody tr:not(.virtual-spacer)');
    if (tr && tr.offsetHeight > 0) rowHeight.current = tr.offsetHeight;
    onScroll();
  }, [virtual, pagination.pageIndex, pagination.pageSize, onScroll]);

  const table = useTable({
    features,
    columns,
    data: pageData,
    getRowId,
    manualFiltering: large,
    manualSorting: large,
    manualPagination: large,
    rowCount: matching?.length,
    state: { sorting, globalFilter, pagination },
    onSortingChange: setSorting,
    onGlobalFilterChange: (u: unknown) =>
      setGlobalFilter((prev) => String(typeof u === 'function' ? (u as (p: string) => unknown)(prev) : (u ?? ''))),
    onPaginationChange: setPagination,
    globalFilterFn: 'includesString',
    getColumnCanGlobalFilter: (column) => {
      const def = column.columnDef as { accessorKey?: unknown; accessorFn?: unknown; enableGlobalFilter?: boolean };
      return def.enableGlobalFilter !== false && (def.accessorKey != null || def.accessorFn != null);
    },
    autoResetPageIndex: false,
    enableSortingRemoval: true,
  });

  const filteredCount = matching?.length ?? table.getPrePaginatedRowModel().rows.length;
  const paginate = filteredCount > threshold;
  const pageCount = paginate ? table.getPageCount() : 1;

  // Keep the page index valid when rows disappear (filtering, a stopped cluster).
  useEffect(() => {
    if (paginate && pagination.pageIndex > 0 && pagination.pageIndex >= pageCount) {
      setPagination((p) => ({ ...p, pageIndex: Math.max(0, pageCount - 1) }));
    }
  }, [paginate, pageCount, pagination.pageIndex, setPagination]);

  const rows = paginate && !large ? table.getRowModel().rows : table.getPrePaginatedRowModel().rows;

  return (
    <div className={compact ? 'data-table compact' : 'data-table'} data-testid={testId}>
      {(!noFilter || toolbar) && (
        <div className="table-toolbar">
          {!noFilter && (
            <>
              <label htmlFor={filterId} className="visually-hidden">
                Filter {label}
              </label>
              <input
                id={filterId}
                type="search"
                className="filter-input"
                placeholder={filterPlaceholder}
                value={globalFilter}
                onChange={(e) => setGlobalFilter(e.target.value)}
                aria-label={`Filter ${label}`}
                data-testid={testId ? `${testId}-filter` : undefined}
              />
            </>
          )}
          {!noFilter && (
            <span className="table-count" aria-live="polite">
              {filteredCount === data.length ? `${data.length} rows` : `${filteredCount} of ${data.length} rows`}
            </span>
          )}
          {toolbar}
        </div>
      )}
      <div className="table-scroll" ref={scroller} onScroll={virtual ? onScroll : undefined}>
        <table aria-label={label}>
          {caption && <caption>{caption}</caption>}
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  const canSort = header.column.getCanSort();
                  const meta = header.column.columnDef.meta;
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      className={meta?.numeric ? 'num' : undefined}
                      aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : canSort ? 'none' : undefined}
                    >
                      {header.isPlaceholder ? null : canSort ? (
                        <button
                          type="button"
                          className="sort-button"
                          onClick={header.column.getToggleSortingHandler()}
                          title="Sort (shift-click to sort by several columns)"
                        >
                          <table.FlexRender header={header} />
                          <span className="sort-indicator" aria-hidden="true">
                            {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : '↕'}
                          </span>
                        </button>
                      ) : (
                        <table.FlexRender header={header} />
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={columns.length} className="empty">
                  {data.length === 0 ? emptyText : 'No rows match the filter.'}
                </td>
              </tr>
            ) : (
              <>
                {virtual && winStart > 0 && <Spacer rows={winStart} rowHeight={rowHeight.current} colSpan={columns.length} />}
                {rows.map((row) => (
                  <DataRow
                    key={row.id}
                    row={row}
                    columns={columns}
                    testId={rowTestId?.(row.original)}
                    className={rowClassName?.(row.original)}
                  />
                ))}
                {virtual && winEnd < total && <Spacer rows={total - winEnd} rowHeight={rowHeight.current} colSpan={columns.length} />}
              </>
            )}
          </tbody>
        </table>
      </div>
      {paginate && (
        <nav className="pager" aria-label={`${label} pages`}>
          <button type="button" onClick={() => table.firstPage()} disabled={!table.getCanPreviousPage()} aria-label="First page">
            «
          </button>
          <button type="button" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()} aria-label="Previous page">
            ‹
          </button>
          <span>
            Page {pagination.pageIndex + 1} of {pageCount}
          </span>
          <button type="button" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()} aria-label="Next page">
            ›
          </button>
          <button type="button" onClick={() => table.lastPage()} disabled={!table.getCanNextPage()} aria-label="Last page">
            »
          </button>
          <label>
            Rows per page{' '}
            <select value={pagination.pageSize} onChange={(e) => table.setPageSize(Number(e.target.value))}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </nav>
      )}
    </div>
  );
}

export const DataTable = memo(DataTableInner) as typeof DataTableInner;

interface DataRowProps<T extends RowData> {
  row: Row<Features, T>;
  /** Only compared: new column definitions re-render every row. */
  columns: Columns<T>;
  testId: string | undefined;
  className: string | undefined;
}

function DataRowInner<T extends RowData>({ row, testId, className }: DataRowProps<T>) {
  return (
    <tr data-testid={testId} className={className}>
      {row.getAllCells().map((cell) => {
        const meta = cell.column.columnDef.meta;
        const cls = [meta?.numeric ? 'num' : '', meta?.className ?? ''].join(' ').trim();
        return (
          <td key={cell.id} className={cls || undefined}>
            <FlexRender cell={cell} />
          </td>
        );
      })}
    </tr>
  );
}

/**
 * A row re-renders only when its data object changed (snapshots share unchanged
 * objects, see state/share.ts) or the columns did: a snapshot that changed three page
 * rows re-renders three rows, not the hundred on screen. Cells that show time or
 * command state (Uptime, NodeActions) subscribe to those themselves.
 */
const DataRow = memo(
  DataRowInner,
  (a, b) =>
    a.row.original === b.row.original &&
    a.row.id === b.row.id &&
    a.columns === b.columns &&
    a.testId === b.testId &&
    a.className === b.className,
) as typeof DataRowInner;

/** Memoises column definitions for the lifetime of a component. */
export function useColumns<T extends RowData>(make: () => Columns<T>, deps: readonly unknown[] = []): Columns<T> {
  return useMemo(make, deps);
}
