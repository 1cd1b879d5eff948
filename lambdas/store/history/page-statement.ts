import type { TimeRange } from '#core/domain/history-filters.ts';
import type { Row, SqlParam } from '#store/database.ts';

/**
 * The building blocks of the list statements (history-queries.ts): WHERE clauses assembled from fixed
 * fragments, one statement that returns a page together with its exact total, and the chunked reads
 * of a list in one column's order (one sync's items).
 */

type Params = Record<string, SqlParam>;

/**
 * A fixed SQL fragment on the listed rows (alias `t`) and the one parameter it reads, used only when
 * the value is present. `counted` is the same test on the trigger-kept counters of migration 0007
 * (table `history_row_counts`, alias `c`) when they keep that column: which counter, and the test on
 * its `value` that selects exactly the rows the fragment selects.
 */
export interface Condition {
  sql: string;
  name: string;
  value: SqlParam | undefined;
  counted?: { counter: string; value: string };
}

export const condition = (
  sql: string,
  name: string,
  value: SqlParam | undefined,
  counted?: Condition['counted'],
): Condition => (counted ? { sql, name, value, counted } : { sql, name, value });

/** The conditions that apply (their value is present), as one WHERE clause and its parameters. */
export interface Where {
  used: readonly Condition[];
  sql: string;
  params: Params;
}

export function where(conditions: readonly Condition[]): Where {
  const used = conditions.filter((c) => c.value !== undefined);
  return {
    used,
    sql: used.length ? used.map((c) => c.sql).join(' AND ') : 'true',
    params: Object.fromEntries(used.map((c) => [c.name, c.value as SqlParam])),
  };
}

export const rangeConditions = (range: Partial<TimeRange>, alias = ''): Condition[] => [
  condition(`${alias}created_at >= CAST(:createdFrom AS timestamptz)`, 'createdFrom', range.from),
  condition(`${alias}created_at < CAST(:createdBefore AS timestamptz)`, 'createdBefore', range.before),
  condition(`${alias}created_at <= CAST(:createdUntil AS timestamptz)`, 'createdUntil', range.until),
];

/**
 * `%` and `_` match themselves: the user's text is a literal substring. The escape character is `!`,
 * not PostgreSQL's default backslash, so no SQL parser on the way (Data API included) has to agree on
 * what a backslash inside a string literal means.
 */
export const containsPattern = (text: string) => `%${text.replace(/[!%_]/g, '!$&')}%`;

/** Only the columns the view is made of: internals such as plan options stay home. */
const select = (columns: readonly string[], alias: string) =>
  columns.map((column) => `${alias}.${column}`).join(', ');

/**
 * Where the total comes from. Without a filter, or with exactly one filter the counters keep, it is
 * the sum of a few counter rows (O(1) however large the table); otherwise the filtered rows are
 * counted. Both are exact and read the statement's snapshot, like the page.
 */
function totalSource(table: string, w: Where, scoped: boolean): string {
  // Counters exist per table, not per parent row: a scoped list (one sync's items) is always counted.
  const kept =
    scoped || w.used.length > 1
      ? undefined
      : w.used.length === 0
        ? { counter: table, value: "c.value = ''" }
        : w.used[0]?.counted;
  if (kept) {
    return `(SELECT coalesce(sum(c.n), 0)::bigint AS total_count FROM history_row_counts c
  WHERE c.counter = '${kept.counter}' AND ${kept.value}) AS counted`;
  }
  return `(SELECT count(*)::bigint AS total_count FROM ${table} t WHERE ${w.sql}) AS counted`;
}

/**
 * One page plus the total. The total sits on the left of a LEFT JOIN so an empty page (offset past
 * the end) still returns one row carrying it, with NULL page columns. The page is found by id first
 * (a "deferred join": the ORDER BY columns and the id are all in an index, so skipping `offset` rows
 * reads the index only) and then its rows are fetched by primary key.
 */
export function pageStatement(options: {
  table: string;
  /** What the page rows bring back (the columns the view is computed from, and the `order` columns). */
  columns: readonly string[];
  where: Where;
  order: readonly string[];
}): string {
  const { table, order } = options;
  const orderBy = (alias: string) => order.map((term) => `${alias}.${term}`).join(', ');
  const counted = totalSource(table, options.where, false);
  return `SELECT counted.total_count, ${select(options.columns, 'page')}
FROM ${counted}
LEFT JOIN LATERAL (
  SELECT ${select(options.columns, 'p')}
  FROM (SELECT t.id FROM ${table} t WHERE ${options.where.sql} ORDER BY ${orderBy('t')} LIMIT :limit OFFSET :offset) AS k
  JOIN ${table} p ON p.id = k.id
) AS page ON true
ORDER BY ${orderBy('page')}`;
}

/**
 * The rows of a list under one parent row (`scope`: an item list under its sync), in the order of ONE
 * column unique among them (an item's plan position), read in chunks that each fit one Data API answer.
 * `first` returns the total and the first chunk of the page starting at `:offset` (or, with no parent,
 * no row at all; past the end, one row with the total and NULL page columns); `next` the chunk after
 * the `:after` value. A chunk is at most `:chunkRows` rows, and stops before the row that would take
 * its answer past `:chunkBytes` by `rowBytes` (one row at least). Every statement reads its rows from
 * an index in `order` (the value at the offset from the index alone, the chunk by one range scan from
 * there): none sorts more than its chunk.
 */
export function chunkStatements(options: {
  table: string;
  /** What the rows bring back (the columns the view is computed from, and the `order` column). */
  columns: readonly string[];
  where: Where;
  order: string;
  scope: { from: string; where: string; rows: string };
  /** SQL on alias `t`: at least the bytes one row adds to a Data API answer. */
  rowBytes: string;
}): { first: string; next: string } {
  const { table, columns, order, scope } = options;
  const rows = `${scope.rows} AND ${options.where.sql}`;
  const counted = totalSource(table, { ...options.where, sql: rows }, true);
  // The filter fragments are written for alias `t`: in the offset's subquery, its own `t` hides the
  // outer one, so both read the same fragments.
  const chunk = (from: string) => `SELECT ${select(columns, 't')},
      sum(${options.rowBytes}) OVER w AS chunk_bytes, row_number() OVER w AS chunk_row
    FROM ${table} t
    WHERE ${rows} AND t.${order} ${from}
    WINDOW w AS (ORDER BY t.${order} ROWS UNBOUNDED PRECEDING)
    ORDER BY t.${order} LIMIT :chunkRows`;
  const fits = (alias: string) => `(${alias}.chunk_bytes <= :chunkBytes OR ${alias}.chunk_row = 1)`;
  const first = `SELECT counted.total_count, ${select(columns, 'page')}
FROM ${scope.from} CROSS JOIN LATERAL ${counted}
LEFT JOIN LATERAL (
  SELECT ${select(columns, 'c')} FROM (
    ${chunk(`>= (SELECT t.${order} FROM ${table} t WHERE ${rows} ORDER BY t.${order} OFFSET :offset LIMIT 1)`)}
  ) c
  WHERE ${fits('c')}
) AS page ON true
WHERE ${scope.where}
ORDER BY page.${order}`;
  const next = `SELECT ${select(columns, 'c')}
FROM ${scope.from} CROSS JOIN LATERAL (
    ${chunk('> :after')}
) c
WHERE ${scope.where} AND ${fits('c')}
ORDER BY c.${order}`;
  return { first, next };
}

/** The page's rows and its pagination (CONTRACT.md §1): `has_more = offset + data.length < total`. */
export function toPage<T>(
  rows: Row[],
  filters: { limit: number; offset: number },
  map: (row: Row) => T,
): {
  data: T[];
  pagination: { total: number; limit: number; offset: number; has_more: boolean };
} {
  const total = (rows[0]?.total_count as number | undefined) ?? 0;
  const data = rows.filter((row) => row.id !== null).map(map);
  return {
    data,
    pagination: {
      total,
      limit: filters.limit,
      offset: filters.offset,
      has_more: filters.offset + data.length < total,
    },
  };
}
