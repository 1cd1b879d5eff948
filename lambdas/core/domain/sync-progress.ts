import type { SyncHistory } from './sync-history-view.ts';
import { type SyncStatus, TERMINAL_STATUSES } from './sync-model.ts';
import type { SyncState } from './sync-state.ts';

/**
 * A sync's measured progress: the throttled time, the estimate of the time left and the final rate,
 * computed here only, from a sync's numbers and a clock passed in (pure; a SyncState has every field).
 * The history row's view (store/sync/sync-row.ts), the SSE progress frames (api/sse.ts) and the
 * `sync finished` log line (pipeline/finalize.ts) all use these functions.
 */
export type SyncProgress = Pick<
  SyncState,
  'status' | 'totalItems' | 'outcomes' | 'processingStartedAt' | 'throttledMs'
>;

/**
 * When a sync's items started being processed: `in_progress_at`, written by the statement that moves
 * the sync to in_progress (migration 0012). A sync that moved to in_progress before that migration has
 * no such time: for it the only timestamp there is, `started_at`, is used. That is when the sync was
 * accepted, so the prepare step (type discovery, overwrite deletion) counts as processing time and its
 * estimate is on the long side. A sync that never reached in_progress (closed while pending) has none.
 * The statements cap `throttled_ms` by the same start (`addThrottled` in store/sync/statements.ts).
 */
export function processingStart(row: {
  status: SyncStatus;
  inProgressAt: Date | null;
  startedAt: Date;
}): Date | null {
  if (row.inProgressAt !== null) return row.inProgressAt;
  return row.status === 'in_progress' ? row.startedAt : null;
}

/**
 * Estimated seconds until every item has its outcome, from the rate measured so far: remaining items ×
 * time since processing started ÷ items with an outcome (remaining = total − outcomes), rounded to whole
 * seconds and never negative (a clock behind the database's, which makes the elapsed time negative,
 * counts as no time elapsed). 0 once the sync is terminal, or when every item has its outcome (the sync
 * is about to finish). null while no estimate can be made: the sync is pending (not processing yet,
 * also while a close skips its items), or in_progress without any outcome yet.
 */
export function etaSeconds(sync: SyncProgress, now: Date): number | null {
  if (TERMINAL_STATUSES.includes(sync.status)) return 0;
  if (sync.status !== 'in_progress' || sync.outcomes <= 0 || sync.processingStartedAt === null) return null;
  const remaining = Math.max(0, sync.totalItems - sync.outcomes);
  const elapsedMs = Math.max(0, now.getTime() - sync.processingStartedAt.getTime());
  return Math.round((remaining * elapsedMs) / sync.outcomes / 1000);
}

/**
 * Items per second over the processing time (outcomes ÷ seconds from processing start to `until`, the
 * rate `etaSeconds` measures), to 2 decimals; null when nothing was processed or no time elapsed.
 */
export function itemsPerSecond(sync: SyncProgress, until: Date): number | null {
  if (sync.processingStartedAt === null || sync.outcomes <= 0) return null;
  const seconds = (until.getTime() - sync.processingStartedAt.getTime()) / 1000;
  if (!(seconds > 0)) return null;
  return Math.round((sync.outcomes / seconds) * 100) / 100;
}

/** `throttled_ms` and `eta_seconds` of a sync at `now`: the history row's view and the SSE progress frames. */
export function progressFields(
  sync: SyncProgress,
  now: Date,
): Pick<SyncHistory, 'throttled_ms' | 'eta_seconds'> {
  return { throttled_ms: sync.throttledMs, eta_seconds: etaSeconds(sync, now) };
}
