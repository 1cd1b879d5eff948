import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  getActiveConfiguration,
  getConfiguration,
  listConfigurations,
} from '#core/configurations/configuration-repository.ts';
import {
  type ConfigurationDeps,
  changeConfiguration,
  createConfiguration,
  makeActive,
  removeConfiguration,
  testConnection,
  toConfigurationView,
} from '#core/configurations/configuration-service.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { cancelSync } from '#core/pipeline/finalize.ts';
import { startSync } from '#core/pipeline/start-sync.ts';
import { getSync } from '#core/sync/sync-history-repository.ts';
import { actorFrom, errorResponse, json, ok, parseJsonBody } from './http.ts';

type Handler = (request: Request) => Promise<APIGatewayProxyResult>;
interface Request {
  event: APIGatewayProxyEvent;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
}
interface Route {
  method: string;
  /** `/api/sync-history/:id`: `:name` segments become params. */
  path: string;
  handler: Handler;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function syncId(params: Record<string, string>): string {
  const id = params.id ?? '';
  // A malformed id cannot name a sync: 404, like any unknown id.
  if (!UUID.test(id)) throw new NotFoundError(`Sync ${id} not found`);
  return id;
}

/** The routes of this slice of CONTRACT.md (§2, §5, §6). */
export function buildRoutes(deps: PipelineDeps): Route[] {
  const configDeps: ConfigurationDeps = {
    db: deps.db,
    secrets: deps.secrets,
    trackers: deps.trackers,
    now: () => deps.clock.now(),
  };
  const base = '/api/azure-devops';
  return [
    {
      method: 'GET',
      path: '/api/health',
      handler: async () => {
        await deps.db.query('SELECT 1');
        return ok({ status: 'ok', database: 'ok' });
      },
    },
    {
      method: 'POST',
      path: `${base}/projects/:project/workitems`,
      handler: async ({ event, params, query }) => {
        const result = await startSync(
          { project: params.project ?? '', query, body: parseJsonBody(event), actor: actorFrom(event) },
          deps,
        );
        return ok(result, 202);
      },
    },
    {
      method: 'GET',
      path: '/api/sync-history/:id',
      handler: async ({ params }) => ok((await getSync(deps.db, syncId(params))).view),
    },
    {
      method: 'POST',
      path: '/api/sync-history/:id/cancel',
      handler: async ({ event, params }) => ok(await cancelSync(syncId(params), actorFrom(event), deps)),
    },
    {
      method: 'POST',
      path: `${base}/configurations`,
      handler: async ({ event }) => {
        const { configuration, testResult } = await createConfiguration(
          parseJsonBody(event),
          actorFrom(event),
          configDeps,
        );
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
      handler: async () => {
        const all = (await listConfigurations(deps.db)).map(toConfigurationView);
        return ok(all, 200, { count: all.length });
      },
    },
    {
      method: 'GET',
      path: `${base}/configurations/active`,
      handler: async () => {
        const active = await getActiveConfiguration(deps.db);
        if (!active) throw new NotFoundError('No Azure DevOps configuration is active');
        return ok(toConfigurationView(active));
      },
    },
    {
      method: 'GET',
      path: `${base}/configurations/:id`,
      handler: async ({ params }) =>
        ok(toConfigurationView(await getConfiguration(deps.db, params.id ?? ''))),
    },
    {
      method: 'PUT',
      path: `${base}/configurations/:id`,
      handler: async ({ event, params }) =>
        ok(await changeConfiguration(params.id ?? '', parseJsonBody(event), actorFrom(event), configDeps)),
    },
    {
      method: 'DELETE',
      path: `${base}/configurations/:id`,
      handler: async ({ event, params }) =>
        ok(await removeConfiguration(params.id ?? '', actorFrom(event), configDeps)),
    },
    {
      method: 'POST',
      path: `${base}/configurations/:id/activate`,
      handler: async ({ event, params }) =>
        ok(await makeActive(params.id ?? '', actorFrom(event), configDeps)),
    },
    {
      method: 'GET',
      path: `${base}/test-connection`,
      handler: async ({ event, query }) => {
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
        const result = await testConnection(id, actorFrom(event), configDeps);
        // A failed test is an answer, not our fault: 200 with success false and the reason.
        return json(200, { ...result });
      },
    },
  ];
}

function match(route: Route, method: string, path: string): Record<string, string> | null {
  if (route.method !== method) return null;
  const want = route.path.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(':')) {
      if (!g) return null;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) return null;
  }
  return params;
}

/** The API Lambda's request handling: routing, validation errors, one error taxonomy. */
export function createApiApp(deps: PipelineDeps) {
  const routes = buildRoutes(deps);
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const path = (event.path || '/').replace(/\/+$/, '') || '/';
    const method = event.httpMethod.toUpperCase();
    try {
      for (const route of routes) {
        const params = match(route, method, path);
        if (params) {
          const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}));
          return await route.handler({ event, params, query });
        }
      }
      const known = routes.some((r) => match({ ...r, method }, method, path));
      if (known) return json(405, { success: false, error: `Method ${method} not allowed on ${path}` });
      throw new NotFoundError(`No route for ${method} ${path}`);
    } catch (error) {
      return errorResponse(error, deps.log, { method, path });
    }
  };
}
