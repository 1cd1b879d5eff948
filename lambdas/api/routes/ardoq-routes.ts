import * as z from 'zod';
import {
  getHierarchy,
  getWorkspace,
  getWorkspaceContext,
  listComponents,
  listDomains,
  listInitiatives,
  listWorkspaces,
} from '#core/ardoq/browse.ts';
import {
  activateArdoqConfiguration,
  changeArdoqConfiguration,
  createArdoqConfiguration,
  removeArdoqConfiguration,
  testArdoqConnection,
} from '#core/configurations/ardoq-configurations.ts';
import { ArdoqConfigurationView, toConfigurationView } from '#core/domain/configuration.ts';
import { NotFoundError } from '#core/errors.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import { ErrorBody, ok, upstreamErrors } from '../schemas.ts';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

/** `POST /api/ardoq/configurations` (WORKFLOW.md §3.3). */
export const CreateArdoqConfigurationBody = z.object({
  name: text(255),
  apiToken: text(4096).meta({
    description: 'The Ardoq API token: stored in the secret store, never returned',
  }),
  apiHost: z.string().trim().max(1000).optional().meta({
    description:
      'Default https://app.ardoq.com; any https://*.ardoq.com; other origins only when ARDOQ_ALLOWED_ORIGINS lists them. A new host needs a new apiToken',
  }),
  orgLabel: z
    .string()
    .trim()
    .max(255)
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ., _ and - only')
    .optional()
    .meta({ description: 'Sent as X-org (required by app.ardoq.com)' }),
  setActive: z.boolean().optional(),
});

/** `PUT /api/ardoq/configurations/{id}`: all optional; `isActive` activates or deactivates. */
export const UpdateArdoqConfigurationBody = CreateArdoqConfigurationBody.omit({ setActive: true })
  .partial()
  .extend({
    isActive: z.boolean().optional().meta({
      description:
        'true activates (only a configuration whose connection test passed); false deactivates, leaving no active Ardoq configuration',
    }),
  });

/** An Ardoq object id in a path: never more than that reaches an Ardoq URL (and it is encoded). */
const ardoqId = (description: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be an Ardoq id (letters, digits, _ and -)')
    .meta({ description });

const IdParams = z.object({ id: z.string().min(1).max(255).meta({ description: 'Configuration id' }) });
const ConfigQuery = z.object({
  configId: z.string().min(1).max(255).optional().meta({
    description: 'Ardoq configuration id (default: the active one, which must have passed its test)',
  }),
});
const WorkspaceParams = z.object({ workspaceId: ardoqId('Ardoq workspace id') });

const Identity = {
  user: z.object({ name: z.string().optional(), email: z.string().optional() }).optional(),
  organization: z.object({ name: z.string().optional(), label: z.string().optional() }).optional(),
};
const TestResult = z.object({
  success: z.boolean(),
  error: z.string().optional(),
  timestamp: z.iso.datetime(),
  ...Identity,
});
const RawObject = z.looseObject({}).meta({ description: 'As Ardoq returns it (every key kept)' });
const RawComponent = z
  .looseObject({ _id: z.string() })
  .meta({ description: 'An Ardoq component as Ardoq returns it' });
const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), count: z.number().int() });

const upstream = upstreamErrors('Ardoq', 'token');

const apiRoute = route<ApiDeps>();
const base = '/api/ardoq';
const tag = 'ardoq';

/** Ardoq configurations (WORKFLOW.md §3): the token goes in, never out. Writes need an admin. */
const configurationRoutes = [
  apiRoute({
    method: 'POST',
    path: `${base}/configurations`,
    summary:
      'Create an Ardoq configuration: tests the token (GET /api/v2/me), then stores it whatever the outcome',
    tag,
    permission: 'admin',
    body: CreateArdoqConfigurationBody,
    answer: {
      status: 201,
      description: 'Created (see data.configuration.testPassed)',
      schema: z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.object({ configuration: ArdoqConfigurationView, testResult: TestResult }),
      }),
    },
    responses: { 409: { description: 'A configuration of that name exists', schema: ErrorBody } },
    handler: async ({ body, actor }, deps) => {
      const { configuration, testResult, message } = await createArdoqConfiguration(body, actor, deps);
      return { success: true as const, message, data: { configuration, testResult } };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configurations`,
    summary: 'All Ardoq configurations, newest first',
    tag,
    permission: 'user',
    answer: { status: 200, description: 'Configurations', schema: listOf(ArdoqConfigurationView) },
    handler: async (_input, deps) => {
      const data = (await deps.ardoqConfigurations.list()).map(toConfigurationView);
      return { success: true as const, data, count: data.length };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configurations/active`,
    summary: 'The active Ardoq configuration (404 when none)',
    tag,
    permission: 'user',
    answer: { status: 200, description: 'The active configuration', schema: ok(ArdoqConfigurationView) },
    handler: async (_input, deps) => {
      const active = await deps.ardoqConfigurations.active();
      if (!active) throw new NotFoundError('No Ardoq configuration is active');
      return { success: true as const, data: toConfigurationView(active) };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configurations/:id`,
    summary: 'One Ardoq configuration',
    tag,
    permission: 'user',
    params: IdParams,
    answer: { status: 200, description: 'The configuration', schema: ok(ArdoqConfigurationView) },
    handler: async ({ params }, deps) => ({
      success: true as const,
      data: toConfigurationView(await deps.ardoqConfigurations.get(params.id)),
    }),
  }),
  apiRoute({
    method: 'PUT',
    path: `${base}/configurations/:id`,
    summary:
      'Change an Ardoq configuration. A new token or host resets its test; isActive:false deactivates it (the message says so)',
    tag,
    permission: 'admin',
    params: IdParams,
    body: UpdateArdoqConfigurationBody,
    answer: {
      status: 200,
      description: 'Updated',
      schema: z.object({ success: z.literal(true), message: z.string(), data: ArdoqConfigurationView }),
    },
    responses: { 409: { description: 'A configuration of that name exists', schema: ErrorBody } },
    handler: async ({ params, body, actor }, deps) => {
      const { configuration, message } = await changeArdoqConfiguration(params.id, body, actor, deps);
      return { success: true as const, message, data: configuration };
    },
  }),
  apiRoute({
    method: 'DELETE',
    path: `${base}/configurations/:id`,
    summary: 'Delete an Ardoq configuration and its token',
    tag,
    permission: 'admin',
    params: IdParams,
    answer: {
      status: 200,
      description: 'Deleted',
      schema: z.object({ success: z.literal(true), message: z.string(), data: ArdoqConfigurationView }),
    },
    handler: async ({ params, actor }, deps) => ({
      success: true as const,
      message: 'Configuration deleted',
      data: await removeArdoqConfiguration(params.id, actor, deps),
    }),
  }),
  apiRoute({
    method: 'POST',
    path: `${base}/configurations/:id/activate`,
    summary: 'Make an Ardoq configuration the active one (only one whose connection test passed)',
    tag,
    permission: 'admin',
    params: IdParams,
    answer: {
      status: 200,
      description: 'Activated',
      schema: z.object({ success: z.literal(true), message: z.string(), data: ArdoqConfigurationView }),
    },
    handler: async ({ params, actor }, deps) => ({
      success: true as const,
      message: 'Configuration activated',
      data: await activateArdoqConfiguration(params.id, actor, deps),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/test-connection`,
    summary:
      'Test an Ardoq configuration (the active one by default) and store the result: a failed test is 200 with configuration.testPassed false',
    tag,
    permission: 'user',
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Test result',
      schema: z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.object({ timestamp: z.iso.datetime(), ...Identity }),
        configuration: ArdoqConfigurationView,
      }),
    },
    handler: async ({ query, actor }, deps) => ({
      success: true as const,
      ...(await testArdoqConnection(query.configId, actor, deps)),
    }),
  }),
];

/** Browsing (WORKFLOW.md §4): read only, every page of Ardoq's lists followed. */
const browseRoutes = [
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces`,
    summary: 'Every Ardoq workspace (all pages)',
    tag,
    permission: 'user',
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Workspaces, as Ardoq returns them',
      schema: ok(z.object({ values: z.array(RawComponent), _meta: z.object({ count: z.number().int() }) })),
    },
    responses: upstream,
    handler: async ({ query }, deps) => ({
      success: true as const,
      data: await listWorkspaces(deps, query.configId),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces/:workspaceId`,
    summary: 'One Ardoq workspace, as Ardoq returns it',
    tag,
    permission: 'user',
    params: WorkspaceParams,
    query: ConfigQuery,
    answer: { status: 200, description: 'The workspace', schema: ok(RawObject) },
    responses: upstream,
    handler: async ({ params, query }, deps) => ({
      success: true as const,
      data: await getWorkspace(deps, query.configId, params.workspaceId),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces/:workspaceId/context`,
    summary: 'An Ardoq workspace’s metamodel (component and reference types, fields)',
    tag,
    permission: 'user',
    params: WorkspaceParams,
    query: ConfigQuery,
    answer: { status: 200, description: 'The context', schema: ok(RawObject) },
    responses: upstream,
    handler: async ({ params, query }, deps) => ({
      success: true as const,
      data: await getWorkspaceContext(deps, query.configId, params.workspaceId),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces/:workspaceId/components`,
    summary:
      'The raw components of a workspace (all pages), at most 5,000 per answer (truncated says whether more exist)',
    tag,
    permission: 'user',
    params: WorkspaceParams,
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Components, as Ardoq returns them',
      schema: z.object({
        success: z.literal(true),
        data: z.array(RawComponent),
        count: z.number().int(),
        truncated: z.boolean(),
      }),
    },
    responses: upstream,
    handler: async ({ params, query }, deps) => {
      const { values, truncated } = await listComponents(deps, query.configId, params.workspaceId);
      return { success: true as const, data: values, count: values.length, truncated };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces/:workspaceId/domains`,
    summary: 'The domains of a workspace (every Domain component, nested ones too)',
    tag,
    permission: 'user',
    params: WorkspaceParams,
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Domains',
      schema: listOf(z.object({ id: z.string(), name: z.string(), type: z.literal('Domain') })),
    },
    responses: upstream,
    handler: async ({ params, query }, deps) => {
      const data = await listDomains(deps, query.configId, params.workspaceId);
      return { success: true as const, data, count: data.length };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces/:workspaceId/domains/:domainId/initiatives`,
    summary: 'The initiatives directly under a domain',
    tag,
    permission: 'user',
    params: WorkspaceParams.extend({ domainId: ardoqId('Ardoq id of the domain') }),
    query: ConfigQuery,
    answer: {
      status: 200,
      description: 'Initiatives',
      schema: listOf(
        z.object({ id: z.string(), name: z.string(), type: z.literal('Initiative'), parent: z.string() }),
      ),
    },
    responses: upstream,
    handler: async ({ params, query }, deps) => {
      const data = await listInitiatives(deps, query.configId, params.workspaceId, params.domainId);
      return { success: true as const, data, count: data.length };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/workspaces/:workspaceId/initiatives/:initiativeId/hierarchy`,
    summary:
      'An initiative with its epics → features → user stories, every Ardoq key kept; misplaced components are skipped and listed in _skipped',
    tag,
    permission: 'user',
    params: WorkspaceParams.extend({ initiativeId: ardoqId('Ardoq id of the initiative') }),
    query: ConfigQuery,
    answer: {
      status: 200,
      description:
        'The initiative component with children (epics, each with children features, each with children user stories); siblings ordered by customFields.capability_map_order_level_0, then name',
      schema: ok(
        z.looseObject({
          _id: z.string(),
          children: z.array(RawComponent),
          _skipped: z
            .array(z.object({ id: z.string(), name: z.string(), type: z.string(), reason: z.string() }))
            .optional(),
        }),
      ),
    },
    responses: upstream,
    handler: async ({ params, query }, deps) => ({
      success: true as const,
      data: await getHierarchy(deps, query.configId, params.workspaceId, params.initiativeId),
    }),
  }),
];

export const ardoqRoutes = [...configurationRoutes, ...browseRoutes];
