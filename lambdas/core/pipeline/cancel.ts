import type { SyncHistory } from '#core/domain/sync-history-view.ts';
import { type Actor, TERMINAL_STATUSES } from '#core/domain/sync-model.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { CancelDeps } from './deps.ts';
import { finalize, notStartedReason } from './finalize.ts';

export interface CancelResult {
  /** The sync: `cancelled`, or still open with `cancel_requested_at` while creates in flight finish. */
  view: SyncHistory;
  /** The sync reached its terminal status before the answer. */
  final: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Cancels a pending or running sync: nothing new is sent to Azure DevOps; nodes not started are
 * skipped at once; creates already in flight finish and are recorded; then the sync becomes
 * `cancelled`, its audit entry and `sync:cancelled` event carrying the final numbers. Waits up to
 * `cancelWaitMs` for that (typically well under 2 s) and returns the sync as it is then. 404 for an
 * unknown sync, 409 when it already finished or is failing.
 */
export async function cancelSync(syncId: string, actor: Actor, deps: CancelDeps): Promise<CancelResult> {
  const requested = await deps.syncs.requestClose('cancelled', {
    syncId,
    reason: 'Sync cancelled by the user',
    skipReason: notStartedReason('cancelled'),
    actor,
  });
  if (!requested) throw new NotFoundError(`Sync ${syncId} not found`);
  if (TERMINAL_STATUSES.includes(requested.status)) {
    throw new ConflictError(`Sync ${syncId} already finished (${requested.status}) and cannot be cancelled`);
  }
  if (requested.closeRequested === 'failed') {
    throw new ConflictError(`Sync ${syncId} is failing and cannot be cancelled`);
  }
  deps.log.info('sync cancel requested', { syncId, userId: actor.userId, status: requested.status });
  let current = (await finalize(syncId, deps)) ?? requested;
  const until = Date.now() + deps.settings.cancelWaitMs;
  while (!TERMINAL_STATUSES.includes(current.status) && Date.now() < until) {
    await sleep(Math.min(100, Math.max(0, until - Date.now())));
    current = await deps.syncs.get(syncId);
  }
  return { view: current.view, final: TERMINAL_STATUSES.includes(current.status) };
}
