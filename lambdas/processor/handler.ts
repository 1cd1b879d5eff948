/** Processor Lambda entry: work queue messages (prepare, item) with partial batch failures. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';
import { createProcessorApp } from './app.ts';
import { processorDeps } from './aws-deps.ts';
import { ProcessorSettings } from './settings.ts';

const settings = parseSettings(ProcessorSettings, process.env);
const logger = createLogger('processor');
const { metrics, port } = createMetrics('processor');
const app = createProcessorApp(processorDeps(settings, asLog(logger), port));

export const handler = middy(async (event: SQSEvent) => app(event))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
