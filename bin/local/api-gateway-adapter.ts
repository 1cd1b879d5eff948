import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { corsHeaders } from '#lambdas/api/cors.ts';
import { MAX_BODY_BYTES } from '#lambdas/api/http.ts';
import type { ApiResult } from '#lambdas/api/router.ts';
import type { StreamResult } from '#lambdas/api/sse.ts';

export interface HttpAdapterOptions {
  /** Origins allowed by CORS (`http://localhost:*` = any port), for the adapter's own error answers. */
  corsOrigins: string[];
}

export { originAllowed } from '#lambdas/api/cors.ts';

/** A request body as API Gateway passes it: UTF-8 text, or base64 when the bytes are not UTF-8. */
export interface RequestBody {
  text: string;
  base64: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readBody(req: IncomingMessage): Promise<RequestBody | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return resolve(null);
      const bytes = Buffer.concat(chunks);
      // Decoding invalid UTF-8 would silently turn it into U+FFFD: pass the bytes on, and let the
      // app refuse them (400) like it would for a binary body from API Gateway.
      try {
        resolve({ text: utf8.decode(bytes), base64: false });
      } catch {
        resolve({ text: bytes.toString('base64'), base64: true });
      }
    });
    req.on('error', reject);
  });
}

/** Turns a Node request into the REST API (v1) proxy event API Gateway would send. */
export function toApiGatewayEvent(req: IncomingMessage, body: string | RequestBody): APIGatewayProxyEvent {
  const { text, base64 } = typeof body === 'string' ? { text: body, base64: false } : body;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers[key] = value;
    else if (Array.isArray(value)) headers[key] = value.join(',');
  }
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => {
    query[key] = value;
  });
  return {
    resource: '/{proxy+}',
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: text || null,
    isBase64Encoded: base64,
    requestContext: {
      requestId: randomUUID(),
      // The socket address: X-Forwarded-For is never trusted for source_ip.
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? null,
      },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/** Serves the API handler on 127.0.0.1 like API Gateway would: 10 MB body limit, streamed SSE answers. */
export async function serveApi(
  handler: (event: APIGatewayProxyEvent) => Promise<ApiResult>,
  port: number,
  options: HttpAdapterOptions,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    // The app sets CORS headers itself; these cover the adapter's own answers (413, 500).
    const cors = corsHeaders(req.headers.origin, options.corsOrigins);
    try {
      const body = await readBody(req);
      if (body === null) {
        res.writeHead(413, { 'content-type': 'application/json', ...cors });
        res.end(JSON.stringify({ success: false, error: 'Request body is larger than 10 MB' }));
        return;
      }
      const result = await handler(toApiGatewayEvent(req, body));
      if ('kind' in result) {
        await pumpStream(result, res);
        return;
      }
      res.writeHead(result.statusCode, result.headers as Record<string, string>);
      res.end(result.body);
    } catch {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json', ...cors });
      res.end(JSON.stringify({ success: false, error: 'Internal server error' }));
    }
  });
  // Requests Node cannot parse (a control character in a header, an oversized header block) get the
  // JSON error envelope too, not Node's bare 400.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'Request headers are too large']
        : [400, 'Bad Request', 'Malformed HTTP request'];
    const body = JSON.stringify({ success: false, error: message });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${address.port}` };
}

/** Writes a streamed answer as it comes, honouring back-pressure; stops when the client goes away. */
async function pumpStream(result: StreamResult, res: ServerResponse): Promise<void> {
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  res.writeHead(result.statusCode, result.headers);
  res.flushHeaders();
  await result.pump({
    closed: () => closed,
    write: (chunk) =>
      new Promise<void>((resolve) => {
        if (closed || res.write(chunk)) resolve();
        else {
          res.once('drain', resolve);
          res.once('close', resolve);
        }
      }),
  });
  res.end();
}
