import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { deadlineAnswer, EARLY_ANSWER_MARGIN_MS, withDeadline } from '#lambdas/api/deadline.ts';

const ORIGINS = ['https://syncflow.example.com'];

function event(origin?: string): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: '/api/azure-devops/projects',
    headers: origin ? { Origin: origin } : {},
  } as unknown as APIGatewayProxyEvent;
}

/** A Lambda context whose remaining time starts at `remainingMs` and runs down with the clock. */
function context(remainingMs: number): Context {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() } as unknown as Context;
}

const ok: APIGatewayProxyResult = { statusCode: 200, headers: {}, body: '{"success":true}' };

describe('the buffered API’s deadline (issue 18 §5)', () => {
  it('answers 503 with Retry-After before the function’s time runs out, when the route is still busy', async () => {
    const handler = withDeadline(
      () =>
        new Promise<APIGatewayProxyResult>(() => {
          // never resolves: outbound calls that add up past API Gateway's 29 s
        }),
      ORIGINS,
    );
    const started = Date.now();
    const answer = (await handler(
      event('https://syncflow.example.com'),
      context(EARLY_ANSWER_MARGIN_MS + 150),
    )) as APIGatewayProxyResult;
    const took = Date.now() - started;
    expect(answer.statusCode).toBe(503);
    expect(answer.headers).toMatchObject({
      'retry-after': '10',
      'access-control-allow-origin': 'https://syncflow.example.com',
    });
    expect(JSON.parse(answer.body)).toMatchObject({ success: false });
    // It waited for the deadline (remaining − margin), not for the function's end.
    expect(took).toBeGreaterThanOrEqual(100);
    expect(took).toBeLessThan(EARLY_ANSWER_MARGIN_MS);
  });

  it('gives the route’s own answer when it comes in time', async () => {
    const handler = withDeadline(async () => ok, ORIGINS);
    expect(await handler(event(), context(10_000))).toEqual(ok);
  });

  it('names no origin it was not configured with', () => {
    expect(deadlineAnswer(event('https://evil.example'), ORIGINS).headers).not.toHaveProperty(
      'access-control-allow-origin',
    );
    expect(deadlineAnswer(undefined, ORIGINS).statusCode).toBe(503);
  });
});
