import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { corsHeaders } from './cors.ts';

/**
 * How long before the function's own timeout (29 s at most, API Gateway's limit for a buffered answer)
 * the API answers by itself: a request whose outbound calls add up past API Gateway's 29 s gets a 503
 * with `Retry-After`, never a gateway timeout. Covers a cold start's init time, which API Gateway's
 * clock counts and the function's does not.
 */
export const EARLY_ANSWER_MARGIN_MS = 3_000;
export const EARLY_ANSWER_RETRY_AFTER_SECONDS = 10;

/** The 503 answered when the deadline comes first, with the CORS headers the request's origin gets. */
export function deadlineAnswer(
  event: APIGatewayProxyEvent | undefined,
  corsOrigins: readonly string[],
): APIGatewayProxyResult {
  const origin = event?.headers?.origin ?? event?.headers?.Origin;
  return {
    statusCode: 503,
    headers: {
      'content-type': 'application/json',
      'retry-after': String(EARLY_ANSWER_RETRY_AFTER_SECONDS),
      ...corsHeaders(origin, corsOrigins),
    },
    body: JSON.stringify({
      success: false,
      error: 'The request could not finish within the API’s time limit: try again shortly',
    }),
  };
}

/**
 * The buffered API handler with its deadline: middy races it against the function's remaining time
 * minus {@link EARLY_ANSWER_MARGIN_MS} and answers {@link deadlineAnswer} when the time runs out
 * (the handler's abort signal then fires).
 */
export function withDeadline(
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
  corsOrigins: readonly string[],
  marginMs = EARLY_ANSWER_MARGIN_MS,
) {
  // One invocation at a time per execution environment: the event being answered.
  let current: APIGatewayProxyEvent | undefined;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>(
    (event: APIGatewayProxyEvent) => {
      current = event;
      return handler(event);
    },
    {
      timeoutEarlyInMillis: marginMs,
      timeoutEarlyResponse: () => deadlineAnswer(current, corsOrigins),
    },
  );
}
