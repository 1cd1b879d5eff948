import { timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import type { Actor } from '#core/domain/sync-model.ts';
import { formatPath, NotFoundError, ValidationError } from '#core/errors.ts';
import type { Log } from '#core/pipeline/deps.ts';
import { corsHeaders, preflightHeaders } from './cors.ts';
import {
  actorFrom,
  errorResponse,
  invalidInput,
  isJsonContentType,
  json,
  parseJsonBody,
  printable,
  textProblem,
  UnsupportedMediaTypeError,
} from './http.ts';
import type { StreamResult } from './sse.ts';

export type ApiResult = APIGatewayProxyResult | StreamResult;

export interface ApiRequest {
  event: APIGatewayProxyEvent;
  /** Decoded path parameters, checked by the route's `params` schema. */
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
  /** Path parameters: the router answers 400 naming the parameter when one fails its schema. */
  params?: z.ZodObject;
  /**
   * The query schema (a transform over an object is fine: its input object is documented); the
   * route parses it itself, the router only refuses NUL and lone surrogates.
   */
  query?: z.ZodType;
  /** A route with a body takes `application/json` only (415 otherwise); the router parses and checks it. */
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

/** The raw (still percent-encoded) segments of `path` for each `:name` of `pattern`, or null. */
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
      params[w.slice(1)] = g;
    } else if (w !== g) return null;
  }
  return params;
}

/** Refuses NUL and lone surrogates in every name and value of a header or query map. */
function checkPairs(pairs: Record<string, string | string[] | undefined> | null | undefined): void {
  for (const [name, value] of Object.entries(pairs ?? {})) {
    const nameProblem = textProblem(name);
    if (nameProblem) throw invalidInput(printable(name), `name ${nameProblem}`);
    for (const item of Array.isArray(value) ? value : [value]) {
      const problem = item === undefined ? undefined : textProblem(item);
      if (problem) throw invalidInput(printable(name), problem);
    }
  }
}

/** Decodes the raw path parameters and checks them against the route's schema: 400 naming the first bad one. */
function checkParams(route: RouteDef, raw: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, segment] of Object.entries(raw)) {
    let value: string;
    try {
      value = decodeURIComponent(segment);
    } catch {
      throw invalidInput(name, 'must be percent-encoded UTF-8');
    }
    const problem = textProblem(value);
    if (problem) throw invalidInput(name, problem);
    params[name] = value;
  }
  if (!route.params) return params;
  const result = route.params.safeParse(params);
  if (!result.success) {
    const details = result.error.issues.map((issue) => ({
      path: formatPath(issue.path) || 'path',
      message: issue.message,
    }));
    throw new ValidationError(`Invalid request: ${details[0]?.path}: ${details[0]?.message}`, details);
  }
  for (const [name, value] of Object.entries(result.data)) {
    if (typeof value === 'string') params[name] = value;
  }
  return params;
}

/**
 * Everything the router checks before a route runs, so that hostile input is a 400/413/415 and never
 * reaches the database: headers, query and path parameters free of NUL and lone surrogates, path
 * parameters valid for the route, and a JSON body (parsed once) within `JSON_LIMITS`.
 */
function checkRequest(
  route: RouteDef,
  event: APIGatewayProxyEvent,
  rawParams: Record<string, string>,
  header: (name: string) => string | undefined,
): Record<string, string> {
  checkPairs(event.headers);
  checkPairs(event.multiValueHeaders);
  checkPairs(event.queryStringParameters);
  checkPairs(event.multiValueQueryStringParameters);
  const params = checkParams(route, rawParams);
  if (route.body && event.body) {
    if (!isJsonContentType(header('content-type'))) {
      throw new UnsupportedMediaTypeError('Content-Type must be application/json');
    }
    parseJsonBody(event);
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
 * Routes a REST API (v1) proxy event: CORS preflight without authentication, 404/405, authentication
 * for every route but the public ones, then `checkRequest` (400/413/415) before the route runs, one
 * error taxonomy, CORS headers on every answer.
 */
export function createRouter(routes: readonly RouteDef[], config: RouterConfig, log: Log) {
  return async (event: APIGatewayProxyEvent): Promise<ApiResult> => {
    const path = (event.path || '/').replace(/\/+$/, '') || '/';
    const method = String(event.httpMethod ?? '').toUpperCase();
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
        if (matched.length > 0) {
          const allow = [...new Set(matched.map((m) => m.route.method))].join(', ');
          return withCors(
            json(405, { success: false, error: `Method ${method} not allowed on ${path}` }, { allow }),
          );
        }
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
      const header = (name: string) => headers[name.toLowerCase()] ?? undefined;
      const params = checkRequest(hit.route, event, hit.params, header);
      const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}));
      const result = await hit.route.handler({ event, params, query, actor, header });
      return withCors(result);
    } catch (error) {
      return withCors(errorResponse(error, log, { method, path }));
    }
  };
}
