import type { StoredTypes } from '#core/domain/stored-types.ts';
import type { SyncState } from '#core/domain/sync-state.ts';
import { NotFoundError } from '#core/errors.ts';
import { mappingType } from '#core/mapping/catalog.ts';
import { resolveHierarchyTypes, UnsupportedProcessError } from '#core/mapping/work-item-types.ts';
import {
  AdoAuthError,
  AdoError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  describeAdoFailure,
  type FieldDefinition,
  type WorkItemTracker,
  type WorkItemTypeInfo,
} from '#core/ports/work-item-tracker.ts';
import { RetryLaterError } from '#core/ports/work-queue.ts';
import { PromiseCache } from '../promise-cache.ts';
import type { Connection } from './connection.ts';
import type { ProcessDeps } from './deps.ts';
import { describeSyncFailure, failSync } from './failures.ts';
import { finalize, SyncClosingError } from './finalize.ts';
import { findManagedWorkItems } from './managed-items.ts';

const DELETE_CHUNK = 200;

/** Longest wait between two prepare attempts (SQS' delay limit is 15 minutes). */
const MAX_RETRY_DELAY_SECONDS = 900;

/** How long a project's discovered types stay good for the syncs of one connection (cold start). */
const DISCOVERY_TTL_MS = 60_000;
const discoveries = new WeakMap<Connection, PromiseCache<Discovery>>();

interface Discovery {
  listed: WorkItemTypeInfo[];
  definitions: FieldDefinition[];
  found: Awaited<ReturnType<WorkItemTracker['getProject']>>;
}

/**
 * The project's types (with their fields), the fields' types (they let the mapping write each value as
 * its field wants it) and its GUID (it finds the sync by either name, §6.3): asked for together, one
 * round trip, and kept for a minute per connection, as the connection itself is (a process changed
 * meanwhile shows up within a minute; a project deleted meanwhile fails the first creates, which
 * fail the sync as its prepare would have). A failed discovery is not kept.
 */
function discover(connection: Connection, project: string): Promise<Discovery> {
  let cache = discoveries.get(connection);
  if (!cache) {
    cache = new PromiseCache<Discovery>({ ttlMs: DISCOVERY_TTL_MS, max: 50 });
    discoveries.set(connection, cache);
  }
  const { tracker } = connection;
  return cache.get(project.toLowerCase(), async () => {
    const [listed, definitions, found] = await Promise.all([
      tracker.listWorkItemTypes(project),
      tracker.listFieldDefinitions(project),
      tracker.getProject(project),
    ]);
    return { listed, definitions, found };
  });
}

/**
 * The `prepare` step: discover the project's process and types, delete managed items in overwrite
 * mode, move the sync to in_progress and enqueue its epics. Runs once at a time per sync. Throttling
 * and transient failures of Azure DevOps are retried with backoff for `overwriteRetryMinutes` (the
 * message comes back later: `RetryLaterError`), then the sync fails. A close request seen before an
 * Azure DevOps call stops the step and closes the sync.
 */
export async function prepareSync(syncId: string, deps: ProcessDeps): Promise<void> {
  const sync = await deps.syncs.claimPrepare(syncId, deps.settings.staleSeconds);
  if (!sync) return; // not pending any more, or another prepare is at work
  if (sync.closeRequested) return stopForClose(deps, syncId);
  const project = sync.view.project_name;
  const configId = sync.view.target_config_id;
  let connection: Connection | undefined;
  try {
    if (!configId) throw new NotFoundError('The sync names no Azure DevOps configuration');
    connection = await deps.connections.connect(deps, configId);
    const { tracker } = connection;
    const hint = typeof sync.options.processTemplate === 'string' ? sync.options.processTemplate : undefined;
    const { listed, definitions, found } = await discover(connection, project);
    const resolved = resolveHierarchyTypes(
      listed.map((type) => type.name),
      hint as never,
    );
    // The list carries each type's fields, unless an answer lacks them.
    const fieldsOf = (name: string) =>
      listed.find((type) => type.name === name)?.fields ?? tracker.listFields(project, name);
    const [epic, feature, story] = await Promise.all([
      fieldsOf(resolved.epic),
      fieldsOf(resolved.feature),
      fieldsOf(resolved.userStory),
    ]);
    const factsOf = (name: string, fields: readonly string[]) =>
      fieldFacts(
        listed.find((t) => t.name === name),
        fields,
        definitions,
      );
    const types: StoredTypes = {
      process: resolved.process,
      epic: { name: resolved.epic, fields: epic ?? [], fieldTypes: factsOf(resolved.epic, epic ?? []) },
      feature: {
        name: resolved.feature,
        fields: feature ?? [],
        fieldTypes: factsOf(resolved.feature, feature ?? []),
      },
      user_story: {
        name: resolved.userStory,
        fields: story ?? [],
        fieldTypes: factsOf(resolved.userStory, story ?? []),
      },
    };
    await freezeMapping(deps, syncId, types.process, found?.id);
    if (sync.view.overwrite_mode) {
      const ok = await deleteManagedItems(deps, sync, tracker, types);
      if (!ok) return;
    }
    const started = await deps.syncs.start(syncId, types);
    if (!started) return stopForClose(deps, syncId); // a close was requested meanwhile
    const roots = await deps.syncs.rootItems(syncId);
    await deps.queue.send(roots.map((ardoqId) => ({ kind: 'item', syncId, ardoqId })));
    deps.log.info('sync started', {
      syncId,
      project,
      process: types.process,
      epics: roots.length,
      totalItems: sync.totalItems,
      ...(sync.view.overwrite_mode ? { deleted: started.view.deletion_count } : {}),
      attempts: sync.prepareAttempts + 1,
    });
  } catch (error) {
    if (error instanceof SyncClosingError) return stopForClose(deps, syncId);
    if (error instanceof AdoThrottledError || error instanceof AdoTransientError) {
      return postpone(deps, sync, error);
    }
    if (error instanceof AdoRejectedError && error.projectMissing) {
      await waitForProject(deps, sync); // throws RetryLaterError while the project may still come
    }
    if (
      error instanceof AdoAuthError ||
      error instanceof AdoRejectedError ||
      error instanceof UnsupportedProcessError ||
      error instanceof NotFoundError
    ) {
      if (error instanceof AdoAuthError && configId) deps.connections.forget(configId);
      await failSync(deps, syncId, describeSyncFailure(error, project, connection?.configuration), {
        fromPrepare: true,
        ...codeOf(error),
      });
      return;
    }
    await deps.syncs.releasePrepare(syncId);
    throw error; // database trouble: let the queue retry
  }
}

/** Each field's type (from the project's field list) and allowed values (from the type's list). */
function fieldFacts(
  type: WorkItemTypeInfo | undefined,
  fields: readonly string[],
  definitions: readonly FieldDefinition[],
): NonNullable<StoredTypes['epic']['fieldTypes']> {
  const typeOf = new Map(definitions.map((d) => [d.referenceName, mappingType(d)]));
  const allowed = new Map((type?.fieldDetails ?? []).map((f) => [f.referenceName, f.allowedValues]));
  return Object.fromEntries(
    fields.map((field) => {
      const values = allowed.get(field);
      const kind = typeOf.get(field);
      return [
        field,
        {
          ...(kind ? { type: kind } : {}),
          ...(values && values.length > 0 ? { allowedValues: values } : {}),
        },
      ];
    }),
  );
}

/**
 * A sync accepted without a mapping (none named, no project default) applies the template of its
 * project's process, frozen now that the process is known; the project's GUID is kept too.
 */
async function freezeMapping(
  deps: ProcessDeps,
  syncId: string,
  process: string,
  projectId: string | undefined,
) {
  const existing = await deps.syncs.mappingOf(syncId);
  if (existing) {
    if (projectId) await deps.syncs.fillMapping(syncId, { projectId });
    return;
  }
  const template =
    (await deps.fieldMappings.template(process)) ?? (await deps.fieldMappings.template('Agile'));
  await deps.syncs.fillMapping(syncId, {
    ...(projectId ? { projectId } : {}),
    ...(template
      ? {
          mapping: {
            kind: 'default',
            id: template.id,
            name: template.name,
            processTemplateName: template.processTemplateName,
            mappings: template.mappings,
          },
        }
      : {}),
  });
}

const codeOf = (error: unknown) => (error instanceof AdoError && error.code ? { code: error.code } : {});

/** A close was requested: give the prepare claim back and close the sync (nothing was started). */
async function stopForClose(deps: ProcessDeps, syncId: string): Promise<void> {
  await deps.syncs.releasePrepare(syncId);
  await finalize(syncId, deps);
}

/**
 * Waits out Azure DevOps trouble: the next attempt comes after a backoff that spreads about four
 * retries over the retry window (`overwriteRetryMinutes`), or after the delay Azure DevOps asked for
 * when longer; the message comes back then (`RetryLaterError`, its receive count going on). When the
 * window has no room left, the sync fails (after one `overwrite:error` in overwrite mode).
 */
async function postpone(
  deps: ProcessDeps,
  sync: SyncState,
  error: AdoThrottledError | AdoTransientError,
): Promise<never | undefined> {
  const syncId = sync.view.id;
  const overwrite = sync.view.overwrite_mode;
  const budgetMinutes = deps.settings.overwriteRetryMinutes;
  const attempt = sync.prepareAttempts + 1;
  // 1 + 2 + 4 + 8 = 15 base delays fill the window: five attempts, within SQS' five receives.
  const base = Math.max(1, Math.round((budgetMinutes * 60) / 15));
  const asked = error instanceof AdoThrottledError ? Math.ceil(error.retryAfterMs / 1000) : 0;
  const delaySeconds = Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(base * 2 ** (attempt - 1), asked));
  const reason = describeAdoFailure(error);
  const postponed = await deps.syncs.postponePrepare(syncId, {
    delaySeconds,
    budgetMinutes,
    ...(overwrite ? { event: { name: 'overwrite:retrying', data: { reason } } } : {}),
  });
  if (postponed) {
    const waitSeconds = postponed.delaySeconds;
    deps.log.warn('prepare postponed', { syncId, attempt, error: error.name, waitSeconds });
    throw new RetryLaterError(waitSeconds, `prepare of sync ${syncId} retries in ${waitSeconds} s`);
  }
  if (!(await stillPending(deps, syncId))) return;
  const what = overwrite ? 'Overwrite failed' : 'The sync could not start';
  const message = `${what}: Azure DevOps kept failing for ${budgetMinutes} minutes (last: ${reason})`;
  if (overwrite) {
    await deps.syncs.appendEvent(syncId, 'overwrite:error', { error: message, message: 'Overwrite failed' });
  }
  await failSync(deps, syncId, message, { fromPrepare: true });
  return;
}

/**
 * How long after its start a sync waits for a missing project: Azure DevOps creates a project
 * asynchronously, so a sync started right after `POST /api/azure-devops/projects` may find nothing yet.
 */
export const PROJECT_WAIT_SECONDS = 120;
/** Delays between the looks: four retries, within SQS' five receives (4 + 8 + 16 + 32 = 60 s). */
const PROJECT_WAIT_FIRST_DELAY_SECONDS = 4;

/**
 * A young sync whose project does not exist yet comes back later (`RetryLaterError`), up to four times
 * within `PROJECT_WAIT_SECONDS` of its start; then (or for an older sync) it returns, and the caller
 * fails the sync as "project missing".
 */
async function waitForProject(deps: ProcessDeps, sync: SyncState): Promise<void> {
  const syncId = sync.view.id;
  const ageSeconds = (deps.clock.now().getTime() - Date.parse(sync.view.created_at)) / 1000;
  const attempt = sync.prepareAttempts + 1;
  if (ageSeconds > PROJECT_WAIT_SECONDS || attempt > 4) return;
  const postponed = await deps.syncs.postponePrepare(syncId, {
    delaySeconds: PROJECT_WAIT_FIRST_DELAY_SECONDS * 2 ** (attempt - 1),
    budgetMinutes: Math.ceil(PROJECT_WAIT_SECONDS / 60),
  });
  if (!postponed) return;
  deps.log.info('prepare waits for the project', {
    syncId,
    project: sync.view.project_name,
    attempt,
    waitSeconds: postponed.delaySeconds,
  });
  throw new RetryLaterError(
    postponed.delaySeconds,
    `prepare of sync ${syncId} looks for its project again in ${postponed.delaySeconds} s`,
  );
}

async function stillPending(deps: ProcessDeps, syncId: string): Promise<boolean> {
  if ((await await deps.syncs.closingTo(syncId)) !== null) {
    await stopForClose(deps, syncId);
    return false;
  }
  return true;
}

/** Throws SyncClosingError when a close was requested: the next Azure DevOps call must not start. */
async function checkOpen(deps: ProcessDeps, syncId: string): Promise<void> {
  if ((await await deps.syncs.closingTo(syncId)) !== null) throw new SyncClosingError(syncId);
}

/**
 * Overwrite mode: sends the work items this service created in the project (tag `ardoq-sync`, our
 * types) to the recycle bin in chunks of 200, counting each chunk. A retry goes on from what is left
 * (its progress counts on from the first attempt's total, and the start events are not repeated).
 * Throttling and transient failures are thrown for the caller to postpone. A permanent failure
 * (refused credentials or permission, a rejected request) writes one `overwrite:error`, then the sync
 * fails at once with nothing created. Returns false when the sync failed.
 */
async function deleteManagedItems(
  deps: ProcessDeps,
  sync: SyncState,
  tracker: WorkItemTracker,
  types: StoredTypes,
): Promise<boolean> {
  const syncId = sync.view.id;
  const project = sync.view.project_name;
  if (sync.prepareAttempts === 0) {
    await deps.syncs.appendEvent(syncId, 'overwrite:started', {
      message: `Looking for work items created by this sync service in ${project}`,
    });
  }
  let deleted = sync.view.deletion_count;
  try {
    await checkOpen(deps, syncId);
    const ids = await findManagedWorkItems(tracker, project, [
      types.epic.name,
      types.feature.name,
      types.user_story.name,
    ]);
    if (ids.length === 0) {
      if (deleted === 0) {
        await deps.syncs.appendEvent(syncId, 'overwrite:no-items', {
          message: 'No managed work items to delete',
        });
      } else {
        await deps.syncs.appendEvent(syncId, 'overwrite:deleted', {
          message: `Deleted ${deleted} managed work items (restorable from the recycle bin)`,
          count: deleted,
        });
      }
      return true;
    }
    const total = Math.max(sync.overwriteTotal ?? 0, deleted + ids.length);
    if (sync.overwriteTotal === null) {
      await deps.syncs.appendEvent(
        syncId,
        'overwrite:deleting',
        { message: `Deleting ${ids.length} managed work items (to the recycle bin)`, count: ids.length },
        { overwriteTotal: total },
      );
    }
    const chunksBefore = Math.ceil(deleted / DELETE_CHUNK);
    const chunks = Math.ceil(ids.length / DELETE_CHUNK);
    for (let chunk = 0; chunk < chunks; chunk++) {
      if (chunk > 0) await checkOpen(deps, syncId);
      const chunkIds = ids.slice(chunk * DELETE_CHUNK, (chunk + 1) * DELETE_CHUNK);
      await tracker.deleteWorkItems(project, chunkIds);
      deleted += chunkIds.length;
      const recorded = await deps.syncs.recordDeletions(syncId, chunkIds.length, {
        name: 'overwrite:progress',
        data: {
          message: `Deleted ${deleted} of ${total}`,
          deleted,
          total,
          currentChunk: chunksBefore + chunk + 1,
          totalChunks: chunksBefore + chunks,
          deletedIds: chunkIds,
        },
      });
      if (recorded.closing) throw new SyncClosingError(syncId);
    }
    await deps.syncs.appendEvent(syncId, 'overwrite:deleted', {
      message: `Deleted ${deleted} managed work items (restorable from the recycle bin)`,
      count: deleted,
    });
    return true;
  } catch (error) {
    if (!(error instanceof AdoAuthError || error instanceof AdoRejectedError)) throw error;
    const cause = describeSyncFailure(error, project);
    const message = `Overwrite failed: deleting the managed work items of ${project} (${deleted} deleted so far): ${cause}`;
    await deps.syncs.appendEvent(syncId, 'overwrite:error', { error: message, message: 'Overwrite failed' });
    await failSync(deps, syncId, message, { fromPrepare: true, ...codeOf(error) });
    return false;
  }
}
