import { timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { NotFoundError } from '#core/errors.ts';
import type { Log } from '#core/pipeline/deps.ts';
import type { Actor } from '#core/sync/sync-model.ts';
import { corsHeaders, preflightHeaders } from './cors.ts';
import { actorFrom, errorResponse, json } from './http.ts';
import type { StreamResult } from './sse.ts';

export type ApiResult = APIGatewayProxyResult | StreamResult;

export interface ApiRequest {
  event: APIGatewayProxyEvent;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  actor: Actor;
  header(name: string): string | undefined;
}

/** One route: what it accepts and answers (for the OpenAPI document) and how. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/api/sync-history/:id`: `:name` segments become params. */
  path: string;
  summary: string;
  tag: string;
  /** false only for `/api/health` (and the OpenAPI document). */
  auth?: boolean;
  params?: z.ZodObject;
  /** The query schema (a transform over an object is fine: its input object is documented). */
  query?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handler(request: ApiRequest): Promise<ApiResult>;
}

/** Who may call: nobody checked (local default), a bearer token (LOCAL_AUTH_TOKEN), or API Gateway's authorizer. */
export type AuthConfig =
  | { mode: 'none' }
  | { mode: 'token'; token: string; userId: string }
  | { mode: 'authorizer' };

export interface RouterConfig {
  auth: AuthConfig;
  corsOrigins: string[];
}

function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
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

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The caller, or null when authentication is required and missing. */
function authenticate(event: APIGatewayProxyEvent, auth: AuthConfig): Actor | null {
  const actor = actorFrom(event);
  const { userId: _claimed, ...context } = actor;
  switch (auth.mode) {
    case 'none':
      return context;
    case 'token': {
      const header = event.headers?.authorization ?? event.headers?.Authorization ?? '';
      const match = /^Bearer (.+)$/i.exec(header);
      return match?.[1] && sameSecret(match[1], auth.token) ? { ...context, userId: auth.userId } : null;
    }
    case 'authorizer':
      return actor.userId ? actor : null;
  }
}

/**
 * Routes a REST API (v1) proxy event: CORS preflight without authentication, authentication for
 * every route but the public ones, path params, one error taxonomy, CORS headers on every answer.
 */
export function createRouter(routes: readonly RouteDef[], config: RouterConfig, log: Log) {
  return async (event: APIGatewayProxyEvent): Promise<ApiResult> => {
    const path = (event.path || '/').replace(/\/+$/, '') || '/';
    const method = event.httpMethod.toUpperCase();
    const origin = event.headers?.origin ?? event.headers?.Origin;
    const cors = corsHeaders(origin, config.corsOrigins);
    const withCors = (result: ApiResult): ApiResult =>
      'kind' in result
        ? { ...result, headers: { ...result.headers, ...cors } }
        : { ...result, headers: { ...result.headers, ...cors } };
    if (method === 'OPTIONS') {
      return { statusCode: 204, headers: preflightHeaders(origin, config.corsOrigins), body: '' };
    }
    try {
      const matched = routes
        .map((route) => ({ route, params: matchPath(route.path, path) }))
        .filter((m): m is { route: RouteDef; params: Record<string, string> } => m.params !== null);
      const hit = matched.find((m) => m.route.method === method);
      if (!hit) {
        if (matched.length > 0)
          return withCors(json(405, { success: false, error: `Method ${method} not allowed on ${path}` }));
        throw new NotFoundError(`No route for ${method} ${path}`);
      }
      const actor = hit.route.auth === false ? actorFrom(event) : authenticate(event, config.auth);
      if (!actor) {
        return withCors(
          json(401, { success: false, error: 'Authentication required' }, { 'www-authenticate': 'Bearer' }),
        );
      }
      const headers = Object.fromEntries(
        Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}));
      const result = await hit.route.handler({
        event,
        params: hit.params,
        query,
        actor,
        header: (name) => headers[name.toLowerCase()] ?? undefined,
      });
      return withCors(result);
    } catch (error) {
      return withCors(errorResponse(error, log, { method, path }));
    }
  };
}
