import { type MappingSnapshot, MappingValueError } from '#core/domain/field-mapping.ts';
import type { StoredTypes } from '#core/domain/stored-types.ts';
import type { Outcome } from '#core/domain/sync-model.ts';
import { TERMINAL_STATUSES } from '#core/domain/sync-model.ts';
import type { ClaimedItem, RecordResult } from '#core/domain/sync-state.ts';
import { mapNodeToWorkItem, SYNC_TAG } from '#core/mapping/field-mapping.ts';
import type { ResolvedTypes } from '#core/mapping/work-item-types.ts';
import {
  AdoAuthError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  type CreatedWorkItem,
  type NewWorkItem,
  type WorkItemTracker,
} from '#core/ports/work-item-tracker.ts';
import type { Connection } from './connection.ts';
import type { ProcessDeps } from './deps.ts';
import { describeSyncFailure, failSync } from './failures.ts';
import { notStartedReason, SyncClosingError } from './finalize.ts';

/** The marker in the hyperlink comment that ties a work item to one node of one sync. */
export const syncMarker = (syncId: string, ardoqId: string) => `ardoq-sync:${syncId}:${ardoqId}`;

/** What one node's attempt ended with, to be recorded with the rest of its batch. */
interface Settled {
  item: ClaimedItem;
  outcome: Outcome;
  created?: CreatedWorkItem;
}

/**
 * Processes nodes of one sync delivered together (an SQS batch): claims them in one statement, creates
 * each one's work item under its parent in parallel (or adopts the one an earlier, uncertain attempt
 * created), records every outcome with its counters and events in one statement, enqueues the
 * children of the created ones and asks for finalization when the last outcome is in. One outcome
 * statement per batch instead of per node keeps the sync's one `sync_history` row from becoming a
 * queue of row locks. Azure DevOps trouble is handled per node; database trouble fails the nodes it
 * touched, so their messages are retried and nothing is acknowledged unrecorded (DESIGN.md §4.7).
 * Returns the nodes that failed, with their errors (their messages must not be acknowledged).
 */
export async function processItems(
  syncId: string,
  ardoqIds: readonly string[],
  deps: ProcessDeps,
): Promise<Map<string, unknown>> {
  const items = await deps.syncs.claimItems(syncId, ardoqIds, deps.settings.staleSeconds);
  if (items.length < new Set(ardoqIds).size) {
    deps.log.debug('nodes not claimable (done, held by another processor, or sync not running)', {
      syncId,
      unclaimed: ardoqIds.filter((id) => !items.some((item) => item.ardoqId === id)),
    });
  }
  const failures = new Map<string, unknown>();
  const settled: Settled[] = [];
  const beforeSend = closeCheck(deps, syncId);
  await Promise.all(
    items.map(async (item) => {
      try {
        const result = await attempt(deps, item, beforeSend);
        if (result) settled.push(result);
      } catch (error) {
        failures.set(item.ardoqId, error);
      }
    }),
  );
  if (settled.length > 0) await recordSettled(deps, syncId, settled, failures);
  return failures;
}

/** Processes one node (a batch of one); throws what failed it. */
export async function processItem(syncId: string, ardoqId: string, deps: ProcessDeps): Promise<void> {
  const failures = await processItems(syncId, [ardoqId], deps);
  if (failures.has(ardoqId)) throw failures.get(ardoqId);
}

/** How long a check that the sync is not closing stays good for the creates of a batch. */
const CLOSE_CHECK_MS = 250;

/**
 * The check a batch's creates run before each send to Azure DevOps: after a cancel (or a failure)
 * was requested, no new create starts. The claim read the sync a moment ago; a create that waited
 * (pacing, an in-call retry) reads it again, at most once per CLOSE_CHECK_MS for the whole batch.
 */
function closeCheck(deps: ProcessDeps, syncId: string): () => Promise<void> {
  let checkedAt = Date.now();
  let reading: Promise<'cancelled' | 'failed' | null> | null = null;
  return async () => {
    if (Date.now() - checkedAt < CLOSE_CHECK_MS) return;
    reading ??= deps.syncs.closingTo(syncId).finally(() => {
      checkedAt = Date.now();
      reading = null;
    });
    const to = await reading;
    if (to) throw new SyncClosingError(syncId, to);
  };
}

/**
 * One claimed node up to its outcome: created, adopted or skipped (returned, recorded with the batch),
 * or Azure DevOps trouble handled on its own (recorded, released or re-queued here; null). On a closing
 * sync nothing is created: a node an earlier attempt may have created is reconciled (adopted, or
 * skipped once Azure DevOps shows nothing), any other is skipped.
 */
async function attempt(
  deps: ProcessDeps,
  item: ClaimedItem,
  beforeSend: () => Promise<void>,
): Promise<Settled | null> {
  const { syncId, ardoqId } = item;
  if (!item.targetConfigId || !item.workItemTypes) {
    const reason = 'The sync lost its configuration or work item types';
    await record(deps, syncId, [{ ardoqId, status: 'failed', errorMessage: reason }]);
    await failSync(deps, syncId, reason);
    return null;
  }
  const types = item.workItemTypes;
  let connection: Connection | undefined;
  try {
    const running = item.syncStatus === 'in_progress' && item.closeRequested === null;
    if (!running && item.attempts <= 1) return notStarted(item, item.closeRequested);
    connection = await deps.connections.connect(deps, item.targetConfigId);
    const { tracker } = connection;
    if (item.attempts > 1) {
      const adopted = await findEarlierWorkItem(tracker, item, types);
      if (adopted) {
        deps.log.debug('adopted the work item of an earlier attempt', { syncId, ardoqId, adoId: adopted.id });
        return createdOutcome(item, adopted);
      }
      // A closing sync: the uncertain attempt turned out to have created nothing.
      if (!running) return notStarted(item, item.closeRequested);
    }
    if (item.parentArdoqId !== null && item.parentAzureDevOpsId === null) {
      const errorMessage = 'Not created: its parent was not created';
      return { item, outcome: { ardoqId, status: 'skipped', errorMessage } };
    }
    let workItem: NewWorkItem;
    try {
      workItem = toWorkItem(deps, item, types, await deps.mappings.get(deps.syncs, syncId));
    } catch (error) {
      // A value the mapping cannot write fails this item, named by its field; the sync goes on.
      if (error instanceof MappingValueError)
        return { item, outcome: { ardoqId, status: 'failed', errorMessage: error.message } };
      throw error;
    }
    const created = await tracker.createWorkItem(item.projectName, workItem, { beforeSend });
    return createdOutcome(item, created);
  } catch (error) {
    // The check before the send found the sync closing: nothing was sent.
    if (error instanceof SyncClosingError) return notStarted(item, error.to);
    await handleAdoFailure(deps, item, error, connection?.configuration);
    return null;
  }
}

function notStarted(item: ClaimedItem, to: 'cancelled' | 'failed' | null): Settled {
  return { item, outcome: { ardoqId: item.ardoqId, status: 'skipped', errorMessage: notStartedReason(to) } };
}

/** A stored type's fields as a set, built once per claimed batch (its items share the types object). */
const fieldSets = new WeakMap<StoredTypes['epic'], ReadonlySet<string>>();
function fieldSetOf(level: StoredTypes['epic']): ReadonlySet<string> {
  let set = fieldSets.get(level);
  if (!set) {
    set = new Set(level.fields);
    fieldSets.set(level, set);
  }
  return set;
}

function toWorkItem(
  deps: ProcessDeps,
  item: ClaimedItem,
  types: StoredTypes,
  mapping: MappingSnapshot | null,
) {
  const level = types[item.itemType];
  const resolved: ResolvedTypes = {
    process: types.process as ResolvedTypes['process'],
    epic: types.epic.name,
    feature: types.feature.name,
    userStory: types.user_story.name,
  };
  return mapNodeToWorkItem({ ...item.payload, name: item.name }, item.itemType, resolved, fieldSetOf(level), {
    ...(item.parentAzureDevOpsId !== null ? { parentId: item.parentAzureDevOpsId } : {}),
    ardoqBaseUrl: deps.settings.ardoqBaseUrl,
    marker: syncMarker(item.syncId, item.ardoqId),
    ...(mapping
      ? { mapping: { snapshot: mapping, ...(level.fieldTypes ? { fieldTypes: level.fieldTypes } : {}) } }
      : {}),
  });
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

function createdOutcome(item: ClaimedItem, created: CreatedWorkItem): Settled {
  return {
    item,
    created,
    outcome: {
      ardoqId: item.ardoqId,
      status: 'created',
      azureDevOpsId: created.id,
      azureDevOpsUrl: created.webUrl,
      ...(created.changedBy ? { changedByUser: created.changedBy } : {}),
      ...(created.throttledMs ? { throttledMs: created.throttledMs } : {}),
    },
  };
}

/**
 * Records a batch's outcomes in one statement, then enqueues the children of the created nodes. When
 * the statement fails, the nodes are given back (their attempt counts: the work items may exist) and
 * fail, so their messages come back and the retry adopts what was created.
 */
async function recordSettled(
  deps: ProcessDeps,
  syncId: string,
  settled: readonly Settled[],
  failures: Map<string, unknown>,
): Promise<void> {
  const ids = settled.map((s) => s.item.ardoqId);
  let result: RecordResult;
  try {
    result = await record(
      deps,
      syncId,
      settled.map((s) => s.outcome),
    );
  } catch (error) {
    await deps.syncs.releaseItems(syncId, ids, true).catch(() => undefined);
    for (const id of ids) failures.set(id, error);
    return;
  }
  if (result.insertedCreated > 0) deps.metrics.count('ItemsCreated', result.insertedCreated);
  const created = settled.filter((s) => s.created);
  for (const s of created) {
    deps.log.debug('item created', { syncId, ardoqId: s.item.ardoqId, adoId: s.created?.id });
  }
  const children = created.flatMap((s) => s.item.children);
  // A closing sync's children were skipped when the close was requested.
  if (result.sync.status !== 'in_progress' || result.sync.closeRequested || children.length === 0) return;
  try {
    await deps.queue.send(children.map((child) => ({ kind: 'item', syncId, ardoqId: child })));
  } catch (error) {
    // Recorded but the children are not queued: the sweep sends nodes pending under a created parent.
    for (const s of created) failures.set(s.item.ardoqId, error);
  }
}

async function record(
  deps: ProcessDeps,
  syncId: string,
  outcomes: readonly Outcome[],
): Promise<RecordResult> {
  const result = await deps.syncs.recordOutcomes(syncId, outcomes);
  if (result.complete && result.inserted > 0 && !TERMINAL_STATUSES.includes(result.sync.status)) {
    await deps.queue.send([{ kind: 'finalize', syncId }]);
  }
  return result;
}

async function handleAdoFailure(
  deps: ProcessDeps,
  item: ClaimedItem,
  error: unknown,
  configuration: Connection['configuration'] | undefined,
): Promise<void> {
  const { syncId, ardoqId } = item;
  const message = { kind: 'item' as const, syncId, ardoqId };
  const running = item.syncStatus === 'in_progress' && item.closeRequested === null;
  if (error instanceof AdoRejectedError && !error.projectMissing) {
    await record(deps, syncId, [
      { ardoqId, status: 'failed', errorMessage: error.message.slice(0, 10_000) || 'Rejected' },
    ]);
    const skipped = await deps.syncs.skipSubtree(syncId, ardoqId);
    if (skipped.complete && skipped.inserted > 0 && !TERMINAL_STATUSES.includes(skipped.sync.status)) {
      await deps.queue.send([{ kind: 'finalize', syncId }]);
    }
    deps.metrics.count('ItemsFailed');
    deps.log.debug('item rejected by Azure DevOps', {
      syncId,
      ardoqId,
      code: error.code,
      status: error.status,
      skipped: skipped.inserted,
    });
    return;
  }
  if (error instanceof AdoAuthError || (error instanceof AdoRejectedError && error.projectMissing)) {
    if (!running) {
      // Reconciling a node of a closing sync, and Azure DevOps will not answer: retrying cannot help.
      await record(deps, syncId, [
        {
          ardoqId,
          status: 'failed',
          errorMessage: `Unknown: an earlier attempt may have created a work item, but Azure DevOps could not be checked (${error.name})`,
        },
      ]);
      return;
    }
    // Nothing was created: the node goes back (and is skipped by the close that follows).
    await deps.syncs.releaseItems(syncId, [ardoqId], false);
    if (item.targetConfigId) deps.connections.forget(item.targetConfigId);
    await failSync(deps, syncId, describeSyncFailure(error, item.projectName, configuration), {
      ...(error.code ? { code: error.code } : {}),
    });
    return;
  }
  if (error instanceof AdoThrottledError) {
    // Nothing was created; hand the wait to the queue instead of sleeping in the Lambda.
    const released = (await deps.syncs.releaseItems(syncId, [ardoqId], false, error.retryAfterMs)).length > 0;
    if (!released) {
      // The sync is closing: the node will not be tried again.
      await record(deps, syncId, [
        { ardoqId, status: 'skipped', errorMessage: notStartedReason(await deps.syncs.closingTo(syncId)) },
      ]);
      return;
    }
    const delaySeconds = Math.min(900, Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    await deps.queue.send([message], { delaySeconds });
    deps.metrics.count('ItemsThrottled');
    deps.log.debug('item throttled', { syncId, ardoqId, delaySeconds });
    return;
  }
  if (error instanceof AdoTransientError) {
    // The create may have reached Azure DevOps: the retry looks for it before creating (or, on a
    // closing sync, instead of creating).
    await deps.syncs.releaseItems(syncId, [ardoqId], true);
    await deps.queue.send([message], { delaySeconds: deps.settings.transientRetrySeconds });
    deps.log.debug('item attempt uncertain, will reconcile', { syncId, ardoqId, error: error.name });
    return;
  }
  // Anything else (the database, the secret store) fails the message so the queue retries it. The
  // claim is given back when possible; the attempt counts, as the create may have happened.
  await deps.syncs.releaseItems(syncId, [ardoqId], true).catch(() => undefined);
  throw error;
}
