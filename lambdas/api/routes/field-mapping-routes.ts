import * as z from 'zod';
import {
  FieldMappingConfigView,
  FieldMappingRow,
  FieldMappingTemplateView,
  MAX_MAPPINGS,
  Transform,
  toConfigView,
  toTemplateView,
} from '#core/domain/field-mapping.ts';
import { NotFoundError } from '#core/errors.ts';
import {
  catalogOf,
  changeMappingConfig,
  createMappingConfig,
  removeMappingConfig,
} from '#core/mapping/mapping-configs.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import { ErrorBody, ok, upstreamErrors } from '../schemas.ts';

/** A row as clients send it: `transform` (or the old backend's `transformFunction`); an `id` is ignored. */
const RowInput = FieldMappingRow.extend({
  id: z.string().max(255).optional(),
  transformFunction: Transform.optional().meta({ description: 'The old backend’s name for transform' }),
}).transform(({ id: _id, transformFunction, ...row }) => {
  const transform = row.transform ?? transformFunction;
  return { ...row, ...(transform ? { transform } : {}) };
});

const Rows = z.array(RowInput).max(MAX_MAPPINGS, `at most ${MAX_MAPPINGS} rows`);

/** `POST /api/field-mapping/configs` (WORKFLOW.md §6.4). */
export const CreateMappingConfigBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(255),
  description: z.string().max(2000).optional(),
  projectId: z.string().trim().min(1, 'must not be empty').max(255).meta({
    description: 'The Azure DevOps project: its GUID or its name (both find the configuration later)',
  }),
  projectName: z.string().trim().min(1).max(255).optional(),
  processTemplateName: z.string().trim().min(1).max(128).optional().meta({
    description: 'The process a project that does not exist yet will have (checks the rows against it)',
  }),
  isDefault: z.boolean().optional(),
  mappings: Rows,
});

/** `PUT /api/field-mapping/configs/{id}`: any of the fields; `mappings` replaces every row (id/projectId ignored). */
export const UpdateMappingConfigBody = CreateMappingConfigBody.omit({ projectId: true }).partial();

const IdParams = z.object({
  id: z.string().min(1).max(255).meta({ description: 'Mapping configuration id' }),
});
const ProjectQuery = z.object({
  projectId: z.string().trim().min(1, 'is required').max(255).meta({ description: 'Project GUID or name' }),
});
const AdoConfigQuery = {
  configId: z.string().min(1).max(255).optional().meta({
    description: 'Azure DevOps configuration id (default: the active one, which must have passed its test)',
  }),
};
const AzureDevOpsField = z.object({
  referenceName: z.string(),
  name: z.string(),
  type: z.string().optional(),
  workItemTypes: z.array(z.string()).optional(),
});
const WorkItemTypeInfo = z.object({
  name: z.string(),
  referenceName: z.string(),
  fields: z.array(AzureDevOpsField),
});

const upstream = upstreamErrors('Azure DevOps', 'PAT');

const apiRoute = route<ApiDeps>();
const base = '/api/field-mapping';
const tag = 'field-mapping';

/** Field mapping (WORKFLOW.md §6): templates, configurations per project, a project's types and fields. */
export const fieldMappingRoutes = [
  apiRoute({
    method: 'GET',
    path: `${base}/templates`,
    summary: 'The read-only mapping templates, one per process',
    tag,
    permission: 'user',
    query: z.object({
      processTemplateName: z.string().max(128).optional().meta({ description: 'One process only' }),
    }),
    answer: { status: 200, description: 'Templates', schema: ok(z.array(FieldMappingTemplateView)) },
    handler: async ({ query }, deps) => {
      const all = await deps.fieldMappings.templates();
      const name = query.processTemplateName;
      return {
        success: true as const,
        data: all.filter((t) => !name || t.processTemplateName === name).map(toTemplateView),
      };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configs`,
    summary:
      'The mapping configurations of a project (by its GUID or its name), the default first, then newest',
    tag,
    permission: 'user',
    query: ProjectQuery,
    answer: {
      status: 200,
      description: 'Configurations (an unknown project has none)',
      schema: ok(z.array(FieldMappingConfigView)),
    },
    handler: async ({ query }, deps) => ({
      success: true as const,
      data: (await deps.fieldMappings.configs(query.projectId)).map(toConfigView),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configs/:id`,
    summary: 'One mapping configuration',
    tag,
    permission: 'user',
    params: IdParams,
    answer: { status: 200, description: 'The configuration', schema: ok(FieldMappingConfigView) },
    handler: async ({ params }, deps) => ({
      success: true as const,
      data: toConfigView(await deps.fieldMappings.config(params.id)),
    }),
  }),
  apiRoute({
    method: 'POST',
    path: `${base}/configs`,
    summary:
      'Save a mapping configuration: every row is checked against the project’s work item types and fields (or its process’s, for a project that does not exist yet)',
    tag,
    permission: 'admin',
    body: CreateMappingConfigBody,
    answer: { status: 201, description: 'Created', schema: ok(FieldMappingConfigView) },
    responses: {
      ...upstream,
      409: { description: 'A configuration of that name exists for the project', schema: ErrorBody },
    },
    handler: async ({ body, actor }, deps) => ({
      success: true as const,
      data: await createMappingConfig(body, actor, deps),
    }),
  }),
  apiRoute({
    method: 'PUT',
    path: `${base}/configs/:id`,
    summary: 'Change a mapping configuration; mappings replace every row (checked as on create)',
    tag,
    permission: 'admin',
    params: IdParams,
    body: UpdateMappingConfigBody,
    answer: { status: 200, description: 'Updated', schema: ok(FieldMappingConfigView) },
    responses: {
      ...upstream,
      409: { description: 'A configuration of that name exists for the project', schema: ErrorBody },
    },
    handler: async ({ params, body, actor }, deps) => ({
      success: true as const,
      data: await changeMappingConfig(params.id, body, actor, deps),
    }),
  }),
  apiRoute({
    method: 'DELETE',
    path: `${base}/configs/:id`,
    summary: 'Delete a mapping configuration (syncs that used it keep their own copy)',
    tag,
    permission: 'admin',
    params: IdParams,
    answer: {
      status: 200,
      description: 'Deleted',
      schema: z.object({ success: z.literal(true), message: z.string() }),
    },
    handler: async ({ params, actor }, deps) => {
      const removed = await removeMappingConfig(params.id, actor, deps);
      return { success: true as const, message: `Mapping configuration "${removed.name}" deleted` };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/work-item-types`,
    summary:
      'A project’s enabled work item types with their writable fields (types included), read from Azure DevOps and cached a few minutes',
    tag,
    permission: 'user',
    query: ProjectQuery.extend(AdoConfigQuery),
    answer: { status: 200, description: 'Work item types', schema: ok(z.array(WorkItemTypeInfo)) },
    responses: upstream,
    handler: async ({ query }, deps) => {
      const catalog = await catalogOf(deps, query.configId, query.projectId);
      if (!catalog)
        throw new NotFoundError(`Azure DevOps project ${query.projectId} does not exist or is not visible`);
      return {
        success: true as const,
        data: catalog.types.map((t) => ({
          name: t.name,
          referenceName: t.referenceName,
          fields: t.fields.map((f) => ({
            referenceName: f.referenceName,
            name: f.name,
            ...(f.type ? { type: f.type } : {}),
            workItemTypes: [t.name],
          })),
        })),
      };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/fields`,
    summary: 'The writable fields of one work item type of a project',
    tag,
    permission: 'user',
    query: ProjectQuery.extend({
      workItemType: z
        .string()
        .trim()
        .min(1, 'is required')
        .max(128)
        .meta({ description: 'The type’s name, e.g. User Story' }),
      ...AdoConfigQuery,
    }),
    answer: { status: 200, description: 'Fields', schema: ok(z.array(AzureDevOpsField)) },
    responses: upstream,
    handler: async ({ query }, deps) => {
      const catalog = await catalogOf(deps, query.configId, query.projectId);
      if (!catalog)
        throw new NotFoundError(`Azure DevOps project ${query.projectId} does not exist or is not visible`);
      const type = catalog.types.find((t) => t.name.toLowerCase() === query.workItemType.toLowerCase());
      if (!type)
        throw new NotFoundError(`Project ${query.projectId} has no work item type ${query.workItemType}`);
      return {
        success: true as const,
        data: type.fields.map((f) => ({
          referenceName: f.referenceName,
          name: f.name,
          ...(f.type ? { type: f.type } : {}),
          workItemTypes: [type.name],
        })),
      };
    },
  }),
];
