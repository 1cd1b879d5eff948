import * as z from 'zod';
import { AuditActionType, AuditLog } from './audit.ts';
import { SyncHistory, SyncHistoryItem } from './sync-history-view.ts';

/** The shapes of the history and audit pages and their statistics (CONTRACT.md §1, §4). */

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
