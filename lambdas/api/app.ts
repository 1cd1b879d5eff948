import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { json, ok as okBody } from './http.ts';
import { buildOpenApi } from './openapi.ts';
import { type ApiResult, createRouter, type RouteDef, type RouterConfig } from './router.ts';
import { configurationRoutes } from './routes/configuration-routes.ts';
import { historyRoutes } from './routes/history-routes.ts';
import { syncRoutes } from './routes/sync-routes.ts';
import { ok } from './schemas.ts';
import type { TailOptions } from './sse.ts';

export const API_VERSION = '1.0.0';

export interface ApiOptions extends RouterConfig {
  /** SSE tailing (tests shorten the poll interval and heartbeat). */
  tail?: TailOptions;
}

/** Every route of CONTRACT.md, public ones last. */
export function buildRoutes(deps: PipelineDeps, options: ApiOptions): RouteDef[] {
  const routes: RouteDef[] = [
    ...historyRoutes(deps),
    ...syncRoutes(deps, options.tail),
    ...configurationRoutes(deps),
    {
      method: 'GET',
      path: '/api/health',
      summary: 'Liveness and database reachability',
      tag: 'system',
      auth: false,
      responses: {
        200: {
          description: 'Healthy',
          schema: ok(z.object({ status: z.literal('ok'), database: z.literal('ok') })),
        },
        503: { description: 'The database is unreachable' },
      },
      handler: async () => {
        try {
          await deps.db.query('SELECT 1');
          return okBody({ status: 'ok', database: 'ok' });
        } catch {
          return json(503, { success: false, error: 'Database unreachable' });
        }
      },
    },
  ];
  // The document describes every route, itself included; like every route but health, it needs a caller.
  let document: Record<string, unknown> = {};
  routes.push({
    method: 'GET',
    path: '/api/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    tag: 'system',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handler: async () => json(200, document),
  });
  document = buildOpenApi(routes, API_VERSION);
  return routes;
}

/** The API's request handling: routing, authentication, CORS, validation errors, one error taxonomy. */
export function createApiApp(
  deps: PipelineDeps,
  options: ApiOptions,
): (event: APIGatewayProxyEvent) => Promise<ApiResult> {
  return createRouter(buildRoutes(deps, options), options, deps.log);
}
