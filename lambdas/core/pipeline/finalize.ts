import { ConflictError } from '#core/errors.ts';
import { findSweepWork } from '#core/sync/pipeline-repository.ts';
import { closeSync, finalizeSync, getSync, skipSubtree } from '#core/sync/sync-history-repository.ts';
import type { SyncHistory } from '#core/sync/sync-history-view.ts';
import type { Actor } from '#core/sync/sync-model.ts';
import type { PipelineDeps } from './deps.ts';
import { failSync } from './failures.ts';

/** in_progress → completed | failed once every node has its outcome; idempotent. */
export async function finalize(syncId: string, deps: PipelineDeps): Promise<void> {
  const done = await finalizeSync(deps.db, syncId);
  if (!done) return;
  deps.metrics.count('SyncsFinished');
  if (done.view.duration_ms !== undefined) deps.metrics.durationMs('SyncDuration', done.view.duration_ms);
  deps.log.info('sync finished', {
    syncId,
    status: done.status,
    created: done.view.items_created,
    failed: done.view.items_failed,
    skipped: done.view.items_skipped,
    durationMs: done.view.duration_ms,
  });
}

export interface SweepReport {
  finalized: number;
  failedPastDeadline: number;
  preparesResent: number;
  itemsResent: number;
  subtreesSkipped: number;
}

/**
 * The periodic repair (DESIGN.md §2): finalize complete-but-open syncs, fail syncs past their
 * deadline, resend lost prepare and item messages, finish subtree skips a crash interrupted.
 * Every action is idempotent, so a sweep racing the pipeline changes nothing twice.
 */
export async function sweep(
  deps: PipelineDeps,
  staleSeconds = deps.settings.staleSeconds,
): Promise<SweepReport> {
  const work = await findSweepWork(deps.db, staleSeconds);
  for (const syncId of work.toFinalize) await finalize(syncId, deps);
  for (const syncId of work.pastDeadline) {
    await failSync(
      deps,
      syncId,
      `The sync did not finish before its deadline (${deps.settings.deadlineMinutes} minutes)`,
    );
  }
  for (const { syncId, ardoqId } of work.unskippedParents) {
    const result = await skipSubtree(deps.db, syncId, ardoqId);
    if (result.complete) await finalize(syncId, deps);
  }
  await deps.queue.send([
    ...work.toPrepare.map((syncId) => ({ kind: 'prepare' as const, syncId })),
    ...work.stranded.map(({ syncId, ardoqId }) => ({ kind: 'item' as const, syncId, ardoqId })),
  ]);
  const report = {
    finalized: work.toFinalize.length,
    failedPastDeadline: work.pastDeadline.length,
    preparesResent: work.toPrepare.length,
    itemsResent: work.stranded.length,
    subtreesSkipped: work.unskippedParents.length,
  };
  if (Object.values(report).some((n) => n > 0)) deps.log.info('sweep repaired', { ...report });
  return report;
}

/**
 * pending|in_progress → cancelled: nodes not started are skipped, nodes in flight finish and record
 * their outcome. 404 for an unknown sync, 409 when it already finished.
 */
export async function cancelSync(syncId: string, actor: Actor, deps: PipelineDeps): Promise<SyncHistory> {
  const cancelled = await closeSync(deps.db, 'cancelled', {
    syncId,
    reason: 'Sync cancelled by the user',
    skipReason: 'Not created: the sync was cancelled before this item ran',
    actor,
  });
  if (cancelled) {
    deps.log.info('sync cancelled', { syncId, userId: actor.userId });
    return cancelled.view;
  }
  const current = await getSync(deps.db, syncId); // NotFoundError (404) for an unknown id
  throw new ConflictError(`Sync ${syncId} already finished (${current.status}) and cannot be cancelled`);
}
