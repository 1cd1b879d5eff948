/** API Lambda entry (buffered answers): built once per cold start; the work is in the route table and the core. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';
import { createApiApp } from './app.ts';
import { apiDeps, apiRouterConfig } from './aws-deps.ts';
import { withDeadline } from './deadline.ts';
import { ApiSettings } from './settings.ts';

const settings = parseSettings(ApiSettings, process.env);
const logger = createLogger('api');
const { metrics, port } = createMetrics('api');

const routerConfig = apiRouterConfig(settings);
const app = createApiApp(apiDeps(settings, asLog(logger), port), routerConfig);

export const handler = withDeadline(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const result = await app(event);
  if ('kind' in result) {
    // Streamed routes are integrated with the streaming function (lambdas/stream), never here.
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: '{"success":false,"error":"Internal server error"}',
    };
  }
  return result;
}, routerConfig.corsOrigins)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
