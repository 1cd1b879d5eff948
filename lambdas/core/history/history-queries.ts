import { z } from 'zod';
import { AuditActionType, AuditLog } from '#core/audit/audit-log-repository.ts';
import { NotFoundError } from '#core/errors.ts';
import type { Queryable, Row, SqlParam } from '#core/ports/database.ts';
import { sqlUuid } from '#core/ports/database.ts';
import {
  pickView,
  SyncHistory,
  SyncHistoryItem,
  toSyncHistory,
  toSyncHistoryItem,
} from '#core/sync/sync-history-view.ts';
import type { AuditLogFilters, SyncHistoryFilters, SyncItemsFilters, TimeRange } from './query-params.ts';

/**
 * The read side of the history and audit pages (CONTRACT.md §4). Each function is ONE statement,
 * written once for every adapter: the WHERE clause is assembled from fixed fragments chosen by which
 * filters are present (so PostgreSQL plans each combination against the indexes), and user values
 * only ever travel as `:name` parameters. Lists return the page and the total from one statement,
 * so both come from the same snapshot.
 */

const count = z.number().int().nonnegative();

/** `limit` is the effective (capped) limit; `has_more = offset + data.length < total`. */
export const Pagination = z.object({
  total: count,
  limit: count.positive(),
  offset: count,
  has_more: z.boolean(),
});
export type Pagination = z.infer<typeof Pagination>;

const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), pagination: Pagination });
export const SyncHistoryPage = page(SyncHistory);
export type SyncHistoryPage = z.infer<typeof SyncHistoryPage>;
export const SyncHistoryItemPage = page(SyncHistoryItem);
export type SyncHistoryItemPage = z.infer<typeof SyncHistoryItemPage>;
export const AuditLogPage = page(AuditLog);
export type AuditLogPage = z.infer<typeof AuditLogPage>;

export const SyncStats = z.object({
  total_syncs: count,
  completed_syncs: count,
  failed_syncs: count,
  cancelled_syncs: count,
  /** completed / total × 100, 2 decimals; 0 without syncs. */
  success_rate: z.number().min(0).max(100),
  /** Mean `duration_ms` of the completed syncs, rounded; 0 without any. */
  average_duration_ms: count,
  total_items_created: count,
  total_items_failed: count,
});
export type SyncStats = z.infer<typeof SyncStats>;

export const AuditStats = z.object({
  total_events: count,
  /** Events of the current UTC day (within the requested window). */
  events_today: count,
  /** Only the action types that occur. */
  action_type_counts: z.partialRecord(AuditActionType, count.positive()),
});
export type AuditStats = z.infer<typeof AuditStats>;

type Params = Record<string, SqlParam>;

/** A fixed SQL fragment and the one parameter it reads, used only when the value is present. */
type Condition = readonly [fragment: string, name: string, value: SqlParam | undefined];

function where(conditions: readonly Condition[]): { sql: string; params: Params } {
  const used = conditions.filter(([, , value]) => value !== undefined);
  return {
    sql: used.length ? used.map(([fragment]) => fragment).join(' AND ') : 'true',
    params: Object.fromEntries(used.map(([, name, value]) => [name, value as SqlParam])),
  };
}

const rangeConditions = (range: Partial<TimeRange>, alias = ''): Condition[] => [
  [`${alias}created_at >= CAST(:createdFrom AS timestamptz)`, 'createdFrom', range.from],
  [`${alias}created_at < CAST(:createdBefore AS timestamptz)`, 'createdBefore', range.before],
  [`${alias}created_at <= CAST(:createdUntil AS timestamptz)`, 'createdUntil', range.until],
];

/**
 * `%` and `_` match themselves: the user's text is a literal substring. The escape character is `!`,
 * not PostgreSQL's default backslash, so no SQL parser on the way (Data API included) has to agree on
 * what a backslash inside a string literal means.
 */
const containsPattern = (text: string) => `%${text.replace(/[!%_]/g, '!$&')}%`;

/** Only the columns the view shows (the schema's keys): internals such as plan options stay home. */
const columns = (schema: z.ZodObject, alias: string) =>
  Object.keys(schema.shape)
    .map((key) => `${alias}.${key}`)
    .join(', ');

/**
 * One page plus the total. The count sits on the left of a LEFT JOIN so an empty page (offset past
 * the end) still returns one row carrying the total, with NULL page columns. `scope` puts a parent row
 * in front (the sync of an item list): no parent, no row at all.
 */
function pageStatement(options: {
  table: string;
  schema: z.ZodObject;
  where: string;
  order: readonly string[];
  scope?: { from: string; where: string };
}): string {
  const { table, schema, order, scope } = options;
  const orderBy = (alias: string) => order.map((term) => `${alias}.${term}`).join(', ');
  const counted = `(SELECT count(*)::int AS total_count FROM ${table} t WHERE ${options.where}) AS counted`;
  const from = scope ? `${scope.from} CROSS JOIN LATERAL ${counted}` : counted;
  return `SELECT counted.total_count, ${columns(schema, 'page')}
FROM ${from}
LEFT JOIN LATERAL (
  SELECT ${columns(schema, 't')} FROM ${table} t WHERE ${options.where}
  ORDER BY ${orderBy('t')} LIMIT :limit OFFSET :offset
) AS page ON true
${scope ? `WHERE ${scope.where}\n` : ''}ORDER BY ${orderBy('page')}`;
}

function toPage<T>(
  rows: Row[],
  filters: { limit: number; offset: number },
  map: (row: Row) => T,
): { data: T[]; pagination: Pagination } {
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

/** Sync runs, newest first, filtered and paged. */
export async function listSyncs(db: Queryable, filters: SyncHistoryFilters): Promise<SyncHistoryPage> {
  const w = where([
    ['t.status = :status', 'status', filters.status],
    ['t.source_type = :sourceType', 'sourceType', filters.sourceType],
    ['t.target_type = :targetType', 'targetType', filters.targetType],
    // The trigram index is on lower(project_name).
    [
      `lower(t.project_name) LIKE lower(:projectPattern) ESCAPE '!'`,
      'projectPattern',
      filters.projectName === undefined ? undefined : containsPattern(filters.projectName),
    ],
    ...rangeConditions(filters.createdAt, 't.'),
  ]);
  const sql = pageStatement({
    table: 'sync_history',
    schema: SyncHistory,
    where: w.sql,
    order: ['created_at DESC', 'id DESC'],
  });
  const { rows } = await db.query(sql, { ...w.params, limit: filters.limit, offset: filters.offset });
  return toPage(rows, filters, toSyncHistory);
}

/** Totals over the syncs created in the window, aggregated by PostgreSQL (old defect 8). */
export async function syncStats(db: Queryable, range: Partial<TimeRange> = {}): Promise<SyncStats> {
  const w = where(rangeConditions(range));
  const { rows } = await db.query(
    `SELECT
  count(*)::int AS total_syncs,
  (count(*) FILTER (WHERE status = 'completed'))::int AS completed_syncs,
  (count(*) FILTER (WHERE status = 'failed'))::int AS failed_syncs,
  (count(*) FILTER (WHERE status = 'cancelled'))::int AS cancelled_syncs,
  coalesce(round(100.0 * count(*) FILTER (WHERE status = 'completed') / nullif(count(*), 0), 2), 0)::float8
    AS success_rate,
  coalesce(round(avg(duration_ms) FILTER (WHERE status = 'completed')), 0)::bigint AS average_duration_ms,
  coalesce(sum(items_created), 0)::bigint AS total_items_created,
  coalesce(sum(items_failed), 0)::bigint AS total_items_failed
FROM sync_history WHERE ${w.sql}`,
    w.params,
  );
  return SyncStats.parse(rows[0]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The outcomes of one sync in the order they were recorded; `NotFoundError` for an unknown sync. */
export async function listSyncItems(
  db: Queryable,
  syncId: string,
  filters: SyncItemsFilters,
): Promise<SyncHistoryItemPage> {
  // A malformed id cannot name a sync: 404 like any unknown id, never a cast error.
  if (!UUID.test(syncId)) throw new NotFoundError(`Sync ${syncId} not found`);
  const w = where([
    ['t.status = :status', 'status', filters.status],
    ['t.item_type = :itemType', 'itemType', filters.itemType],
  ]);
  // The sync row tells "no items" (one row carrying the total) from "no sync" (no row at all).
  const sql = pageStatement({
    table: 'sync_history_items',
    schema: SyncHistoryItem,
    where: `t.sync_history_id = s.id AND ${w.sql}`,
    order: ['created_at', 'id'],
    scope: { from: 'sync_history s', where: 's.id = CAST(:syncId AS uuid)' },
  });
  const { rows } = await db.query(sql, {
    ...w.params,
    syncId: sqlUuid(syncId),
    limit: filters.limit,
    offset: filters.offset,
  });
  if (rows.length === 0) throw new NotFoundError(`Sync ${syncId} not found`);
  return toPage(rows, filters, toSyncHistoryItem);
}

/** Audit log entries, newest first, filtered and paged. */
export async function listAuditLogs(db: Queryable, filters: AuditLogFilters): Promise<AuditLogPage> {
  const w = where([
    ['t.action_type = :actionType', 'actionType', filters.actionType],
    ['t.entity_type = :entityType', 'entityType', filters.entityType],
    ['t.entity_id = :entityId', 'entityId', filters.entityId],
    ...rangeConditions(filters.createdAt, 't.'),
  ]);
  const sql = pageStatement({
    table: 'audit_logs',
    schema: AuditLog,
    where: w.sql,
    order: ['created_at DESC', 'id DESC'],
  });
  const { rows } = await db.query(sql, { ...w.params, limit: filters.limit, offset: filters.offset });
  return toPage(rows, filters, (row) => pickView(AuditLog, row));
}

/** Event counts over the window, by action type and for today (UTC), in one scan. */
export async function auditStats(db: Queryable, range: Partial<TimeRange> = {}): Promise<AuditStats> {
  const w = where(rangeConditions(range));
  const { rows } = await db.query(
    `WITH by_type AS (
  SELECT action_type, count(*)::int AS n,
    (count(*) FILTER (WHERE created_at >= date_trunc('day', now(), 'UTC')
                        AND created_at < date_trunc('day', now(), 'UTC') + interval '24 hours'))::int AS today
  FROM audit_logs WHERE ${w.sql}
  GROUP BY action_type
)
SELECT coalesce(sum(n), 0)::int AS total_events, coalesce(sum(today), 0)::int AS events_today,
  coalesce(jsonb_object_agg(action_type, n), '{}'::jsonb) AS action_type_counts
FROM by_type`,
    w.params,
  );
  return AuditStats.parse(rows[0]);
}
