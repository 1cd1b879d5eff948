import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { originAllowed, serveApi } from '#bin/local/api-gateway-adapter.ts';
import { silentLog } from '#core/pipeline/deps.ts';
import { MAX_BODY_BYTES } from '#lambdas/api/http.ts';
import { route } from '#lambdas/api/route.ts';
import { type ApiResult, createRouter } from '#lambdas/api/router.ts';

// The local stand-in for API Gateway: CORS, body limit and the proxy event, spoken to over real HTTP
// (node:http, which lets the test send X-Forwarded-For) with a stub handler that records its events.

const PATTERNS = ['http://localhost:*', 'http://127.0.0.1:*', 'https://app.example.com'];

describe('originAllowed', () => {
  it.each([
    ['http://localhost:3000'],
    ['http://localhost:1'],
    ['http://localhost:65535'],
    ['http://127.0.0.1:5173'],
    ['https://app.example.com'],
  ])('allows %s', (origin) => {
    expect(originAllowed(origin, PATTERNS)).toBe(true);
  });

  it.each([
    ['http://localhost.evil.com:1'],
    ['http://localhost:1.evil.com'],
    ['http://localhost:'],
    ['http://localhost'],
    ['https://localhost:3000'],
    ['http://evil.com/http://localhost:3000'],
    ['https://app.example.com.evil.com'],
    ['null'],
  ])('refuses %s', (origin) => {
    expect(originAllowed(origin, PATTERNS)).toBe(false);
  });
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes (what a client library would refuse to send) and returns the raw answer. */
function sendRaw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(Buffer.from(request, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

describe('serveApi', () => {
  const events: APIGatewayProxyEvent[] = [];
  let server: Server;
  let url: string;

  // The adapter in front of the real router, whose single route records what reaches it: CORS is
  // the app's job (the same code answers in AWS), the adapter only carries requests and answers.
  const routeCalls: string[] = [];
  const router = createRouter(
    ['/api/health', '/api/configurations', '/api/echo'].map((path) =>
      route<unknown>()({
        method: 'GET',
        path,
        summary: path,
        tag: 'test',
        permission: 'public',
        answer: { status: 200, description: 'ok', schema: z.object({ success: z.literal(true) }) },
        handler: async () => {
          routeCalls.push(path);
          return { success: true as const };
        },
      }),
    ),
    { log: silentLog, audit: { append: () => Promise.reject(new Error('no audit here')) } },
    { auth: { mode: 'none' }, corsOrigins: PATTERNS },
  );
  const handler = async (event: APIGatewayProxyEvent): Promise<ApiResult> => {
    events.push(event);
    if (event.path === '/api/echo' || event.httpMethod === 'POST') {
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ success: true }),
      };
    }
    return router(event);
  };

  beforeAll(async () => {
    ({ server, url } = await serveApi(handler, 0, { corsOrigins: PATTERNS }));
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  });

  beforeEach(() => {
    events.length = 0;
    routeCalls.length = 0;
  });

  it('listens on 127.0.0.1 only', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers a preflight from an allowed origin with 204, the origin and the allowed headers', async () => {
    const reply = await send(url, 'OPTIONS', '/api/configurations', {
      origin: 'http://localhost:5173',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization, last-event-id',
    });

    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const allowed = (reply.headers['access-control-allow-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase());
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'authorization', 'last-event-id']));
    expect(reply.headers['access-control-allow-methods']).toContain('POST');
    expect(routeCalls).toEqual([]); // a preflight never reaches a route
  });

  it('gives a preflight from a disallowed origin no allow-origin', async () => {
    const reply = await send(url, 'OPTIONS', '/api/configurations', {
      origin: 'http://localhost.evil.com:1',
      'access-control-request-method': 'POST',
    });

    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(routeCalls).toEqual([]);
  });

  it('adds allow-origin to ordinary answers for allowed origins only', async () => {
    const allowed = await send(url, 'GET', '/api/health', { origin: 'http://127.0.0.1:8080' });
    const refused = await send(url, 'GET', '/api/health', { origin: 'https://evil.example.com' });

    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8080');
    expect(allowed.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.status).toBe(200);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers 413 to a body over 10 MB without calling the handler', async () => {
    const reply = await send(
      url,
      'POST',
      '/api/sync',
      { 'content-type': 'application/json' },
      Buffer.alloc(MAX_BODY_BYTES + 1, 'a'),
    );

    expect(MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ success: false });
    expect(events).toEqual([]);
  });

  it('passes a body of exactly 10 MB to the handler', async () => {
    const reply = await send(url, 'POST', '/api/sync', {}, Buffer.alloc(MAX_BODY_BYTES, 'a'));

    expect(reply.status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]?.body).toHaveLength(MAX_BODY_BYTES);
  });

  it('passes a body that is not UTF-8 as base64 (like API Gateway), never as U+FFFD', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x22, 0x7d]);

    await send(url, 'POST', '/api/sync', { 'content-type': 'application/json' }, bytes);

    expect(events[0]?.isBase64Encoded).toBe(true);
    expect(Buffer.from(events[0]?.body ?? '', 'base64')).toEqual(bytes);
  });

  it('passes a UTF-8 body as text, surrogate pairs included', async () => {
    const body = JSON.stringify({ name: 'Ship it 🚀 – Ørsted' });

    await send(url, 'POST', '/api/sync', { 'content-type': 'application/json' }, body);

    expect(events[0]?.isBase64Encoded).toBe(false);
    expect(events[0]?.body).toBe(body);
  });

  it.each([
    ['a NUL in a header value', 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400],
    [
      'a header block over 16 KB',
      `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
    ['a broken request line', 'BROKEN\r\n\r\n', 400],
  ])('answers a request Node cannot parse (%s) with the JSON error envelope', async (_label, raw, status) => {
    const answer = await sendRaw(url, raw);

    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({ success: false, error: expect.any(String) });
    expect(events).toEqual([]);
  });

  it('takes sourceIp from the socket, never from X-Forwarded-For', async () => {
    await send(url, 'GET', '/api/health', { 'x-forwarded-for': '203.0.113.7' });

    expect(events).toHaveLength(1);
    expect(events[0]?.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it('puts method, path, query, headers and body into the proxy event', async () => {
    const body = JSON.stringify({ name: 'Board', n: 1 });

    await send(
      url,
      'POST',
      '/api/sync-history/abc-123/cancel?limit=5&q=a%20b',
      { 'content-type': 'application/json', 'x-custom': 'yes' },
      body,
    );
    await send(url, 'GET', '/api/health');

    const [post, get] = events;
    expect(post?.httpMethod).toBe('POST');
    expect(post?.path).toBe('/api/sync-history/abc-123/cancel');
    expect(post?.queryStringParameters).toEqual({ limit: '5', q: 'a b' });
    expect(post?.headers['content-type']).toBe('application/json');
    expect(post?.headers['x-custom']).toBe('yes');
    expect(post?.body).toBe(body);
    expect(get?.path).toBe('/api/health');
    expect(get?.queryStringParameters).toBeNull();
    expect(get?.body).toBeNull();
  });

  it('answers 500 with a fixed message when the handler throws', async () => {
    const failing = await serveApi(
      async () => {
        throw new Error('secret detail');
      },
      0,
      { corsOrigins: PATTERNS },
    );
    try {
      const reply = await send(failing.url, 'GET', '/api/health');

      expect(reply.status).toBe(500);
      expect(reply.body).not.toContain('secret detail');
      expect(JSON.parse(reply.body)).toEqual({ success: false, error: 'Internal server error' });
    } finally {
      await new Promise<void>((resolve) => {
        failing.server.close(() => resolve());
        failing.server.closeAllConnections();
      });
    }
  });
});
