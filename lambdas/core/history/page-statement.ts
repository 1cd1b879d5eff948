import type { z } from 'zod';
import type { Row, SqlParam } from '#core/ports/database.ts';
import type { TimeRange } from './query-params.ts';

/**
 * The building blocks of the list statements (history-queries.ts): WHERE clauses assembled from fixed
 * fragments, and one statement that returns a page together with its exact total.
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

/** Only the columns the view shows (the schema's keys): internals such as plan options stay home. */
export const columns = (schema: z.ZodObject, alias: string) =>
  Object.keys(schema.shape)
    .map((key) => `${alias}.${key}`)
    .join(', ');

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
 * reads the index only) and then its rows are fetched by primary key. `scope` puts a parent row in
 * front (the sync of an item list): no parent, no row at all.
 */
export function pageStatement(options: {
  table: string;
  schema: z.ZodObject;
  where: Where;
  order: readonly string[];
  scope?: { from: string; where: string; rows: string };
}): string {
  const { table, schema, order, scope } = options;
  const orderBy = (alias: string) => order.map((term) => `${alias}.${term}`).join(', ');
  const rows = scope ? `${scope.rows} AND ${options.where.sql}` : options.where.sql;
  const counted = totalSource(table, { ...options.where, sql: rows }, scope !== undefined);
  const from = scope ? `${scope.from} CROSS JOIN LATERAL ${counted}` : counted;
  return `SELECT counted.total_count, ${columns(schema, 'page')}
FROM ${from}
LEFT JOIN LATERAL (
  SELECT ${columns(schema, 'p')}
  FROM (SELECT t.id FROM ${table} t WHERE ${rows} ORDER BY ${orderBy('t')} LIMIT :limit OFFSET :offset) AS k
  JOIN ${table} p ON p.id = k.id
) AS page ON true
${scope ? `WHERE ${scope.where}\n` : ''}ORDER BY ${orderBy('page')}`;
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
