import { timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { Actor } from '#core/domain/sync-model.ts';
import { formatPath, NotFoundError, ValidationError } from '#core/errors.ts';
import type { AuditTrail } from '#core/ports/audit-trail.ts';
import type { Log } from '#core/ports/observability.ts';
import { corsHeaders, preflightHeaders } from './cors.ts';
import { actorFrom, errorResponse, json, UnsupportedMediaTypeError } from './http.ts';
import { invalidInput, isJsonContentType, printable, readJsonBody, textProblem } from './input-checks.ts';
import type { RouteDef } from './route.ts';
import type { StreamResult } from './sse.ts';

export type ApiResult = APIGatewayProxyResult | StreamResult;

/**
 * Who may call. `none`: the local runtime open on 127.0.0.1, every caller an admin. `token`: bearer
 * tokens (the local runtime's printed ones), each naming its user and whether it is an admin.
 * `authorizer`: API Gateway's Cognito authorizer checked the token; its `cognito:groups` claim says who
 * is in `adminGroup`.
 */
export type AuthConfig =
  | { mode: 'none' }
  | { mode: 'token'; tokens: ReadonlyArray<{ token: string; userId: string; admin: boolean }> }
  | { mode: 'authorizer'; adminGroup: string };

export interface RouterConfig {
  auth: AuthConfig;
  corsOrigins: string[];
}

/** What the router itself needs besides what its routes need. */
export interface RouterDeps {
  log: Log;
  /** Where a refused attempt (403) is audited. */
  audit: AuditTrail;
}

interface Caller {
  actor: Actor;
  admin: boolean;
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

/**
 * Parses `input` with `schema`, or a 400 whose details name each bad field (`what` prefixes the
 * message): how the router checks every route's input (tests of the use cases check theirs the same way).
 */
export function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: 'request' | 'query parameter',
  whole: string,
) {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details: Array<{ path: string; message: string }> = [];
  for (const issue of result.error.issues) {
    const path = formatPath(issue.path) || whole;
    if (!details.some((d) => d.path === path)) details.push({ path, message: issue.message });
  }
  const first = details[0];
  const message =
    what === 'request'
      ? `Invalid request: ${first?.path}: ${first?.message}`
      : `Invalid query parameter ${first?.path}: ${first?.message}`;
  throw new ValidationError(message, details);
}

/** Decodes the path parameters (NUL and lone surrogates refused) and checks them with the route's schema. */
function checkParams<D>(route: RouteDef<D>, raw: Record<string, string>): unknown {
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
  return route.params ? check(route.params, params, 'request', 'path') : params;
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The groups of Cognito's `cognito:groups` claim (a list, or its text form `[a, b]` / `a,b`). */
function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim !== 'string') return [];
  return claim
    .replace(/^\[|\]$/g, '')
    .split(/[,\s]+/)
    .filter(Boolean);
}

/** The caller, or null when authentication is required and missing. */
function authenticate(event: APIGatewayProxyEvent, auth: AuthConfig): Caller | null {
  const actor = actorFrom(event);
  const { userId: _claimed, ...context } = actor;
  switch (auth.mode) {
    case 'none':
      return { actor: context, admin: true };
    case 'token': {
      const header = event.headers?.authorization ?? event.headers?.Authorization ?? '';
      const presented = /^Bearer (.+)$/i.exec(header)?.[1];
      const known = presented ? auth.tokens.find((t) => sameSecret(presented, t.token)) : undefined;
      return known ? { actor: { ...context, userId: known.userId }, admin: known.admin } : null;
    }
    case 'authorizer': {
      if (!actor.userId) return null;
      const authorizer = (event.requestContext?.authorizer ?? {}) as Record<string, unknown>;
      const claims = (authorizer.claims ?? {}) as Record<string, unknown>;
      return { actor, admin: groupsOf(claims['cognito:groups']).includes(auth.adminGroup) };
    }
  }
}

/**
 * Routes a REST API (v1) proxy event through the route table: CORS preflight without authentication,
 * 404/405, then authentication (401) and permission (403, audited) for every route but the public ones,
 * then the input checks (400/413/415: headers, query, path parameters and JSON body, each against the
 * route's schema), and only then the handler, with typed input. One error taxonomy; CORS headers on
 * every answer.
 */
export function createRouter<D>(routes: readonly RouteDef<D>[], deps: D & RouterDeps, config: RouterConfig) {
  return async (event: APIGatewayProxyEvent): Promise<ApiResult> => {
    const path = (event.path || '/').replace(/\/+$/, '') || '/';
    const method = String(event.httpMethod ?? '').toUpperCase();
    const origin = event.headers?.origin ?? event.headers?.Origin;
    const cors = corsHeaders(origin, config.corsOrigins);
    // Narrowed per kind: a stream's headers are strings only, a buffered answer's may be numbers.
    const withCors = (result: ApiResult): ApiResult =>
      isStream(result)
        ? { ...result, headers: { ...result.headers, ...cors } }
        : { ...result, headers: { ...result.headers, ...cors } };
    if (method === 'OPTIONS') {
      return { statusCode: 204, headers: preflightHeaders(origin, config.corsOrigins), body: '' };
    }
    try {
      const matched = routes
        .map((route) => ({ route, params: matchPath(route.path, path) }))
        .filter((m): m is { route: RouteDef<D>; params: Record<string, string> } => m.params !== null);
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
      const { route } = hit;
      const caller =
        route.permission === 'public'
          ? { actor: actorFrom(event), admin: false }
          : authenticate(event, config.auth);
      if (!caller) {
        return withCors(
          json(401, { success: false, error: 'Authentication required' }, { 'www-authenticate': 'Bearer' }),
        );
      }
      if (route.permission === 'admin' && !caller.admin) {
        await auditRefusal(deps, caller.actor, method, path, hit.params);
        return withCors(
          json(403, {
            success: false,
            error: 'Only members of the admins group may change configurations: ask an administrator',
          }),
        );
      }
      const headers = Object.fromEntries(
        Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const header = (name: string) => headers[name.toLowerCase()] ?? undefined;
      checkPairs(event.headers);
      checkPairs(event.multiValueHeaders);
      checkPairs(event.queryStringParameters);
      checkPairs(event.multiValueQueryStringParameters);
      const params = checkParams(route, hit.params);
      const query = check(
        route.query ?? EMPTY,
        event.queryStringParameters ?? {},
        'query parameter',
        'query',
      );
      let body: unknown;
      if (route.body) {
        if (event.body && !isJsonContentType(header('content-type'))) {
          throw new UnsupportedMediaTypeError('Content-Type must be application/json');
        }
        body = check(route.body, readJsonBody(event), 'request', 'body');
      }
      const answer = await route.handler({ params, query, body, actor: caller.actor, header }, deps);
      if (isStream(answer)) return withCors(answer);
      return withCors(json(route.answer.status, answer));
    } catch (error) {
      return withCors(errorResponse(error, deps.log, { method, path }));
    }
  };
}

/** A route without a query schema ignores the query string. */
const EMPTY = z.object({});

const isStream = (answer: unknown): answer is StreamResult =>
  typeof answer === 'object' && answer !== null && (answer as { kind?: unknown }).kind === 'stream';

/** A refused attempt is audited: who tried which write. */
async function auditRefusal(
  deps: RouterDeps,
  actor: Actor,
  method: string,
  path: string,
  params: Record<string, string>,
): Promise<void> {
  const id = params.id ? safeDecode(params.id) : undefined;
  await deps.audit
    .append({
      actionType: 'access_denied',
      entityType: 'configuration',
      ...(id && id.length <= 255 && !textProblem(id) ? { entityId: id } : {}),
      ...actor,
      details: { method, path: printable(path).slice(0, 500), permission: 'admin' },
    })
    .catch((error: unknown) =>
      deps.log.warn('could not audit a refused attempt', {
        error: error instanceof Error ? error.message : String(error),
      }),
    );
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
