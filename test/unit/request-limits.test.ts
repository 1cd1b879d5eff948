import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { StartSyncBody } from '#core/domain/sync-request.ts';
import {
  isJsonContentType,
  JSON_LIMITS,
  jsonProblem,
  printable,
  readJsonBody,
  textProblem,
} from '#lambdas/api/input-checks.ts';
import { type RouteInput, route } from '#lambdas/api/route.ts';
import { createRouter } from '#lambdas/api/router.ts';

import { proxyEvent } from '#test/support/proxy-event.ts';
import { buildTree } from '#test/support/trees.ts';

const nest = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};
const wide = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

/** The legitimate extreme: 10,000 nodes, each with _meta, 50 customFields and tags (depth 9). */
function legitimateTree() {
  const body = buildTree(10, 20, (e, f) => (e * 20 + f < 190 ? 49 : 48), 'lim');
  let n = 0;
  const decorate = (node: Record<string, unknown>) => {
    n++;
    node._meta = { created: '2026-01-01T00:00:00Z', lastModifiedBy: { id: `u${n % 7}`, name: 'Ada' } };
    node.customFields = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`cf_${i}`, i % 3 ? i : `v${i}`]),
    );
    node.tags = ['alpha', `t${n % 5}`];
  };
  for (const e of body.epics) {
    decorate(e);
    for (const f of e.children ?? []) {
      decorate(f);
      for (const s of f.children ?? []) decorate(s);
    }
  }
  return { body, nodes: n };
}

describe('jsonProblem', () => {
  it('accepts a 10,000-item tree with raw Ardoq fields on every node, in well under a second', () => {
    const { body, nodes } = legitimateTree();
    const text = JSON.stringify(body);

    const started = performance.now();
    const problem = jsonProblem(JSON.parse(text));
    const ms = performance.now() - started;

    expect(nodes).toBe(10_000);
    expect(Buffer.byteLength(text)).toBeLessThan(10 * 1024 * 1024);
    expect(problem).toBeUndefined();
    expect(ms).toBeLessThan(1_000);
    expect(StartSyncBody.safeParse(body).success).toBe(true);
  });

  it.each([
    ['nesting of exactly the limit (the body is level 1)', nest(JSON_LIMITS.maxDepth), undefined],
    ['nesting one level deeper', nest(JSON_LIMITS.maxDepth + 1), 'must not nest deeper than 32 levels'],
    ['exactly the key limit', wide(JSON_LIMITS.maxKeys), undefined],
    ['one key more', wide(JSON_LIMITS.maxKeys + 1), 'must not have more than 1000 keys'],
    ['exactly the item limit', Array.from({ length: JSON_LIMITS.maxItems }, () => 0), undefined],
    [
      'one item more',
      Array.from({ length: JSON_LIMITS.maxItems + 1 }, () => 0),
      'must not have more than 20000 items',
    ],
    ['Infinity (1e400 in the text)', { x: Number.POSITIVE_INFINITY }, 'must be a number within ±1.8e308'],
    ['the largest double', { x: Number.MAX_VALUE, y: -Number.MAX_VALUE, z: 5e-324 }, undefined],
    ['a well-formed surrogate pair', { 'k🚀': 'Ship it 🚀' }, undefined],
    ['other control characters', { x: '\u0001\t\n\u001f\u007f' }, undefined],
  ])('%s', (_label, value, message) => {
    expect(jsonProblem(value)?.message).toBe(message);
  });

  it.each([
    [{ a: { b: ['ok', 'x\u0000'] } }, 'a.b[1]', 'must not contain NUL (U+0000)'],
    [{ a: { 'k\u0000': 1 } }, 'a.k\\u0000', 'key must not contain NUL (U+0000)'],
    [{ a: '\ud800' }, 'a', 'must not contain a lone surrogate (U+D800): it is not valid Unicode'],
    [{ a: 'x\udc00y' }, 'a', 'must not contain a lone surrogate (U+DC00): it is not valid Unicode'],
    [{ a: '\udc00\ud800' }, 'a', 'must not contain a lone surrogate (U+DC00): it is not valid Unicode'],
    [{ '\udfff': 1 }, '\\udfff', 'key must not contain a lone surrogate (U+DFFF): it is not valid Unicode'],
    ['\u0000', 'body', 'must not contain NUL (U+0000)'],
    [wide(JSON_LIMITS.maxKeys + 1), 'body', 'must not have more than 1000 keys'],
    [
      { epics: [{ children: [{}, { x: nest(40) }] }] },
      /^epics\[0\]\.children\[1\]\.x\[0\]\.a/,
      'must not nest deeper than 32 levels',
    ],
  ])('names the place of %j', (value, path, message) => {
    const problem = jsonProblem(value);
    if (typeof path === 'string') expect(problem?.path).toBe(path);
    else expect(problem?.path).toMatch(path);
    expect(problem?.message).toBe(message);
  });

  it('walks a 10 MB body of nested brackets without overflowing the stack', () => {
    const n = 5 * 1024 * 1024;
    const value: unknown = JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`);

    expect(jsonProblem(value)?.message).toBe('must not nest deeper than 32 levels');
  });
});

describe('textProblem and printable', () => {
  it('finds NUL and lone surrogates only', () => {
    expect(textProblem('plain – ü 🚀 \t')).toBeUndefined();
    expect(textProblem('a\u0000')).toBe('must not contain NUL (U+0000)');
    expect(textProblem('\ud83d')).toMatch(/lone surrogate \(U\+D83D\)/);
    expect(textProblem('🚀\ude80')).toMatch(/lone surrogate \(U\+DE80\)/);
  });

  it('escapes NUL and lone surrogates and keeps pairs', () => {
    expect(printable('a\u0000b\ud800🚀')).toBe('a\\u0000b\\ud800🚀');
    expect(printable('x'.repeat(150))).toBe(`${'x'.repeat(100)}…`);
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON;Charset="UTF-8"', true],
    ['application/json; charset=utf8', true],
    ['application/json; boundary=x', true],
    ['application/json; charset=iso-8859-1', false],
    ['application/jsonp', false],
    ['text/json', false],
    ['text/plain', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (type, expected) => {
    expect(isJsonContentType(type)).toBe(expected);
  });
});

describe('createRouter before a route runs', () => {
  const seen: Array<RouteInput<unknown, unknown, unknown>> = [];
  const define = route<unknown>();
  const answer = { status: 200 as const, description: 'ok', schema: z.object({ body: z.unknown() }) };
  const handler = async (input: RouteInput<unknown, unknown, unknown>) => {
    seen.push(input);
    return { body: input.body ?? null };
  };
  const errors: string[] = [];
  const log = { debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
  const app = createRouter(
    [
      define({
        method: 'POST',
        path: '/api/things',
        summary: 'things',
        tag: 'test',
        permission: 'user',
        body: z.object({ name: z.string() }),
        answer,
        handler,
      }),
      define({
        method: 'POST',
        path: '/api/things/:id/touch',
        summary: 'touch',
        tag: 'test',
        permission: 'user',
        answer,
        handler,
      }),
      define({
        method: 'GET',
        path: '/api/things/:id',
        summary: 'thing',
        tag: 'test',
        permission: 'user',
        params: z.object({ id: z.string().max(5, 'at most 5') }),
        answer,
        handler,
      }),
    ],
    { log, audit: { append: () => Promise.reject(new Error('nothing to audit here')) } },
    { auth: { mode: 'none' }, corsOrigins: [] },
  );
  const call = async (event: APIGatewayProxyEvent) => {
    seen.length = 0;
    const result = await app(event);
    if ('kind' in result) throw new Error('no stream here');
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      json: JSON.parse(result.body) as unknown,
    };
  };

  it('checks a body against the route schema and hands the route the parsed value', async () => {
    const event = proxyEvent({
      method: 'POST',
      path: '/api/things',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"a","extra":1}',
    });

    const answer = await call(event);

    expect(answer.status).toBe(200);
    expect(readJsonBody(event)).toEqual({ name: 'a', extra: 1 });
    expect(answer.json).toEqual({ body: { name: 'a' } }); // what the schema keeps
  });

  it('a body that fails the route schema is a 400 naming the field; the route never runs', async () => {
    const answer = await call(
      proxyEvent({
        method: 'POST',
        path: '/api/things',
        headers: { 'content-type': 'application/json' },
        body: '{"name":7}',
      }),
    );

    expect(answer).toMatchObject({ status: 400, json: { success: false, details: [{ path: 'name' }] } });
    expect(seen).toEqual([]);
  });

  it('ignores the body and its Content-Type on a route that takes none', async () => {
    const answer = await call(
      proxyEvent({
        method: 'POST',
        path: '/api/things/1/touch',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      }),
    );

    expect(answer.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('answers 415 for a body that is not JSON, 400 for a bad path parameter, without running the route', async () => {
    const unsupported = await call(
      proxyEvent({
        method: 'POST',
        path: '/api/things',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }),
    );
    const long = await call(proxyEvent({ method: 'GET', path: '/api/things/toolong' }));

    expect(unsupported).toMatchObject({ status: 415, json: { success: false } });
    expect(long).toMatchObject({
      status: 400,
      json: { success: false, details: [{ path: 'id', message: 'at most 5' }] },
    });
    expect(seen).toEqual([]);
  });

  it('passes decoded path parameters to the route', async () => {
    await call(proxyEvent({ method: 'GET', path: '/api/things/a%20b' }));

    expect(seen[0]?.params).toEqual({ id: 'a b' });
  });

  it('logs no error for any 4xx it answers', async () => {
    await call(
      proxyEvent({
        method: 'POST',
        path: '/api/things',
        headers: { 'content-type': 'application/json' },
        body: '[[[',
      }),
    );
    await call(proxyEvent({ method: 'GET', path: '/api/things/x', headers: { 'x-a': '\u0000' } }));
    await call(proxyEvent({ method: 'DELETE', path: '/api/things' }));

    expect(errors).toEqual([]);
  });
});
