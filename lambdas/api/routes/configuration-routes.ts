import * as z from 'zod';
import {
  changeConfiguration,
  createConfiguration,
  makeActive,
  removeConfiguration,
  testConnection,
} from '#core/configurations/configuration-service.ts';
import { parseOrganization } from '#core/domain/ado-organization.ts';
import { ConfigurationView, toConfigurationView } from '#core/domain/configuration.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import { ok } from '../schemas.ts';

const organization = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(1000)
  .superRefine((value, ctx) => {
    const shape = parseOrganization(value);
    if (!shape.ok) ctx.addIssue({ code: 'custom', message: shape.problem });
  })
  .meta({
    description:
      'An Azure DevOps organization name, https://dev.azure.com/{organization}, https://{organization}.visualstudio.com, or a base URL on an origin listed in ADO_ALLOWED_ORIGINS',
  });

/** `POST /configurations` (CONTRACT.md §6). */
export const CreateConfigurationBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(255),
  organization,
  patToken: z.string().trim().min(1, 'must not be empty').max(1000),
  setActive: z.boolean().optional(),
});
/** `PUT /configurations/{id}`: a new organization needs its PAT in the same request. */
export const UpdateConfigurationBody = CreateConfigurationBody.partial().omit({ setActive: true });

const IdParams = z.object({ id: z.string().min(1).max(255).meta({ description: 'Configuration id' }) });
const TestResult = z.object({
  success: z.boolean(),
  message: z.string(),
  projectCount: z.number().int().optional(),
});
const ConnectionTest = z.object({
  success: z.boolean(),
  message: z.string(),
  data: z.object({
    projects: z.array(z.string()),
    projectCount: z.number().int(),
    timestamp: z.iso.datetime(),
  }),
  configuration: ConfigurationView,
});

const apiRoute = route<ApiDeps>();
const base = '/api/azure-devops';
const tag = 'configurations';

/** Azure DevOps configurations (CONTRACT.md §6): the PAT goes in, never out. Writes need an admin. */
export const configurationRoutes = [
  apiRoute({
    method: 'POST',
    path: `${base}/configurations`,
    summary: 'Create a configuration (the PAT goes to the secret store) and test its connection',
    tag,
    permission: 'admin',
    body: CreateConfigurationBody,
    answer: {
      status: 201,
      description: 'Created',
      schema: z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.object({ configuration: ConfigurationView, testResult: TestResult }),
      }),
    },
    handler: async ({ body, actor }, deps) => {
      const { configuration, testResult } = await createConfiguration(body, actor, deps);
      return {
        success: true as const,
        message: testResult.success
          ? 'Configuration created'
          : 'Configuration created, but the connection test failed',
        data: { configuration, testResult },
      };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configurations`,
    summary: 'All configurations',
    tag,
    permission: 'user',
    answer: {
      status: 200,
      description: 'Configurations',
      schema: z.object({
        success: z.literal(true),
        data: z.array(ConfigurationView),
        count: z.number().int(),
      }),
    },
    handler: async (_input, deps) => {
      const all = (await deps.configurations.list()).map(toConfigurationView);
      return { success: true as const, data: all, count: all.length };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configurations/active`,
    summary: 'The active configuration',
    tag,
    permission: 'user',
    answer: { status: 200, description: 'Active configuration', schema: ok(ConfigurationView) },
    handler: async (_input, deps) => {
      const active = await deps.configurations.active();
      if (!active) throw new NotFoundError('No Azure DevOps configuration is active');
      return { success: true as const, data: toConfigurationView(active) };
    },
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/configurations/:id`,
    summary: 'One configuration',
    tag,
    permission: 'user',
    params: IdParams,
    answer: { status: 200, description: 'Configuration', schema: ok(ConfigurationView) },
    handler: async ({ params }, deps) => ({
      success: true as const,
      data: toConfigurationView(await deps.configurations.get(params.id)),
    }),
  }),
  apiRoute({
    method: 'PUT',
    path: `${base}/configurations/:id`,
    summary:
      'Change name, organization or PAT (a new PAT or organization resets the test result; a new organization needs its PAT in the same request)',
    tag,
    permission: 'admin',
    params: IdParams,
    body: UpdateConfigurationBody,
    answer: { status: 200, description: 'Updated', schema: ok(ConfigurationView) },
    handler: async ({ params, body, actor }, deps) => ({
      success: true as const,
      data: await changeConfiguration(params.id, body, actor, deps),
    }),
  }),
  apiRoute({
    method: 'DELETE',
    path: `${base}/configurations/:id`,
    summary: 'Delete a configuration and its secret',
    tag,
    permission: 'admin',
    params: IdParams,
    answer: { status: 200, description: 'Deleted', schema: ok(ConfigurationView) },
    handler: async ({ params, actor }, deps) => ({
      success: true as const,
      data: await removeConfiguration(params.id, actor, deps),
    }),
  }),
  apiRoute({
    method: 'POST',
    path: `${base}/configurations/:id/activate`,
    summary: 'Make a tested configuration the active one (400 unless its test passed)',
    tag,
    permission: 'admin',
    params: IdParams,
    answer: { status: 200, description: 'Activated', schema: ok(ConfigurationView) },
    handler: async ({ params, actor }, deps) => ({
      success: true as const,
      data: await makeActive(params.id, actor, deps),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: `${base}/test-connection`,
    summary:
      'Test a configuration’s connection (the active one by default); a failed test is 200 with success false',
    tag,
    permission: 'user',
    query: z.object({
      configId: z
        .string()
        .max(255)
        .optional()
        .meta({ description: 'Configuration id (default: the active configuration)' }),
    }),
    answer: { status: 200, description: 'Test result', schema: ConnectionTest },
    handler: async ({ query, actor }, deps) => {
      let id = query.configId;
      if (!id) {
        const active = await deps.configurations.active();
        if (!active) {
          throw new ValidationError('configId is required when no configuration is active', [
            { path: 'configId', message: 'required' },
          ]);
        }
        id = active.id;
      }
      return testConnection(id, actor, deps);
    },
  }),
];
