import type { Actor, PlanNode } from '#core/domain/sync-model.ts';
import type { StartSyncBody } from '#core/domain/sync-request.ts';
import { ValidationError } from '#core/errors.ts';
import { resolveSyncMapping } from '../mapping/sync-mapping.ts';
import { resolveConfiguration } from './connection.ts';
import type { StartDeps } from './deps.ts';

/** A sync request, validated at the edge (the route's schemas: sync-request.ts). */
export interface StartSyncInput {
  project: string;
  configId?: string | undefined;
  overwrite: boolean;
  sourceConfigId?: string | undefined;
  body: StartSyncBody;
  actor: Actor;
}

export interface StartSyncResult {
  sync_history_id: string;
  status: 'pending';
  events_url: string;
}

/** Flattens the tree (parents before children), rejecting duplicate `_id`s with the duplicate's path. */
export function buildPlan(body: StartSyncBody): PlanNode[] {
  const plan: PlanNode[] = [];
  const seen = new Map<string, string>();
  const add = (
    node: { _id: string; name: string },
    path: string,
    itemType: PlanNode['itemType'],
    parent: string | null,
  ) => {
    const first = seen.get(node._id);
    if (first) {
      throw new ValidationError(
        `Invalid request: ${path}._id: duplicate id ${node._id} (first at ${first})`,
        [{ path: `${path}._id`, message: `duplicate id ${node._id}, first used at ${first}` }],
      );
    }
    seen.set(node._id, path);
    // The payload keeps the node's other raw keys (description, priority, tags…) for the field mapping;
    // id, name and type have their own columns and the children their own rows.
    const {
      children: _children,
      _id,
      name: _name,
      type: _type,
      ...payload
    } = node as Record<string, unknown>;
    plan.push({ ardoqId: node._id, parentArdoqId: parent, itemType, name: node.name, payload });
  };
  body.epics.forEach((epic, e) => {
    add(epic, `epics[${e}]`, 'epic', null);
    epic.children?.forEach((feature, f) => {
      add(feature, `epics[${e}].children[${f}]`, 'feature', epic._id);
      feature.children?.forEach((story, s) => {
        add(story, `epics[${e}].children[${f}].children[${s}]`, 'user_story', feature._id);
      });
    });
  });
  return plan;
}

/**
 * Resolves the configuration, writes the pending sync with its whole plan (one statement, or one
 * transaction for a plan too large for one request) and enqueues `prepare`. A duplicate id or an
 * unknown configuration throws before anything is written.
 */
export async function startSync(input: StartSyncInput, deps: StartDeps): Promise<StartSyncResult> {
  const project = input.project;
  const body = input.body;
  const plan = buildPlan(body);
  const configuration = await resolveConfiguration(deps, input.configId);
  const sourceConfigId = input.sourceConfigId ?? (await deps.ardoqConfigurations.active())?.id;
  const mapping = await resolveSyncMapping(deps.fieldMappings, project, body);

  const sync = await deps.syncs.accept({
    projectName: project,
    ...(sourceConfigId ? { sourceConfigId } : {}),
    targetConfigId: configuration.id,
    overwriteMode: input.overwrite,
    deadlineAt: new Date(deps.clock.now().getTime() + deps.settings.deadlineMinutes * 60_000),
    options: {
      ...(body.fieldMappingConfigId ? { fieldMappingConfigId: body.fieldMappingConfigId } : {}),
      ...(body.processTemplateTemplateName ? { processTemplate: body.processTemplateTemplateName } : {}),
    },
    actor: input.actor,
    ...(mapping ? { mapping } : {}),
    plan,
  });
  const syncId = sync.view.id;
  // The sync is written: from here it is accepted, whatever happens to the send. A failed send is
  // repaired by the sweep (pending syncs whose prepare never ran), whereas an error answer would make
  // the client retry and start the same sync twice.
  try {
    await deps.queue.send([{ kind: 'prepare', syncId }]);
  } catch (error) {
    deps.log.warn('prepare not sent: the sweep will send it', {
      syncId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  deps.metrics.count('SyncsStarted');
  deps.log.info('sync accepted', {
    syncId,
    project,
    totalItems: sync.totalItems,
    overwrite: sync.view.overwrite_mode,
  });
  return {
    sync_history_id: syncId,
    status: 'pending',
    events_url: `/api/sync-history/${syncId}/events`,
  };
}
