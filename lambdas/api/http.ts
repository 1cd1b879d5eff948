import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Actor } from '#core/domain/sync-model.ts';
import {
  ConflictError,
  NotFoundError,
  UnavailableError,
  UpstreamError,
  ValidationError,
} from '#core/errors.ts';
import type { Log } from '#core/ports/observability.ts';

/** A request body over the limit (HTTP 413). */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/** A request body that is not `application/json` (HTTP 415). */
export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
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
  if (error instanceof UnsupportedMediaTypeError) return json(415, { success: false, error: error.message });
  if (error instanceof UpstreamError) return json(502, { success: false, error: error.message });
  if (error instanceof UnavailableError) {
    return json(
      503,
      { success: false, error: error.message },
      { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
  // Only our own faults are logged, with their stack; a client's mistake (4xx) is not an error.
  log.error('request failed', {
    ...context,
    error:
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : String(error),
  });
  return json(500, { success: false, error: 'Internal server error' });
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
    ...(userId ? { userId: clip(userId, 255) } : {}),
    ...(sourceIp ? { sourceIp: clip(sourceIp, 64) } : {}),
    ...(userAgent ? { userAgent: clip(userAgent, 1024) } : {}),
  };
}

/** The first `max` UTF-16 units of `text`, never ending in half a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const unit = text.charCodeAt(max - 1);
  return text.slice(0, unit >= 0xd800 && unit <= 0xdbff ? max - 1 : max);
}
