import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, NotFoundError, UpstreamError, ValidationError } from '#core/errors.ts';
import type { Log } from '#core/pipeline/deps.ts';
import type { Actor } from '#core/sync/sync-model.ts';

/** A request body over the limit (HTTP 413). */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export const ok = (data: unknown, statusCode = 200, extra: Record<string, unknown> = {}) =>
  json(statusCode, { success: true, data, ...extra });

/** Maps the domain's errors to CONTRACT.md §1; anything else is a 500 with a fixed message. */
export function errorResponse(
  error: unknown,
  log: Log,
  context: Record<string, unknown> = {},
): APIGatewayProxyResult {
  if (error instanceof ValidationError) {
    return json(400, {
      success: false,
      error: error.message,
      ...(error.details.length ? { details: error.details } : {}),
    });
  }
  if (error instanceof NotFoundError) return json(404, { success: false, error: error.message });
  if (error instanceof ConflictError) return json(409, { success: false, error: error.message });
  if (error instanceof PayloadTooLargeError) return json(413, { success: false, error: error.message });
  if (error instanceof UpstreamError) return json(502, { success: false, error: error.message });
  log.error('request failed', {
    ...context,
    error:
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : String(error),
  });
  return json(500, { success: false, error: 'Internal server error' });
}

/** Parses a JSON body (≤ 10 MB) or throws a 400/413 naming the problem. */
export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError('Request body is larger than 10 MB');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('Request body is not valid JSON', [{ path: 'body', message: 'invalid JSON' }]);
  }
}

/** Who is calling: the authorizer's identity and the request context's source IP (never X-Forwarded-For). */
export function actorFrom(event: APIGatewayProxyEvent): Actor {
  const authorizer = (event.requestContext?.authorizer ?? {}) as Record<string, unknown>;
  const claims = (authorizer.claims ?? {}) as Record<string, unknown>;
  const userId = [claims.sub, claims['cognito:username'], authorizer.principalId].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  const sourceIp = event.requestContext?.identity?.sourceIp;
  const userAgent = event.headers?.['user-agent'] ?? event.headers?.['User-Agent'];
  return {
    ...(userId ? { userId: userId.slice(0, 255) } : {}),
    ...(sourceIp ? { sourceIp: sourceIp.slice(0, 64) } : {}),
    ...(userAgent ? { userAgent: userAgent.slice(0, 1024) } : {}),
  };
}
