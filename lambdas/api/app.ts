import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ApiDeps, StreamDeps } from './deps.ts';
import { ROUTES, STREAM_ROUTES } from './route-table.ts';
import { type ApiResult, createRouter, type RouterConfig, type RouterDeps } from './router.ts';

export { API_VERSION } from './route-table.ts';

/** The whole API (the buffered function in AWS, and the local runtime): every route of the table. */
export function createApiApp(
  deps: ApiDeps & RouterDeps,
  config: RouterConfig,
): (event: APIGatewayProxyEvent) => Promise<ApiResult> {
  return createRouter(ROUTES, deps, config);
}

/** The streaming function's API: the SSE routes (and health). */
export function createStreamApp(
  deps: StreamDeps & RouterDeps,
  config: RouterConfig,
): (event: APIGatewayProxyEvent) => Promise<ApiResult> {
  return createRouter(STREAM_ROUTES, deps, config);
}
