/**
 * Streaming API Lambda entry: the SSE routes (`POST …/workitems`, which streams when asked with
 * Accept: text/event-stream and answers 202 JSON otherwise, and `GET /api/sync-history/{id}/events`),
 * integrated by API Gateway REST with response streaming.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { apiOptionsFromEnv, awsDeps } from '#lambdas/runtime/aws-deps.ts';
import { asLog, createLogger, createMetrics } from '#lambdas/runtime/observability.ts';
import { createApiApp } from '../api/app.ts';
import { type ResponseStreamRuntime, writeToResponseStream } from './response-stream.ts';

declare const awslambda: {
  streamifyResponse(
    fn: (event: APIGatewayProxyEvent, responseStream: Writable, context: unknown) => Promise<void>,
  ): unknown;
  HttpResponseStream: ResponseStreamRuntime;
};

const logger = createLogger('api-stream');
const { metrics, port } = createMetrics('api-stream');
const app = createApiApp(awsDeps(asLog(logger), port), apiOptionsFromEnv());

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  try {
    await writeToResponseStream(await app(event), responseStream, awslambda.HttpResponseStream);
  } finally {
    metrics.publishStoredMetrics(); // SyncsStarted is counted here (POST …/workitems)
  }
});
