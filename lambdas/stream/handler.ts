/**
 * Streaming API Lambda entry: the SSE routes (`POST …/workitems`, which streams when asked with
 * Accept: text/event-stream and answers 202 JSON otherwise, and `GET /api/sync-history/{id}/events`),
 * integrated by API Gateway REST with response streaming.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createStreamApp } from '#lambdas/api/app.ts';
import { apiRouterConfig } from '#lambdas/api/aws-deps.ts';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';
import { streamDeps } from './aws-deps.ts';
import { type ResponseStreamRuntime, writeToResponseStream } from './response-stream.ts';
import { StreamSettings } from './settings.ts';

declare const awslambda: {
  streamifyResponse(
    fn: (event: APIGatewayProxyEvent, responseStream: Writable, context: unknown) => Promise<void>,
  ): unknown;
  HttpResponseStream: ResponseStreamRuntime;
};

const settings = parseSettings(StreamSettings, process.env);
const logger = createLogger('api-stream');
const { metrics, port } = createMetrics('api-stream');
const app = createStreamApp(streamDeps(settings, asLog(logger), port), apiRouterConfig(settings));

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  try {
    await writeToResponseStream(await app(event), responseStream, awslambda.HttpResponseStream);
  } finally {
    metrics.publishStoredMetrics(); // SyncsStarted is counted here (POST …/workitems)
  }
});
