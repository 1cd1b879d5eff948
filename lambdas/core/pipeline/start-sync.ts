import * as z from 'zod';
import type { Actor, PlanNode } from '#core/domain/sync-model.ts';
import { formatPath, ValidationError } from '#core/errors.ts';
import { createSync } from '#store/sync/sync-rows.ts';
import { resolveConfiguration } from './connection.ts';
import type { PipelineDeps } from './deps.ts';

const nodeBase = {
  _id: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  name: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  description: z.string().max(100_000).nullish(),
};

// Nodes keep every other raw Ardoq key (they feed the field mapping): loose objects.
export const UserStoryNode = z.looseObject({
  ...nodeBase,
  type: z.literal('User Story'),
  // Nothing can be nested under a story: a node there would be neither synced nor reported.
  children: z.array(z.unknown()).max(0, 'must be empty: a User Story has no children').optional(),
});
export const FeatureNode = z.looseObject({
  ...nodeBase,
  type: z.literal('Feature'),
  children: z.array(UserStoryNode).optional(),
});
export const EpicNode = z.looseObject({
  ...nodeBase,
  type: z.literal('Epic'),
  children: z.array(FeatureNode).optional(),
});

export const ProcessTemplateName = z.enum(['Agile', 'Scrum', 'CMMI', 'Basic']);

/** Body of `POST /api/azure-devops/projects/{project}/workitems` (CONTRACT.md §2). */
export const StartSyncBody = z.object({
  epics: z.array(EpicNode).min(1, 'must contain at least one epic'),
  fieldMappingConfigId: z.string().max(255).optional(),
  processTemplateTemplateName: ProcessTemplateName.optional(),
});
export type StartSyncBody = z.infer<typeof StartSyncBody>;

export const StartSyncQuery = z.object({
  configId: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Azure DevOps configuration id (default: the active configuration)' }),
  overwrite: z.enum(['true', 'false'], { error: 'must be true or false' }).optional().meta({
    description:
      'Overwrite mode: `true` first deletes the work items this service created in the project, `false` or absent does not. Exactly `true` or `false`, lowercase: anything else (`1`, `yes`, `TRUE`, empty) is a 400.',
  }),
  sourceConfigId: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Ardoq configuration id, recorded as `source_config_id`' }),
});

/** Microsoft's reserved project names (system names and IIS hidden segments), upper-cased. */
const RESERVED_PROJECT_NAMES = new Set(
  [
    'AUX',
    'CON',
    'NUL',
    'PRN',
    ...Array.from({ length: 10 }, (_, i) => `COM${i + 1}`),
    ...Array.from({ length: 9 }, (_, i) => `LPT${i + 1}`),
    'SERVER',
    'SignalR',
    'DefaultCollection',
    'Web',
    'App_Browsers',
    'App_code',
    'App_Data',
    'App_GlobalResources',
    'App_LocalResources',
    'App_Themes',
    'App_WebResources',
    'bin',
    'web.config',
  ].map((name) => name.toUpperCase()),
);

/**
 * Microsoft's forbidden printable characters for project names, except the apostrophe: Microsoft
 * forbids it too, but CONTRACT.md §2 allows it ("O'Brien Team") and the frontend relies on it.
 */
const FORBIDDEN_PROJECT_CHARACTERS = /[/:\\~&%;@"?<>|#$*{},+=[\]]/;

/**
 * An Azure DevOps project name (Microsoft's "Naming restrictions", project names): at most 64
 * characters after trimming; no control or surrogate characters (so no emoji), none of
 * `/ : \ ~ & % ; @ " ? < > | # $ * { } , + = [ ]`, no `..`; not starting with `_`, not starting or
 * ending with `.`; not a reserved name (`CON`, `COM1`, `Web`, `bin`, `App_Data`, …).
 */
export const ProjectName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .superRefine((name, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    const forbidden = FORBIDDEN_PROJECT_CHARACTERS.exec(name)?.[0];
    if (/\p{Cc}/u.test(name)) fail('must not contain control characters');
    else if (/[\uD800-\uDFFF]/.test(name)) fail('must not contain surrogate characters (emoji and the like)');
    else if (forbidden) fail(`must not contain ${forbidden}`);
    else if (name.includes('..')) fail('must not contain ..');
    else if (name.startsWith('_')) fail('must not start with _');
    else if (name.startsWith('.') || name.endsWith('.')) fail('must not start or end with .');
    else if (RESERVED_PROJECT_NAMES.has(name.toUpperCase())) fail('is a name Azure DevOps reserves');
  })
  .meta({
    description:
      'Azure DevOps project name (URL-encoded): 1 to 64 characters, spaces and apostrophes allowed; no control or surrogate characters, none of / : \\ ~ & % ; @ " ? < > | # $ * { } , + = [ ], no `..`, not starting with `_`, not starting or ending with `.`, not a reserved name (CON, COM1…COM10, LPT1…LPT9, NUL, PRN, AUX, SERVER, SignalR, DefaultCollection, Web, bin, web.config, App_*)',
  });

export interface StartSyncInput {
  project: string;
  query: Record<string, string | undefined>;
  body: unknown;
  actor: Actor;
}

export interface StartSyncResult {
  sync_history_id: string;
  status: 'pending';
  events_url: string;
}

function invalid(error: z.ZodError, whole = 'body'): ValidationError {
  const details = error.issues.map((issue) => ({
    path: formatPath(issue.path) || whole,
    message: issue.message,
  }));
  const first = details[0];
  return new ValidationError(
    first ? `Invalid request: ${first.path}: ${first.message}` : 'Invalid request',
    details,
  );
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
 * Validates the request, resolves the configuration, writes the pending sync with its whole plan
 * (one statement, or one transaction for a plan too large for one request) and enqueues `prepare`.
 * Invalid input throws before anything is written.
 */
export async function startSync(input: StartSyncInput, deps: PipelineDeps): Promise<StartSyncResult> {
  const name = ProjectName.safeParse(input.project);
  if (!name.success) throw invalid(name.error, 'project');
  const project = name.data;
  const query = StartSyncQuery.safeParse(input.query);
  if (!query.success) throw invalid(query.error, 'query');
  const body = StartSyncBody.safeParse(input.body);
  if (!body.success) throw invalid(body.error);
  const plan = buildPlan(body.data);
  const configuration = await resolveConfiguration(deps, query.data.configId);

  const sync = await createSync(deps.db, {
    projectName: project,
    sourceConfigId: query.data.sourceConfigId,
    targetConfigId: configuration.id,
    overwriteMode: query.data.overwrite === 'true',
    deadlineAt: new Date(deps.clock.now().getTime() + deps.settings.deadlineMinutes * 60_000),
    options: {
      ...(body.data.fieldMappingConfigId ? { fieldMappingConfigId: body.data.fieldMappingConfigId } : {}),
      ...(body.data.processTemplateTemplateName
        ? { processTemplate: body.data.processTemplateTemplateName }
        : {}),
    },
    actor: input.actor,
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
