import type * as z from 'zod';
import type { Actor } from '#core/domain/sync-model.ts';
import type { StreamResult } from './sse.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call a route: anyone (`public`: health, the OpenAPI document), any signed-in user (`read`),
 * or a member of the `admins` group (`admin`: configuration writes). A plain user calling an admin
 * route gets a 403, and the attempt is audited.
 */
export type Permission = 'public' | 'user' | 'admin';

/** What a route's handler gets: the request, checked against the route's schemas, and its caller. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  /** A request header (any case). */
  header(name: string): string | undefined;
}

/** One documented answer. */
export interface AnswerDoc {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/**
 * One route, described once: the router checks its input against these schemas before the handler
 * runs (a 400 naming the field otherwise), the OpenAPI document and the CDK's REST API are generated
 * from it, and the handler gets typed input and returns its typed answer body (or a stream).
 */
export interface RouteSpec<
  D,
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  A extends z.ZodType,
> {
  method: Method;
  /** `/api/sync-history/:id`: `:name` segments are path parameters. */
  path: string;
  summary: string;
  tag: string;
  permission: Permission;
  /** In AWS, served by the response-streaming function (SSE) instead of the buffered one. */
  stream?: boolean;
  params?: P;
  query?: Q;
  /** A JSON body (application/json only). */
  body?: B;
  /** The success answer: its status and body. */
  answer: { status: 200 | 201 | 202; description: string; schema: A };
  /** Other answers worth documenting (the router's own 400/401/403/404/405/413/415/500 are added). */
  responses?: Record<number, AnswerDoc>;
  handler(
    input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>,
    deps: D,
  ): Promise<z.input<A> | StreamResult>;
}

/** A route of the table, its schema types erased (what the router, OpenAPI and CDK read). */
export type RouteDef<D> = RouteSpec<D, z.ZodType, z.ZodType, z.ZodType, z.ZodType>;

/** Defines a route whose handler needs the deps `D`, keeping its schemas' types for the handler. */
export const route =
  <D>() =>
  <
    P extends z.ZodType = z.ZodObject<Record<string, never>>,
    Q extends z.ZodType = z.ZodObject<Record<string, never>>,
    B extends z.ZodType = z.ZodUndefined,
    A extends z.ZodType = z.ZodType,
  >(
    spec: RouteSpec<D, P, Q, B, A>,
  ): RouteDef<D> =>
    spec as unknown as RouteDef<D>;

/** API Gateway's form of a path: `{name}` for `:name`. */
export const gatewayPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');
