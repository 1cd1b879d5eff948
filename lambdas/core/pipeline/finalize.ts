import type { SyncHistory } from '#core/domain/sync-history-view.ts';
import { type Actor, TERMINAL_STATUSES } from '#core/domain/sync-model.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import { sweepNodePage, sweepSyncPage } from '#store/sync/pipeline-rows.ts';
import { getSync, requestClose, skipSubtree } from '#store/sync/sync-rows.ts';
import { finalize, notStartedReason } from './close.ts';
import type { PipelineDeps } from './deps.ts';
import { failSync } from './failures.ts';

export { finalize } from './close.ts';

type NodeKey = { syncId: string; ardoqId: string };

export interface SweepReport {
  finalized: number;
  failedPastDeadline: number;
  failedPrepareExpired: number;
  preparesResent: number;
  itemsResent: number;
  subtreesSkipped: number;
}

/** Rows per sweep query; a list that fills its page is read on from its last key. */
const SWEEP_PAGE = 500;
/** At most this many pages per list in one sweep (the next sweep goes on). */
const SWEEP_MAX_PAGES = 100;

/** Every page of one list, in key order, each handed to `act` before the next is read. */
async function eachPage<K>(
  read: (after: K | undefined) => Promise<K[]>,
  act: (page: K[]) => Promise<void>,
): Promise<void> {
  let after: K | undefined;
  for (let n = 0; n < SWEEP_MAX_PAGES; n++) {
    const page = await read(after);
    if (page.length > 0) await act(page);
    if (page.length < SWEEP_PAGE) return;
    after = page.at(-1);
  }
}

/**
 * The periodic repair (DESIGN.md §2): finalize complete-but-open syncs (running, or closing), fail
 * syncs past their deadline or out of prepare retries, finish subtree skips a crash interrupted, and
 * resend lost prepare and item messages. Every action is idempotent, so a sweep racing the pipeline
 * changes nothing twice. Each list is read page by page in key order, so a restart with thousands of
 * stranded nodes resumes them all in one sweep.
 */
export async function sweep(
  deps: PipelineDeps,
  staleSeconds = deps.settings.staleSeconds,
): Promise<SweepReport> {
  const report: SweepReport = {
    finalized: 0,
    failedPastDeadline: 0,
    failedPrepareExpired: 0,
    preparesResent: 0,
    itemsResent: 0,
    subtreesSkipped: 0,
  };
  const syncs = (list: Parameters<typeof sweepSyncPage>[1], act: (syncId: string) => Promise<void>) =>
    eachPage(
      (after: string | undefined) => sweepSyncPage(deps.db, list, staleSeconds, SWEEP_PAGE, after),
      async (page) => {
        for (const syncId of page) await act(syncId);
      },
    );
  await syncs('toFinalize', async (syncId) => {
    if (await finalize(syncId, deps)) report.finalized += 1;
  });
  await syncs('pastDeadline', async (syncId) => {
    await failSync(
      deps,
      syncId,
      `The sync did not finish before its deadline (${deps.settings.deadlineMinutes} minutes)`,
    );
    report.failedPastDeadline += 1;
  });
  await syncs('prepareExpired', async (syncId) => {
    await failSync(
      deps,
      syncId,
      `The sync could not start: Azure DevOps kept failing for ${deps.settings.overwriteRetryMinutes} minutes`,
    );
    report.failedPrepareExpired += 1;
  });
  await eachPage(
    (after: NodeKey | undefined) =>
      sweepNodePage(deps.db, 'unskippedParents', staleSeconds, SWEEP_PAGE, after),
    async (page) => {
      for (const { syncId, ardoqId } of page) {
        const result = await skipSubtree(deps.db, syncId, ardoqId);
        if (result.complete) await finalize(syncId, deps);
        report.subtreesSkipped += 1;
      }
    },
  );
  await syncs('toPrepare', async (syncId) => {
    await deps.queue.send([{ kind: 'prepare', syncId }]);
    report.preparesResent += 1;
  });
  await eachPage(
    (after: NodeKey | undefined) => sweepNodePage(deps.db, 'stranded', staleSeconds, SWEEP_PAGE, after),
    async (page) => {
      await deps.queue.send(page.map(({ syncId, ardoqId }) => ({ kind: 'item' as const, syncId, ardoqId })));
      report.itemsResent += page.length;
    },
  );
  if (Object.values(report).some((n) => n > 0)) deps.log.info('sweep repaired', { ...report });
  return report;
}

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
export async function cancelSync(syncId: string, actor: Actor, deps: PipelineDeps): Promise<CancelResult> {
  const requested = await requestClose(deps.db, 'cancelled', {
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
    current = await getSync(deps.db, syncId);
  }
  return { view: current.view, final: TERMINAL_STATUSES.includes(current.status) };
}
