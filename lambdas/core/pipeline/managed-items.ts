import { SYNC_TAG } from '#core/mapping/field-mapping.ts';
import { type ProcessName, resolveHierarchyTypes } from '#core/mapping/work-item-types.ts';
import type { WorkItemTracker } from '#core/ports/work-item-tracker.ts';
import { connect, resolveConfiguration } from './connection.ts';
import type { PipelineDeps } from './deps.ts';

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
  deps: PipelineDeps,
  hint?: ProcessName,
): Promise<{ hasWorkItems: boolean; count: number; workItemIds: number[] }> {
  const configuration = await resolveConfiguration(deps, configId);
  const { tracker } = await connect(deps, configuration.id);
  const types = resolveHierarchyTypes(await tracker.listWorkItemTypes(project), hint);
  const ids = await findManagedWorkItems(tracker, project, [types.epic, types.feature, types.userStory]);
  return { hasWorkItems: ids.length > 0, count: ids.length, workItemIds: ids };
}
