import { mapNodeToWorkItem, SYNC_TAG } from '#core/mapping/field-mapping.ts';
import type { ResolvedTypes } from '#core/mapping/work-item-types.ts';
import {
  AdoAuthError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  type CreatedWorkItem,
  type WorkItemTracker,
} from '#core/ports/work-item-tracker.ts';
import { type ClaimedItem, claimItem, releaseItem } from '#core/sync/pipeline-repository.ts';
import { type RecordResult, recordOutcomes, skipSubtree } from '#core/sync/sync-history-repository.ts';
import { connect, forgetConnection } from './connection.ts';
import type { PipelineDeps } from './deps.ts';
import { describeSyncFailure, failSync } from './failures.ts';
import { isStoredTypes, type StoredTypes } from './stored-types.ts';

/** The marker in the hyperlink comment that ties a work item to one node of one sync. */
export const syncMarker = (syncId: string, ardoqId: string) => `ardoq-sync:${syncId}:${ardoqId}`;

/**
 * Processes one node: claim it, create its work item under its parent (or adopt the one an earlier,
 * uncertain attempt created), record the outcome, enqueue its children, and ask for finalization
 * when it was the last one. Azure DevOps trouble is handled here; database trouble is thrown so
 * the message is retried and nothing is acknowledged unrecorded (DESIGN.md §4.7).
 */
export async function processItem(syncId: string, ardoqId: string, deps: PipelineDeps): Promise<void> {
  const item = await claimItem(deps.db, syncId, ardoqId, deps.settings.staleSeconds);
  if (!item) {
    deps.log.debug('item not claimable (done, held by another processor, or sync not running)', {
      syncId,
      ardoqId,
    });
    return;
  }
  if (!item.targetConfigId || !isStoredTypes(item.workItemTypes)) {
    const reason = 'The sync lost its configuration or work item types';
    await record(deps, item, [{ ardoqId, status: 'failed', errorMessage: reason }]);
    await failSync(deps, syncId, reason);
    return;
  }
  const types = item.workItemTypes;
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    connection = await connect(deps, item.targetConfigId);
    const { tracker } = connection;
    const running = item.syncStatus === 'in_progress';
    if (item.attempts > 1 || !running) {
      const adopted = await findEarlierWorkItem(tracker, item, types);
      if (adopted) {
        deps.log.info('adopted the work item of an earlier attempt', { syncId, ardoqId, adoId: adopted.id });
        await recordCreated(deps, item, adopted);
        return;
      }
      if (!running) {
        // A cancelled or failed sync: an uncertain attempt turned out to have created nothing.
        await record(deps, item, [
          { ardoqId, status: 'skipped', errorMessage: `Not created: the sync was ${item.syncStatus} first` },
        ]);
        return;
      }
    }
    if (item.parentArdoqId !== null && item.parentAzureDevOpsId === null) {
      await record(deps, item, [
        { ardoqId, status: 'skipped', errorMessage: 'Not created: its parent was not created' },
      ]);
      return;
    }
    const created = await tracker.createWorkItem(item.projectName, toWorkItem(deps, item, types));
    await recordCreated(deps, item, created);
  } catch (error) {
    await handleAdoFailure(deps, item, error, connection?.configuration);
  }
}

function toWorkItem(deps: PipelineDeps, item: ClaimedItem, types: StoredTypes) {
  const level = types[item.itemType];
  const resolved: ResolvedTypes = {
    process: types.process as ResolvedTypes['process'],
    epic: types.epic.name,
    feature: types.feature.name,
    userStory: types.user_story.name,
  };
  return mapNodeToWorkItem(
    { ...item.payload, name: item.name },
    item.itemType,
    resolved,
    new Set(level.fields),
    {
      ...(item.parentAzureDevOpsId !== null ? { parentId: item.parentAzureDevOpsId } : {}),
      ardoqBaseUrl: deps.settings.ardoqBaseUrl,
      marker: syncMarker(item.syncId, item.ardoqId),
    },
  );
}

/**
 * Looks for the work item an earlier attempt of this node created (same type and title, our tag,
 * created since the sync started, our marker in its Ardoq hyperlink), so a retry never creates a
 * second one (DESIGN.md §4.4).
 */
async function findEarlierWorkItem(
  tracker: WorkItemTracker,
  item: ClaimedItem,
  types: StoredTypes,
): Promise<CreatedWorkItem | null> {
  const marker = syncMarker(item.syncId, item.ardoqId);
  const ids = await tracker.searchWorkItems(item.projectName, {
    tag: SYNC_TAG,
    types: [types[item.itemType].name],
    createdSince: new Date(item.syncStartedAt.getTime() - 60_000),
  });
  if (ids.length === 0) return null;
  const candidates = await tracker.getWorkItems(ids);
  const match = candidates
    .filter((w) => w.hyperlinks.some((h) => h.comment === marker))
    .sort((a, b) => a.id - b.id)[0];
  return match
    ? { id: match.id, webUrl: match.webUrl, ...(match.changedBy ? { changedBy: match.changedBy } : {}) }
    : null;
}

async function recordCreated(deps: PipelineDeps, item: ClaimedItem, created: CreatedWorkItem): Promise<void> {
  const result = await record(deps, item, [
    {
      ardoqId: item.ardoqId,
      status: 'created',
      azureDevOpsId: created.id,
      azureDevOpsUrl: created.webUrl,
      ...(created.changedBy ? { changedByUser: created.changedBy } : {}),
    },
  ]);
  if (result.inserted) deps.metrics.count('ItemsCreated');
  if (result.sync.status === 'in_progress' && item.children.length > 0) {
    await deps.queue.send(
      item.children.map((child) => ({ kind: 'item', syncId: item.syncId, ardoqId: child })),
    );
  }
  deps.log.info('item created', { syncId: item.syncId, ardoqId: item.ardoqId, adoId: created.id });
}

async function record(
  deps: PipelineDeps,
  item: ClaimedItem,
  outcomes: Parameters<typeof recordOutcomes>[2],
): Promise<RecordResult> {
  const result = await recordOutcomes(deps.db, item.syncId, outcomes);
  if (result.complete && result.sync.status === 'in_progress') {
    await deps.queue.send([{ kind: 'finalize', syncId: item.syncId }]);
  }
  return result;
}

async function handleAdoFailure(
  deps: PipelineDeps,
  item: ClaimedItem,
  error: unknown,
  configuration: Awaited<ReturnType<typeof connect>>['configuration'] | undefined,
): Promise<void> {
  const { syncId, ardoqId } = item;
  const message = { kind: 'item' as const, syncId, ardoqId };
  if (error instanceof AdoRejectedError && !error.projectMissing) {
    await record(deps, item, [
      { ardoqId, status: 'failed', errorMessage: error.message.slice(0, 10_000) || 'Rejected' },
    ]);
    const skipped = await skipSubtree(deps.db, syncId, ardoqId);
    if (skipped.complete && skipped.inserted > 0 && skipped.sync.status === 'in_progress') {
      await deps.queue.send([{ kind: 'finalize', syncId }]);
    }
    deps.metrics.count('ItemsFailed');
    deps.log.warn('item rejected by Azure DevOps', {
      syncId,
      ardoqId,
      error: error.message,
      skipped: skipped.inserted,
    });
    return;
  }
  if (error instanceof AdoAuthError || (error instanceof AdoRejectedError && error.projectMissing)) {
    if (item.syncStatus !== 'in_progress') {
      // Reconciling a node of a finished sync, and Azure DevOps will not answer: retrying cannot help.
      await record(deps, item, [
        {
          ardoqId,
          status: 'failed',
          errorMessage: `Unknown: an earlier attempt may have created a work item, but Azure DevOps could not be checked (${error.name})`,
        },
      ]);
      return;
    }
    await releaseItem(deps.db, syncId, ardoqId, false);
    if (item.targetConfigId) forgetConnection(deps, item.targetConfigId);
    await failSync(deps, syncId, describeSyncFailure(error, item.projectName, configuration));
    return;
  }
  if (error instanceof AdoThrottledError) {
    // Nothing was created; hand the wait to the queue instead of sleeping in the Lambda.
    await releaseItem(deps.db, syncId, ardoqId, false);
    const delaySeconds = Math.min(900, Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    await deps.queue.send([message], { delaySeconds });
    deps.metrics.count('ItemsThrottled');
    deps.log.info('item throttled', { syncId, ardoqId, delaySeconds });
    return;
  }
  if (error instanceof AdoTransientError) {
    // The create may have reached Azure DevOps: the retry looks for it before creating.
    await releaseItem(deps.db, syncId, ardoqId, true);
    await deps.queue.send([message], { delaySeconds: deps.settings.transientRetrySeconds });
    deps.log.warn('item attempt uncertain, will reconcile', { syncId, ardoqId, error: error.message });
    return;
  }
  // Anything else (the database, the secret store) fails the message so the queue retries it. The
  // claim is given back when possible; the attempt counts, as the create may have happened.
  await releaseItem(deps.db, syncId, ardoqId, true).catch(() => undefined);
  throw error;
}
