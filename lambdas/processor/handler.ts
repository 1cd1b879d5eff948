/** Processor Lambda entry: work queue messages (prepare, item) with partial batch failures. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { awsDeps } from '#lambdas/runtime/aws-deps.ts';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { createProcessorApp } from './app.ts';

const logger = createLogger('processor');
const { metrics, port } = createMetrics('processor');
const app = createProcessorApp(awsDeps(asLog(logger), port));

export const handler = middy(async (event: SQSEvent) => app(event))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
