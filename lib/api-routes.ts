/**
 * The REST API's routes as API Gateway sees them: which function answers, and whether the Cognito
 * authorizer guards it. It mirrors the routes of `lambdas/api` (test/infra checks that both agree),
 * so a path unknown to the app is unknown to API Gateway too and never reaches a function.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway resource path: `{name}` path parameters. */
  path: string;
  /** `stream`: the response-streaming function (SSE); `buffered`: the ordinary API function. */
  target: 'buffered' | 'stream';
  /** false only for the public liveness route. */
  auth: boolean;
}

const route = (
  method: ApiRoute['method'],
  path: string,
  options: { target?: ApiRoute['target']; auth?: boolean } = {},
): ApiRoute => ({ method, path, target: options.target ?? 'buffered', auth: options.auth ?? true });

export const API_ROUTES: readonly ApiRoute[] = [
  route('GET', '/api/health', { auth: false }),
  route('GET', '/api/openapi.json'),
  // Starting a sync streams SSE progress when asked (Accept: text/event-stream), else answers 202.
  route('POST', '/api/azure-devops/projects/{project}/workitems', { target: 'stream' }),
  route('GET', '/api/azure-devops/projects/{project}/workitems/check'),
  route('GET', '/api/azure-devops/test-connection'),
  route('POST', '/api/azure-devops/configurations'),
  route('GET', '/api/azure-devops/configurations'),
  route('GET', '/api/azure-devops/configurations/active'),
  route('GET', '/api/azure-devops/configurations/{id}'),
  route('PUT', '/api/azure-devops/configurations/{id}'),
  route('DELETE', '/api/azure-devops/configurations/{id}'),
  route('POST', '/api/azure-devops/configurations/{id}/activate'),
  route('GET', '/api/sync-history'),
  route('GET', '/api/sync-history/stats'),
  route('GET', '/api/sync-history/{id}'),
  route('GET', '/api/sync-history/{id}/items'),
  route('POST', '/api/sync-history/{id}/cancel'),
  route('GET', '/api/sync-history/{id}/events', { target: 'stream' }),
  route('GET', '/api/audit-logs'),
  route('GET', '/api/audit-logs/stats'),
];
