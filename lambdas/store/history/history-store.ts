import type {
  AuditLogPage,
  AuditStats,
  SyncHistoryItemPage,
  SyncHistoryPage,
  SyncStats,
} from '#core/domain/history.ts';
import { AuditStats as AuditStatsShape, SyncStats as SyncStatsShape } from '#core/domain/history.ts';
import type {
  AuditLogFilters,
  SyncHistoryFilters,
  SyncItemsFilters,
  TimeRange,
} from '#core/domain/history-filters.ts';
import { SyncHistory } from '#core/domain/sync-history-view.ts';
import { NotFoundError } from '#core/errors.ts';
import type { HistoryStore } from '#core/ports/history-store.ts';
import type { Queryable } from '#store/database.ts';
import { sqlUuid } from '#store/database.ts';
import { AuditRow, toAuditLog } from '../audit-log-store.ts';
import {
  ITEM_COLUMNS as ITEM_VIEW_COLUMNS,
  SYNC_COLUMNS,
  toSyncHistory,
  toSyncHistoryItem,
} from '../sync/sync-row.ts';
import {
  chunkStatements,
  condition,
  containsPattern,
  pageStatement,
  rangeConditions,
  toPage,
  where,
} from './page-statement.ts';

/**
 * The read side of the history and audit pages (CONTRACT.md §4). Each function is ONE statement (an
 * item page too large for one Data API answer: one per chunk), written once for every adapter: the
 * WHERE clause is assembled from fixed fragments chosen by which filters are present (so PostgreSQL
 * plans each combination against the indexes), and user values only ever travel as `:name`
 * parameters. Lists return the page and the total from one statement, so both come from the same
 * snapshot; the total is exact, read from the trigger-kept counters of migration 0007 where they keep
 * the filter, else counted (page-statement.ts).
 */

/**
 * The one value the schema allows (CHECK constraints of 0002): filtering by it keeps every row, so the
 * condition is left out and the unfiltered fast path applies. Any other value keeps its condition
 * (and so matches nothing), bound as a value like every other.
 */
const unlessEveryRow = <T extends string>(value: T | undefined, everyRow: string): T | undefined =>
  value === everyRow ? undefined : value;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
    // shard): the same test on those few rows adds up to the rows' total. A GUID names the project
    // by its Azure DevOps id instead (§6.3: the frontend knows projects by either), counted.
    condition(
      `lower(t.project_name) LIKE lower(:projectPattern) ESCAPE '!'`,
      'projectPattern',
      filters.projectName === undefined || UUID.test(filters.projectName)
        ? undefined
        : containsPattern(filters.projectName),
      {
        counter: 'sync_history.project_name',
        value: `lower(c.value) LIKE lower(:projectPattern) ESCAPE '!'`,
      },
    ),
    condition(
      't.project_id = lower(:projectId)',
      'projectId',
      filters.projectName !== undefined && UUID.test(filters.projectName) ? filters.projectName : undefined,
    ),
    ...rangeConditions(filters.createdAt, 't.'),
  ]);
  const sql = pageStatement({
    table: 'sync_history',
    columns: SYNC_COLUMNS,
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
  return SyncStatsShape.parse(rows[0]);
}

/** An item page brings its plan position along, to be put in order (the view does not show it). */
const ITEM_COLUMNS: readonly string[] = [...ITEM_VIEW_COLUMNS, 'position'];

/**
 * Item rows per statement: at most this many, and no more than fit one Data API answer (1 MiB,
 * FACTS.md) with room to spare: 1,000 created items with their identity make a 1.2 MB answer. A page
 * of 1,000 items is one or two statements; of 5,000, five to ten.
 */
export const ITEM_CHUNK_ROWS = 1_000;
export const ITEM_CHUNK_BYTES = 900 * 1024;

/**
 * At least what an item row adds to a Data API answer: its text values escaped twice, exactly (in the
 * row's JSON, and again as `formattedRecords` is itself a JSON string); changed_by_user (the Azure
 * DevOps identity, a JSON string there) as 1.5× its stored size (1.1× to 1.2× in practice, without
 * rendering it); 480 bytes for the keys, the fixed-size values and the separators (about 400 in fact).
 */
const ITEM_ANSWER_BYTES = `480 + ${['ardoq_id', 'item_name', 'azure_devops_url', 'error_message']
  .map((column) => `coalesce(octet_length(to_json(to_json(t.${column})::text)::text), 0)`)
  .join(' + ')} + 3 * coalesce(pg_column_size(t.changed_by_user), 0) / 2`;

/**
 * The outcomes of one sync in plan order (the request tree's pre-order: parents before children),
 * whatever order they were recorded in; `NotFoundError` for an unknown sync. `position` is unique
 * within a sync (migration 0008's unique index), so the order is total and the same on every call:
 * no tie for `id` to break, and ordering by `id` too would make PostgreSQL sort the whole sync (the
 * indexes do not carry it). Each filter combination has an index that leads with (sync_history_id,
 * [status | item_type,] position) and includes the other filter column: the total and the position at
 * the offset come from that index alone, the rows from one range scan of it.
 *
 * The total and the first rows come from one statement (one snapshot); a page too large for one Data
 * API answer continues after the last position read. An outcome row never changes once written, so
 * the page is exact; only while the sync runs can a later statement see outcomes recorded meanwhile.
 */
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
  const { first, next } = chunkStatements({
    table: 'sync_history_items',
    columns: ITEM_COLUMNS,
    where: w,
    order: 'position',
    rowBytes: ITEM_ANSWER_BYTES,
    scope: {
      from: 'sync_history s',
      where: 's.id = CAST(:syncId AS uuid)',
      rows: 't.sync_history_id = s.id',
    },
  });
  const params = { ...w.params, syncId: sqlUuid(syncId), chunkBytes: ITEM_CHUNK_BYTES };
  const chunkRows = (read: number) => Math.min(filters.limit - read, ITEM_CHUNK_ROWS);
  const head = await db.query(first, { ...params, offset: filters.offset, chunkRows: chunkRows(0) });
  const firstRow = head.rows[0];
  if (!firstRow) throw new NotFoundError(`Sync ${syncId} not found`);
  const total = firstRow.total_count as number;
  const rows = head.rows.filter((row) => row.id !== null);
  let chunk = rows.length;
  while (chunk > 0 && rows.length < filters.limit && filters.offset + rows.length < total) {
    const after = rows.at(-1)?.position as number;
    const more = await db.query(next, { ...params, after, chunkRows: chunkRows(rows.length) });
    rows.push(...more.rows);
    chunk = more.rows.length;
  }
  // The first row carries the total (the head's own row when the page is empty).
  return toPage(rows.length > 0 ? rows : head.rows, filters, toSyncHistoryItem);
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
    columns: Object.keys(AuditRow.shape),
    where: w,
    order: ['created_at DESC', 'id DESC'],
  });
  const { rows } = await db.query(sql, { ...w.params, limit: filters.limit, offset: filters.offset });
  return toPage(rows, filters, toAuditLog);
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
  return AuditStatsShape.parse(rows[0]);
}

/** `HistoryStore` over SQL. */
export class SqlHistoryStore implements HistoryStore {
  constructor(private readonly db: Queryable) {}

  syncs(filters: SyncHistoryFilters): Promise<SyncHistoryPage> {
    return listSyncs(this.db, filters);
  }
  syncStats(range: Partial<TimeRange>): Promise<SyncStats> {
    return syncStats(this.db, range);
  }
  items(syncId: string, filters: SyncItemsFilters): Promise<SyncHistoryItemPage> {
    return listSyncItems(this.db, syncId, filters);
  }
  auditLogs(filters: AuditLogFilters): Promise<AuditLogPage> {
    return listAuditLogs(this.db, filters);
  }
  auditStats(range: Partial<TimeRange>): Promise<AuditStats> {
    return auditStats(this.db, range);
  }
}
