/** Finalizer Lambda entry: finalize queue messages and the one-minute sweep schedule. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';
import { createFinalizerApp, type ScheduledEvent } from './app.ts';
import { finalizerDeps } from './aws-deps.ts';
import { FinalizerSettings } from './settings.ts';

const settings = parseSettings(FinalizerSettings, process.env);
const logger = createLogger('finalizer');
const { metrics, port } = createMetrics('finalizer');
const app = createFinalizerApp(finalizerDeps(settings, asLog(logger), port));

export const handler = middy(async (event: SQSEvent | ScheduledEvent) => app(event))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
