/** Finalizer Lambda entry: finalize queue messages and the one-minute sweep schedule. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { awsDeps } from '#lambdas/runtime/aws-deps.ts';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { createFinalizerApp, type ScheduledEvent } from './app.ts';

const logger = createLogger('finalizer');
const { metrics, port } = createMetrics('finalizer');
const app = createFinalizerApp(awsDeps(asLog(logger), port));

export const handler = middy(async (event: SQSEvent | ScheduledEvent) => app(event))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
