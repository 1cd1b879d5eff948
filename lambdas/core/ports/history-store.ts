import type {
  AuditLogPage,
  AuditStats,
  SyncHistoryItemPage,
  SyncHistoryPage,
  SyncStats,
} from '#core/domain/history.ts';
import type {
  AuditLogFilters,
  SyncHistoryFilters,
  SyncItemsFilters,
  TimeRange,
} from '#core/domain/history-filters.ts';

/**
 * The `HistoryStore` port: the read side of the history and audit pages (CONTRACT.md §4). Each page
 * comes with its exact total from the same snapshot; statistics are computed by the store, never by
 * loading rows.
 */
export interface HistoryStore {
  /** Syncs, newest first. */
  syncs(filters: SyncHistoryFilters): Promise<SyncHistoryPage>;
  syncStats(range: Partial<TimeRange>): Promise<SyncStats>;
  /** One sync's outcomes in plan order; `NotFoundError` for an unknown sync. */
  items(syncId: string, filters: SyncItemsFilters): Promise<SyncHistoryItemPage>;
  /** Audit entries, newest first. */
  auditLogs(filters: AuditLogFilters): Promise<AuditLogPage>;
  auditStats(range: Partial<TimeRange>): Promise<AuditStats>;
}
