import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpTimeoutError, nodeHttpTransport } from '#adapters/http-transport.ts';
import { type LoopbackServer, startLoopbackServer } from '#test/support/loopback-server.ts';

// The Azure DevOps client's transport against a real HTTP server on loopback: what it sends, what it
// reads, keep-alive reuse, timeouts that include the body, redirects left alone, broken answers.

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let loopback: LoopbackServer;
let origin: string;
let handler: Handler;

beforeAll(async () => {
  loopback = await startLoopbackServer((req, body, res) => handler(req, body, res));
  origin = loopback.origin;
});

afterAll(() => loopback.close());

beforeEach(() => {
  loopback.server.keepAliveTimeout = 5_000;
  handler = (_req, _body, res) => res.end('{}');
});

const call = (path: string, extra: Partial<Parameters<typeof nodeHttpTransport>[0]> = {}) =>
  nodeHttpTransport({ method: 'GET', url: `${origin}${path}`, headers: {}, timeoutMs: 2_000, ...extra });

describe('nodeHttpTransport', () => {
  it('sends method, path, headers and a UTF-8 body with its byte length, and reads the answer', async () => {
    let seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    handler = (req, body, res) => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      res.writeHead(201, { 'Content-Type': 'application/json; charset=utf-8', 'X-Custom': 'yes' });
      res.end('{"ok":"✓"}');
    };
    const body = JSON.stringify([{ op: 'add', path: '/fields/System.Title', value: 'Épique ✓' }]);

    const answer = await call('/p%20q/_apis/wit/workitems/$Epic?api-version=7.1', {
      method: 'POST',
      headers: { Authorization: 'Basic abc', 'Content-Type': 'application/json-patch+json' },
      body,
    });

    expect(seen).toMatchObject({
      method: 'POST',
      url: '/p%20q/_apis/wit/workitems/$Epic?api-version=7.1',
      body,
    });
    expect(seen.headers).toMatchObject({
      authorization: 'Basic abc',
      'content-type': 'application/json-patch+json',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toBe('{"ok":"✓"}');
    expect(answer.headers.get('CONTENT-TYPE')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('x-custom')).toBe('yes');
    expect(answer.headers.get('retry-after')).toBeNull();
  });

  it('joins a repeated header the way Headers does', async () => {
    handler = (_req, _body, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end('');
    };
    expect((await call('/')).headers.get('set-cookie')).toBe('a=1, b=2');
  });

  it('reuses one kept-alive connection for requests one after another', async () => {
    const used = new Set<Socket>();
    handler = (req, _body, res) => {
      used.add(req.socket);
      res.end('{}');
    };
    for (let i = 0; i < 5; i++) await call(`/n${i}`);
    expect(used.size).toBe(1);
  });

  it('opens a new connection when the server closed the idle one', async () => {
    const used: Socket[] = [];
    handler = (req, _body, res) => {
      used.push(req.socket);
      res.end('{}');
    };
    loopback.server.keepAliveTimeout = 50;
    await call('/first');
    await new Promise((r) => setTimeout(r, 200));

    const answer = await call('/second');

    expect(answer.status).toBe(200);
    expect(used).toHaveLength(2);
    expect(used[0]?.destroyed).toBe(true);
    expect(used[1]).not.toBe(used[0]);
  });

  it('does not follow a redirect: the 3xx comes back and nothing is sent to its Location', async () => {
    const paths: string[] = [];
    handler = (req, _body, res) => {
      paths.push(req.url ?? '');
      res.writeHead(302, { Location: `${origin}/_signin` });
      res.end();
    };

    const answer = await call('/x', { headers: { Authorization: 'Basic secret' } });

    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(`${origin}/_signin`);
    expect(paths).toEqual(['/x']);
  });

  it('does not follow a 302 to another origin: that origin sees no connection at all', async () => {
    const elsewhere = await startLoopbackServer((_req, _body, res) => res.end('{}'));
    let connections = 0;
    elsewhere.server.on('connection', () => {
      connections += 1;
    });
    try {
      handler = (_req, _body, res) => {
        res.writeHead(302, { Location: `${elsewhere.origin}/steal` });
        res.end();
      };

      const answer = await call('/x', { headers: { Authorization: 'Basic secret' } });

      expect(answer.status).toBe(302);
      expect(answer.headers.get('location')).toBe(`${elsewhere.origin}/steal`);
      expect(connections).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('times out when the body stalls after the headers (the timeout covers the body)', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"partial":');
    };
    const started = Date.now();

    const error = await call('/slow', { timeoutMs: 150 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect((error as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('rejects an answer cut off before its end', async () => {
    handler = (req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"partial":', () => req.socket.destroy());
    };
    await expect(call('/cut')).rejects.toBeInstanceOf(Error);
  });

  it('rejects when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await nodeHttpTransport({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      timeoutMs: 1_000,
    }).catch((e: unknown) => e);

    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
