import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** One request as API Gateway would hand it to the API Lambda. */
export interface ApiCall {
  method: string;
  /** The raw path, percent-encoded as it came over the wire (or not, for hostile cases). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** A REST API (v1) proxy event for `call`. */
export function proxyEvent(call: ApiCall): APIGatewayProxyEvent {
  return {
    resource: '/{proxy+}',
    path: call.path,
    httpMethod: call.method,
    headers: call.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: call.query && Object.keys(call.query).length > 0 ? call.query : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: call.body ?? null,
    isBase64Encoded: call.isBase64Encoded ?? false,
    requestContext: {
      requestId: randomUUID(),
      identity: { sourceIp: '127.0.0.1', userAgent: null },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}
