/** API Lambda entry (buffered answers): built once per cold start; the work is in app.ts and the core. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { apiOptionsFromEnv, awsDeps } from '#lambdas/runtime/aws-deps.ts';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { createApiApp } from './app.ts';

const logger = createLogger('api');
const { metrics, port } = createMetrics('api');
const app = createApiApp(awsDeps(asLog(logger), port), apiOptionsFromEnv());

export const handler = middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const result = await app(event);
  if ('kind' in result) {
    // Streamed routes are integrated with the streaming function (stream-handler.ts), never here.
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: '{"success":false,"error":"Internal server error"}',
    };
  }
  return result;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
