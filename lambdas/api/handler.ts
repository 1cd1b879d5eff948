/** API Lambda entry: built once per cold start; the work is in app.ts and the core. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { awsDeps } from '#lambdas/runtime/aws-deps.ts';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { createApiApp } from './app.ts';

const logger = createLogger('api');
const { port } = createMetrics('api');
const app = createApiApp(awsDeps(asLog(logger), port));

export const handler = middy(async (event: APIGatewayProxyEvent) => app(event)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
