import type { NodeKey, SweepSyncList } from '#core/domain/sync-state.ts';
import type { SweepDeps } from './deps.ts';
import { failSync } from './failures.ts';
import { finalize } from './finalize.ts';

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
 * stranded nodes resumes them all in one sweep. Its repairs are logged (`sweep repaired`) and counted as
 * metrics (SyncsPastDeadline, StrandedItemsResent, PreparesResent), 0 included.
 */
export async function sweep(
  deps: SweepDeps,
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
  const syncs = (list: SweepSyncList, act: (syncId: string) => Promise<void>) =>
    eachPage(
      (after: string | undefined) => deps.syncs.sweepSyncs(list, staleSeconds, SWEEP_PAGE, after),
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
      deps.syncs.sweepNodes('unskippedParents', staleSeconds, SWEEP_PAGE, after),
    async (page) => {
      for (const { syncId, ardoqId } of page) {
        const result = await deps.syncs.skipSubtree(syncId, ardoqId);
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
    (after: NodeKey | undefined) => deps.syncs.sweepNodes('stranded', staleSeconds, SWEEP_PAGE, after),
    async (page) => {
      await deps.queue.send(page.map(({ syncId, ardoqId }) => ({ kind: 'item' as const, syncId, ardoqId })));
      report.itemsResent += page.length;
    },
  );
  if (Object.values(report).some((n) => n > 0)) deps.log.info('sweep repaired', { ...report });
  // One datapoint per sweep, 0 included, so an alarm on them never lacks data while the sweep runs.
  deps.metrics.count('SyncsPastDeadline', report.failedPastDeadline);
  deps.metrics.count('StrandedItemsResent', report.itemsResent);
  deps.metrics.count('PreparesResent', report.preparesResent);
  return report;
}
