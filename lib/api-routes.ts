import { gatewayPath } from '#lambdas/api/route.ts';
import { ROUTES } from '#lambdas/api/route-table.ts';

/**
 * The REST API's routes as API Gateway sees them, generated from the API's one route table
 * (lambdas/api/route-table.ts): which function answers, and whether the Cognito authorizer guards it.
 * A path unknown to the app is unknown to API Gateway too and never reaches a function.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway resource path: `{name}` path parameters. */
  path: string;
  /** `stream`: the response-streaming function (SSE); `buffered`: the ordinary API function. */
  target: 'buffered' | 'stream';
  /** false only for the public routes (liveness). */
  auth: boolean;
}

export const API_ROUTES: readonly ApiRoute[] = ROUTES.map((route) => ({
  method: route.method,
  path: gatewayPath(route.path),
  target: route.stream ? 'stream' : 'buffered',
  auth: route.permission !== 'public',
}));
