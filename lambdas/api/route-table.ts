import * as z from 'zod';
import { UnavailableError } from '#core/errors.ts';
import type { ApiDeps, StreamDeps } from './deps.ts';
import { buildOpenApi } from './openapi.ts';
import { type RouteDef, route } from './route.ts';
import { ardoqRoutes } from './routes/ardoq-routes.ts';
import { configurationRoutes } from './routes/configuration-routes.ts';
import { fieldMappingRoutes } from './routes/field-mapping-routes.ts';
import { historyRoutes } from './routes/history-routes.ts';
import { projectRoutes } from './routes/project-routes.ts';
import { streamRoutes, syncRoutes } from './routes/sync-routes.ts';
import { ErrorBody, ok } from './schemas.ts';

export const API_VERSION = '1.0.0';

const streamRoute = route<StreamDeps>();

/** Liveness and database reachability: the one public route besides the document. */
const health = streamRoute({
  method: 'GET',
  path: '/api/health',
  summary: 'Liveness and database reachability',
  tag: 'system',
  permission: 'public',
  answer: {
    status: 200,
    description: 'Healthy',
    schema: ok(z.object({ status: z.literal('ok'), database: z.literal('ok') })),
  },
  responses: {
    503: {
      description: 'The database is unreachable (Retry-After says when to ask again)',
      schema: ErrorBody,
    },
  },
  handler: async (_input, deps) => {
    try {
      await deps.syncs.ping();
    } catch {
      throw new UnavailableError('Database unreachable');
    }
    return { success: true as const, data: { status: 'ok' as const, database: 'ok' as const } };
  },
});

let document: Record<string, unknown> | undefined;

/** The OpenAPI document of every route, itself included; like every route but health, it needs a caller. */
const openApi = route<ApiDeps>()({
  method: 'GET',
  path: '/api/openapi.json',
  summary: 'This document (OpenAPI 3.1)',
  tag: 'system',
  permission: 'user',
  answer: { status: 200, description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) },
  handler: async () => {
    document ??= buildOpenApi(ROUTES, API_VERSION);
    return document;
  },
});

/**
 * Every route, once (CONTRACT.md): the router validates against it, the OpenAPI document and the CDK
 * REST API (lib/constructs/sync-api.ts) are generated from it. Static paths before `/:id`.
 */
export const ROUTES: readonly RouteDef<ApiDeps>[] = [
  ...historyRoutes,
  ...syncRoutes,
  ...streamRoutes,
  ...configurationRoutes,
  ...projectRoutes,
  ...ardoqRoutes,
  ...fieldMappingRoutes,
  health,
  openApi,
];

/** The routes the response-streaming function serves in AWS (the others go to the buffered one). */
export const STREAM_ROUTES: readonly RouteDef<StreamDeps>[] = [...streamRoutes, health];
