import type { Actor } from '#core/domain/sync-model.ts';
import { itemsPerSecond } from '#core/domain/sync-progress.ts';
import type { SyncState } from '#core/domain/sync-state.ts';
import type { FinalizeDeps } from './deps.ts';

/** A check before an Azure DevOps call found the sync closing: start nothing new. */
export class SyncClosingError extends Error {
  override readonly name = 'SyncClosingError';
  constructor(
    readonly syncId: string,
    /** What it is closing to, when known. */
    readonly to: 'cancelled' | 'failed' | null = null,
  ) {
    super(`Sync ${syncId} is ${to === 'failed' ? 'failing' : 'being cancelled'}: nothing new is started`);
  }
}

/** The outcome message of a node that was never sent to Azure DevOps because its sync closed. */
export function notStartedReason(to: 'cancelled' | 'failed' | null): string {
  return to === 'failed'
    ? 'Not created: the sync failed before this item ran'
    : 'Not created: the sync was cancelled before this item ran';
}

/**
 * Moves a sync to its terminal status once every node has its outcome (idempotent: nothing happens
 * otherwise), and logs the transition: one line per sync with the final numbers, the time it waited
 * for Azure DevOps' throttling and its final measured rate (items with an outcome per second from
 * processing start to completion; left out for a sync that never started processing). No ETA: it is 0.
 */
export async function finalize(syncId: string, deps: FinalizeDeps): Promise<SyncState | null> {
  const done = await deps.syncs.finishIfDone(syncId, deps.settings.staleSeconds);
  if (!done) return null;
  deps.metrics.count('SyncsFinished');
  if (done.view.duration_ms !== undefined) deps.metrics.durationMs('SyncDuration', done.view.duration_ms);
  const rate = done.view.completed_at ? itemsPerSecond(done, new Date(done.view.completed_at)) : null;
  const line = {
    syncId,
    status: done.status,
    total: done.totalItems,
    created: done.view.items_created,
    failed: done.view.items_failed,
    skipped: done.view.items_skipped,
    deleted: done.view.deletion_count,
    durationMs: done.view.duration_ms,
    throttledMs: done.throttledMs,
    ...(rate !== null ? { itemsPerSecond: rate } : {}),
    ...(done.view.error_message ? { error: done.view.error_message } : {}),
  };
  if (done.status === 'failed') deps.log.warn('sync finished', line);
  else deps.log.info('sync finished', line);
  return done;
}

/**
 * Asks an open sync to close (see requestClose), then closes it at once if nothing is in flight; a
 * create still in flight records its outcome first, and the last outcome's finalize closes it.
 * `fromPrepare`: the caller holds the prepare claim, given back so the close need not wait for it.
 * Returns the sync as the request left it (null: unknown id), or the terminal sync.
 */
export async function close(
  deps: FinalizeDeps,
  syncId: string,
  to: 'cancelled' | 'failed',
  input: { reason: string; skipReason: string; actor?: Actor; fromPrepare?: boolean },
): Promise<SyncState | null> {
  const requested = await deps.syncs.requestClose(to, {
    syncId,
    reason: input.reason,
    skipReason: input.skipReason,
    ...(input.actor ? { actor: input.actor } : {}),
  });
  if (!requested || requested.closeRequested === null) return requested;
  if (input.fromPrepare) await deps.syncs.releasePrepare(syncId);
  return (await finalize(syncId, deps)) ?? requested;
}
