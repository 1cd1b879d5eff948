import * as z from 'zod';
import {
  type ConfigurationDeps,
  ConfigurationView,
  CreateConfigurationBody,
  changeConfiguration,
  createConfiguration,
  makeActive,
  removeConfiguration,
  testConnection,
  toConfigurationView,
  UpdateConfigurationBody,
} from '#core/configurations/configuration-service.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { getActiveConfiguration, getConfiguration, listConfigurations } from '#store/configuration-store.ts';
import { json, ok as okBody, parseJsonBody } from '../http.ts';
import type { RouteDef } from '../router.ts';
import { errors, ok } from '../schemas.ts';

const IdParams = z.object({ id: z.string().min(1).max(255) });
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

/** Azure DevOps configurations (CONTRACT.md §6): the PAT goes in, never out. */
export function configurationRoutes(deps: PipelineDeps): RouteDef[] {
  const c: ConfigurationDeps = {
    db: deps.db,
    secrets: deps.secrets,
    trackers: deps.trackers,
    now: () => deps.clock.now(),
  };
  const base = '/api/azure-devops';
  const tag = 'configurations';
  return [
    {
      method: 'POST',
      path: `${base}/configurations`,
      summary: 'Create a configuration (the PAT goes to the secret store) and test its connection',
      tag,
      body: CreateConfigurationBody,
      responses: {
        201: {
          description: 'Created',
          schema: z.object({
            success: z.literal(true),
            message: z.string(),
            data: z.object({ configuration: ConfigurationView, testResult: TestResult }),
          }),
        },
        ...errors,
      },
      handler: async ({ event, actor }) => {
        const { configuration, testResult } = await createConfiguration(parseJsonBody(event), actor, c);
        return json(201, {
          success: true,
          message: testResult.success
            ? 'Configuration created'
            : 'Configuration created, but the connection test failed',
          data: { configuration, testResult },
        });
      },
    },
    {
      method: 'GET',
      path: `${base}/configurations`,
      summary: 'All configurations',
      tag,
      responses: {
        200: {
          description: 'Configurations',
          schema: z.object({
            success: z.literal(true),
            data: z.array(ConfigurationView),
            count: z.number().int(),
          }),
        },
        ...errors,
      },
      handler: async () => {
        const all = (await listConfigurations(deps.db)).map(toConfigurationView);
        return okBody(all, 200, { count: all.length });
      },
    },
    {
      method: 'GET',
      path: `${base}/configurations/active`,
      summary: 'The active configuration',
      tag,
      responses: { 200: { description: 'Active configuration', schema: ok(ConfigurationView) }, ...errors },
      handler: async () => {
        const active = await getActiveConfiguration(deps.db);
        if (!active) throw new NotFoundError('No Azure DevOps configuration is active');
        return okBody(toConfigurationView(active));
      },
    },
    {
      method: 'GET',
      path: `${base}/configurations/:id`,
      summary: 'One configuration',
      tag,
      params: IdParams,
      responses: { 200: { description: 'Configuration', schema: ok(ConfigurationView) }, ...errors },
      handler: async ({ params }) =>
        okBody(toConfigurationView(await getConfiguration(deps.db, params.id ?? ''))),
    },
    {
      method: 'PUT',
      path: `${base}/configurations/:id`,
      summary:
        'Change name, organization or PAT (a new PAT or organization resets the test result; a new organization needs its PAT in the same request)',
      tag,
      params: IdParams,
      body: UpdateConfigurationBody,
      responses: { 200: { description: 'Updated', schema: ok(ConfigurationView) }, ...errors },
      handler: async ({ event, params, actor }) =>
        okBody(await changeConfiguration(params.id ?? '', parseJsonBody(event), actor, c)),
    },
    {
      method: 'DELETE',
      path: `${base}/configurations/:id`,
      summary: 'Delete a configuration and its secret',
      tag,
      params: IdParams,
      responses: { 200: { description: 'Deleted', schema: ok(ConfigurationView) }, ...errors },
      handler: async ({ params, actor }) => okBody(await removeConfiguration(params.id ?? '', actor, c)),
    },
    {
      method: 'POST',
      path: `${base}/configurations/:id/activate`,
      summary: 'Make a tested configuration the active one (400 unless its test passed)',
      tag,
      params: IdParams,
      responses: { 200: { description: 'Activated', schema: ok(ConfigurationView) }, ...errors },
      handler: async ({ params, actor }) => okBody(await makeActive(params.id ?? '', actor, c)),
    },
    {
      method: 'GET',
      path: `${base}/test-connection`,
      summary:
        'Test a configuration’s connection (the active one by default); a failed test is 200 with success false',
      tag,
      query: z.object({ configId: z.string().optional() }),
      responses: { 200: { description: 'Test result', schema: ConnectionTest }, ...errors },
      handler: async ({ query, actor }) => {
        let id = query.configId;
        if (!id) {
          const active = await getActiveConfiguration(deps.db);
          if (!active) {
            throw new ValidationError('configId is required when no configuration is active', [
              { path: 'configId', message: 'required' },
            ]);
          }
          id = active.id;
        }
        return json(200, { ...(await testConnection(id, actor, c)) });
      },
    },
  ];
}
