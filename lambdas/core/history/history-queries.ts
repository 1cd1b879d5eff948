import * as z from 'zod';
import { AuditActionType, AuditLog } from '#core/audit/audit-log-repository.ts';
import { NotFoundError } from '#core/errors.ts';
import type { Queryable } from '#core/ports/database.ts';
import { sqlUuid } from '#core/ports/database.ts';
import {
  pickView,
  SyncHistory,
  SyncHistoryItem,
  toSyncHistory,
  toSyncHistoryItem,
} from '#core/sync/sync-history-view.ts';
import {
  condition,
  containsPattern,
  pageStatement,
  rangeConditions,
  toPage,
  where,
} from './page-statement.ts';
import type { AuditLogFilters, SyncHistoryFilters, SyncItemsFilters, TimeRange } from './query-params.ts';

/**
 * The read side of the history and audit pages (CONTRACT.md §4). Each function is ONE statement,
 * written once for every adapter: the WHERE clause is assembled from fixed fragments chosen by which
 * filters are present (so PostgreSQL plans each combination against the indexes), and user values
 * only ever travel as `:name` parameters. Lists return the page and the total from one statement,
 * so both come from the same snapshot; the total is exact, read from the trigger-kept counters of
 * migration 0007 where they keep the filter, else counted (page-statement.ts).
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

/**
 * The one value the schema allows (CHECK constraints of 0002): filtering by it keeps every row, so the
 * condition is left out and the unfiltered fast path applies. Any other value keeps its condition
 * (and so matches nothing), bound as a value like every other.
 */
const unlessEveryRow = <T extends string>(value: T | undefined, everyRow: string): T | undefined =>
  value === everyRow ? undefined : value;

/** Sync runs, newest first, filtered and paged. */
export async function listSyncs(db: Queryable, filters: SyncHistoryFilters): Promise<SyncHistoryPage> {
  const w = where([
    condition('t.status = :status', 'status', filters.status, {
      counter: 'sync_history.status',
      value: 'c.value = :status',
    }),
    condition(
      't.source_type = :sourceType',
      'sourceType',
      unlessEveryRow(filters.sourceType, SyncHistory.shape.source_type.value),
    ),
    condition(
      't.target_type = :targetType',
      'targetType',
      unlessEveryRow(filters.targetType, SyncHistory.shape.target_type.value),
    ),
    // The trigram index is on lower(project_name). The counters keep one row per distinct name (and
    // shard): the same test on those few rows adds up to the rows' total.
    condition(
      `lower(t.project_name) LIKE lower(:projectPattern) ESCAPE '!'`,
      'projectPattern',
      filters.projectName === undefined ? undefined : containsPattern(filters.projectName),
      {
        counter: 'sync_history.project_name',
        value: `lower(c.value) LIKE lower(:projectPattern) ESCAPE '!'`,
      },
    ),
    ...rangeConditions(filters.createdAt, 't.'),
  ]);
  const sql = pageStatement({
    table: 'sync_history',
    schema: SyncHistory,
    where: w,
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
    condition('t.status = :status', 'status', filters.status),
    condition('t.item_type = :itemType', 'itemType', filters.itemType),
  ]);
  // The sync row tells "no items" (one row carrying the total) from "no sync" (no row at all). One
  // sync's items are counted, not read from counters: at most one sync's rows, through an index.
  const sql = pageStatement({
    table: 'sync_history_items',
    schema: SyncHistoryItem,
    where: w,
    order: ['created_at', 'id'],
    scope: {
      from: 'sync_history s',
      where: 's.id = CAST(:syncId AS uuid)',
      rows: 't.sync_history_id = s.id',
    },
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
    condition('t.action_type = :actionType', 'actionType', filters.actionType, {
      counter: 'audit_logs.action_type',
      value: 'c.value = :actionType',
    }),
    condition('t.entity_type = :entityType', 'entityType', filters.entityType, {
      counter: 'audit_logs.entity_type',
      value: 'c.value = :entityType',
    }),
    condition('t.entity_id = :entityId', 'entityId', filters.entityId),
    ...rangeConditions(filters.createdAt, 't.'),
  ]);
  const sql = pageStatement({
    table: 'audit_logs',
    schema: AuditLog,
    where: w,
    order: ['created_at DESC', 'id DESC'],
  });
  const { rows } = await db.query(sql, { ...w.params, limit: filters.limit, offset: filters.offset });
  return toPage(rows, filters, (row) => pickView(AuditLog, row));
}

/** The current UTC day, by the database clock (a STABLE expression: an index can serve it). */
const TODAY = `created_at >= date_trunc('day', now(), 'UTC')
  AND created_at < date_trunc('day', now(), 'UTC') + interval '24 hours'`;

/**
 * Event counts over the window, by action type and for today (UTC). Without a window the counts by
 * action type come from the trigger-kept counters and today's events from the created_at index; with
 * one, a single scan of the window counts both.
 */
export async function auditStats(db: Queryable, range: Partial<TimeRange> = {}): Promise<AuditStats> {
  const w = where(rangeConditions(range));
  const byType = w.used.length
    ? `SELECT action_type, count(*) AS n, count(*) FILTER (WHERE ${TODAY}) AS today
  FROM audit_logs WHERE ${w.sql}
  GROUP BY action_type`
    : `SELECT c.value AS action_type, sum(c.n) AS n, 0 AS today
  FROM history_row_counts c WHERE c.counter = 'audit_logs.action_type'
  GROUP BY c.value HAVING sum(c.n) > 0`;
  const today = w.used.length
    ? 'coalesce(sum(today), 0)::int'
    : `(SELECT count(*) FROM audit_logs WHERE ${TODAY})::int`;
  const { rows } = await db.query(
    `WITH by_type AS (
  ${byType}
)
SELECT coalesce(sum(n), 0)::int AS total_events, ${today} AS events_today,
  coalesce(jsonb_object_agg(action_type, n::int), '{}'::jsonb) AS action_type_counts
FROM by_type`,
    w.params,
  );
  return AuditStats.parse(rows[0]);
}
