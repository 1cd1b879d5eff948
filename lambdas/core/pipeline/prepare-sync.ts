import { NotFoundError } from '#core/errors.ts';
import { resolveHierarchyTypes, UnsupportedProcessError } from '#core/mapping/work-item-types.ts';
import {
  AdoAuthError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  type WorkItemTracker,
} from '#core/ports/work-item-tracker.ts';
import { listRootItems } from '#core/sync/pipeline-repository.ts';
import {
  appendEvent,
  claimPrepare,
  markInProgress,
  recordDeletions,
  releasePrepare,
} from '#core/sync/sync-history-repository.ts';
import { connect, forgetConnection } from './connection.ts';
import type { PipelineDeps } from './deps.ts';
import { describeSyncFailure, failSync } from './failures.ts';
import { findManagedWorkItems } from './managed-items.ts';
import type { StoredTypes } from './stored-types.ts';

const DELETE_CHUNK = 200;

/**
 * The `prepare` step: discover the project's process and types, delete managed items in overwrite
 * mode, move the sync to in_progress and enqueue its epics. Runs once at a time per sync.
 */
export async function prepareSync(syncId: string, deps: PipelineDeps): Promise<void> {
  const sync = await claimPrepare(deps.db, syncId, deps.settings.staleSeconds);
  if (!sync) return; // not pending any more, or another prepare is at work
  const project = sync.view.project_name;
  const configId = sync.view.target_config_id;
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    if (!configId) throw new NotFoundError('The sync names no Azure DevOps configuration');
    connection = await connect(deps, configId);
    const { tracker } = connection;
    const hint = typeof sync.options.processTemplate === 'string' ? sync.options.processTemplate : undefined;
    const listed = await tracker.listWorkItemTypes(project);
    const resolved = resolveHierarchyTypes(
      listed.map((type) => type.name),
      hint as never,
    );
    // The list carries each type's fields: one round trip, unless an answer lacks them.
    const fieldsOf = (name: string) =>
      listed.find((type) => type.name === name)?.fields ?? tracker.listFields(project, name);
    const [epic, feature, story] = await Promise.all(
      [resolved.epic, resolved.feature, resolved.userStory].map(fieldsOf),
    );
    const types: StoredTypes = {
      process: resolved.process,
      epic: { name: resolved.epic, fields: epic ?? [] },
      feature: { name: resolved.feature, fields: feature ?? [] },
      user_story: { name: resolved.userStory, fields: story ?? [] },
    };
    if (sync.view.overwrite_mode) {
      const ok = await deleteManagedItems(deps, syncId, tracker, project, types);
      if (!ok) return;
    }
    const started = await markInProgress(deps.db, syncId, types as unknown as Record<string, unknown>);
    if (!started) return;
    const roots = await listRootItems(deps.db, syncId);
    await deps.queue.send(roots.map((ardoqId) => ({ kind: 'item', syncId, ardoqId })));
    deps.log.info('sync prepared', { syncId, process: types.process, epics: roots.length });
  } catch (error) {
    if (error instanceof AdoThrottledError || error instanceof AdoTransientError) {
      await releasePrepare(deps.db, syncId);
      const delaySeconds =
        error instanceof AdoThrottledError
          ? Math.min(900, Math.ceil(error.retryAfterMs / 1000))
          : deps.settings.transientRetrySeconds;
      await deps.queue.send([{ kind: 'prepare', syncId }], { delaySeconds });
      deps.log.warn('prepare postponed', { syncId, error: error.message, delaySeconds });
      return;
    }
    if (
      error instanceof AdoAuthError ||
      error instanceof AdoRejectedError ||
      error instanceof UnsupportedProcessError ||
      error instanceof NotFoundError
    ) {
      if (error instanceof AdoAuthError && configId) forgetConnection(deps, configId);
      await failSync(deps, syncId, describeSyncFailure(error, project, connection?.configuration));
      return;
    }
    await releasePrepare(deps.db, syncId);
    throw error; // database trouble: let the queue retry
  }
}

/**
 * Overwrite mode: sends the work items this service created in the project (tag `ardoq-sync`, our
 * types) to the recycle bin in chunks of 200, counting each chunk. On failure: one
 * `overwrite:error`, then the sync fails (its `sync:error`). Returns false when the sync failed.
 */
async function deleteManagedItems(
  deps: PipelineDeps,
  syncId: string,
  tracker: WorkItemTracker,
  project: string,
  types: StoredTypes,
): Promise<boolean> {
  await appendEvent(deps.db, syncId, 'overwrite:started', {
    message: `Looking for work items created by this sync service in ${project}`,
  });
  try {
    const ids = await findManagedWorkItems(tracker, project, [
      types.epic.name,
      types.feature.name,
      types.user_story.name,
    ]);
    if (ids.length === 0) {
      await appendEvent(deps.db, syncId, 'overwrite:no-items', {
        message: 'No managed work items to delete',
      });
      return true;
    }
    await appendEvent(deps.db, syncId, 'overwrite:deleting', {
      message: `Deleting ${ids.length} managed work items (to the recycle bin)`,
      count: ids.length,
    });
    const totalChunks = Math.ceil(ids.length / DELETE_CHUNK);
    let deleted = 0;
    for (let chunk = 0; chunk < totalChunks; chunk++) {
      const chunkIds = ids.slice(chunk * DELETE_CHUNK, (chunk + 1) * DELETE_CHUNK);
      await tracker.deleteWorkItems(project, chunkIds);
      deleted += chunkIds.length;
      await recordDeletions(deps.db, syncId, chunkIds.length, {
        name: 'overwrite:progress',
        data: {
          message: `Deleted ${deleted} of ${ids.length}`,
          deleted,
          total: ids.length,
          currentChunk: chunk + 1,
          totalChunks,
          deletedIds: chunkIds,
        },
      });
    }
    await appendEvent(deps.db, syncId, 'overwrite:deleted', {
      message: `Deleted ${deleted} managed work items (restorable from the recycle bin)`,
      count: deleted,
    });
    return true;
  } catch (error) {
    if (error instanceof AdoThrottledError || error instanceof AdoTransientError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    await appendEvent(deps.db, syncId, 'overwrite:error', { error: message, message: 'Overwrite failed' });
    await failSync(deps, syncId, `Overwrite failed: ${message}`);
    return false;
  }
}
