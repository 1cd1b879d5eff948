import { NotFoundError, UpstreamError, ValidationError } from '#core/errors.ts';
import { SYNC_TAG } from '#core/mapping/field-mapping.ts';
import {
  type ProcessName,
  resolveHierarchyTypes,
  UnsupportedProcessError,
} from '#core/mapping/work-item-types.ts';
import {
  AdoAuthError,
  AdoError,
  AdoRejectedError,
  type WorkItemTracker,
} from '#core/ports/work-item-tracker.ts';
import { resolveConfiguration } from './connection.ts';
import type { ProcessDeps } from './deps.ts';
import { describeSyncFailure } from './failures.ts';

/**
 * The work items overwrite mode deletes: only those this service created in the project (tag
 * `ardoq-sync`) and only of the hierarchy types it syncs (old defect 10).
 */
export function findManagedWorkItems(
  tracker: WorkItemTracker,
  project: string,
  types: readonly string[],
): Promise<number[]> {
  return tracker.searchWorkItems(project, { tag: SYNC_TAG, types: [...types] });
}

/** `GET …/workitems/check`: what overwrite mode would delete in a project right now. */
export async function checkManagedWorkItems(
  project: string,
  configId: string | undefined,
  deps: ProcessDeps,
  hint?: ProcessName,
): Promise<{ hasWorkItems: boolean; count: number; workItemIds: number[] }> {
  const configuration = await resolveConfiguration(deps, configId);
  const { tracker } = await deps.connections.connect(deps, configuration.id);
  try {
    const listed = await tracker.listWorkItemTypes(project);
    const types = resolveHierarchyTypes(
      listed.map((type) => type.name),
      hint,
    );
    const ids = await findManagedWorkItems(tracker, project, [types.epic, types.feature, types.userStory]);
    return { hasWorkItems: ids.length > 0, count: ids.length, workItemIds: ids };
  } catch (error) {
    // Azure DevOps' answers are the caller's business (4xx) or Azure DevOps' trouble (502), never a 500.
    if (error instanceof AdoRejectedError && error.projectMissing) {
      throw new NotFoundError(`Azure DevOps project "${project}" does not exist or is not visible`);
    }
    if (error instanceof AdoAuthError) {
      deps.connections.forget(configuration.id);
      throw new ValidationError(describeSyncFailure(error, project, configuration), [
        { path: 'configId', message: 'Azure DevOps refused this configuration’s PAT' },
      ]);
    }
    if (error instanceof UnsupportedProcessError) {
      throw new ValidationError(error.message, [{ path: 'project', message: error.message }]);
    }
    if (error instanceof AdoError) throw new UpstreamError(`Azure DevOps did not answer: ${error.message}`);
    throw error;
  }
}
