import * as z from 'zod';
import { ProjectName } from '#core/domain/sync-request.ts';
import { createProject, listProcesses, listProjects } from '#core/projects/projects.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import { ErrorBody, upstreamErrors } from '../schemas.ts';

const ConfigQuery = z.object({
  configId: z.string().min(1).max(255).optional().meta({
    description: 'Azure DevOps configuration id (default: the active one, which must have passed its test)',
  }),
});

/** `POST /api/azure-devops/projects` (WORKFLOW.md §5.2): what the frontend's Create tab sends. */
export const CreateProjectBody = z.object({
  name: ProjectName,
  description: z.string().max(15_000).optional(),
  visibility: z.enum(['private', 'public']).optional().meta({ description: 'Default private' }),
  capabilities: z
    .object({
      processTemplate: z
        .object({ templateTypeId: z.uuid().meta({ description: 'A process typeId from GET /processes' }) })
        .optional(),
      versioncontrol: z.object({ sourceControlType: z.enum(['Git', 'Tfvc']) }).optional(),
    })
    .optional()
    .meta({ description: 'Default: the Agile process and Git' }),
});

const Project = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().optional(),
    url: z.string().optional(),
    state: z.string().optional(),
    revision: z.number().int().optional(),
    visibility: z.string().optional(),
    lastUpdateTime: z.string().optional(),
  })
  .meta({ description: 'As Azure DevOps lists it (TeamProjectReference)' });

const ProcessTemplate = z.object({
  typeId: z.string(),
  name: z.string(),
  description: z.string(),
  isDefault: z.boolean(),
  isEnabled: z.boolean(),
  parentProcessTypeId: z
    .string()
    .optional()
    .meta({ description: 'For an inherited process: its system parent' }),
});

const upstream = upstreamErrors('Azure DevOps', 'PAT');

const apiRoute = route<ApiDeps>();
const base = '/api/azure-devops';
const tag = 'projects';

/** Azure DevOps projects and processes (WORKFLOW.md §5). */
export const projectRoutes = [
  apiRoute({
    method: 'GET',
    path: `${base}/projects`,
    summary: 'Every project of the organization (all pages)',
    tag,
    permission: 'user',
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Projects',
      schema: z.object({ success: z.literal(true), data: z.array(Project), count: z.number().int() }),
    },
    responses: upstream,
    handler: async ({ query }, deps) => {
      const data = await listProjects(deps, query.configId);
      return { success: true as const, data, count: data.length };
    },
  }),
  apiRoute({
    method: 'POST',
    path: `${base}/projects`,
    summary:
      'Create a project. Azure DevOps creates it asynchronously: the answer waits up to 10 s (status succeeded), else it is still queued or inProgress, and a sync started on it meanwhile waits for it (up to 2 minutes)',
    tag,
    permission: 'user',
    query: ConfigQuery,
    body: CreateProjectBody,
    answer: {
      status: 202,
      description: 'Creation queued or done (data is the Azure DevOps operation)',
      schema: z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.object({
          id: z.string(),
          status: z.enum(['notSet', 'queued', 'inProgress', 'cancelled', 'succeeded', 'failed']),
          url: z.string().optional(),
        }),
      }),
    },
    responses: {
      ...upstream,
      409: {
        description: 'A project of that name exists, or the configuration has not passed its connection test',
        schema: ErrorBody,
      },
    },
    handler: async ({ query, body }, deps) => {
      const { operation, created } = await createProject(deps, query.configId, {
        name: body.name,
        ...(body.description ? { description: body.description } : {}),
        ...(body.visibility ? { visibility: body.visibility } : {}),
        ...(body.capabilities?.processTemplate
          ? { processTypeId: body.capabilities.processTemplate.templateTypeId }
          : {}),
        ...(body.capabilities?.versioncontrol
          ? { sourceControl: body.capabilities.versioncontrol.sourceControlType }
          : {}),
      });
      return {
        success: true as const,
        message: created ? 'Project created' : 'Project creation queued: Azure DevOps is still creating it',
        data: operation,
      };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/processes`,
    summary: 'The processes a project can be created with (disabled ones left out)',
    tag,
    permission: 'user',
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Processes',
      schema: z.object({ success: z.literal(true), data: z.array(ProcessTemplate), count: z.number().int() }),
    },
    responses: upstream,
    handler: async ({ query }, deps) => {
      const data = await listProcesses(deps, query.configId);
      return { success: true as const, data, count: data.length };
    },
  }),
];
