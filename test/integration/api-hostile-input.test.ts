import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiCall,
  expectRejected,
  type InProcessApi,
  startInProcessApi,
} from '#test/support/in-process-api.ts';

// The hostile review's requests (NUL, lone surrogates, deep or wide JSON, huge numbers, and the same
// in query values, path ids and headers) against the API app in-process, over a real database: each
// one must be a 400 with the JSON error envelope naming the field, write nothing and log no error.
// Before the fix, PostgreSQL refused NUL and lone surrogates (500) and JSON.stringify of a deep node
// overflowed the stack (500).

const PROJECT = 'Agile Project';
const WORKITEMS = `/api/azure-devops/projects/${encodeURIComponent(PROJECT)}/workitems`;
const CHECK = `${WORKITEMS}/check`;
const CONFIGS = '/api/azure-devops/configurations';
const JSON_TYPE = { 'content-type': 'application/json' };

let counter = 0;
const epic = (extra: Record<string, unknown> = {}) => ({
  _id: `hostile-${++counter}`,
  name: `Hostile epic ${counter}`,
  type: 'Epic',
  ...extra,
});
const post = (path: string, body: string, headers: Record<string, string> = JSON_TYPE): ApiCall => ({
  method: 'POST',
  path,
  headers,
  body,
});
const start = (body: unknown) => post(WORKITEMS, typeof body === 'string' ? body : JSON.stringify(body));
const deepArrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObjects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const wide = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('hostile input is a 4xx with the error envelope, never a 500, and writes nothing', () => {
  let api: InProcessApi;
  let configId: string;

  beforeAll(async () => {
    api = await startInProcessApi();
    const created = await api.call(
      post(CONFIGS, JSON.stringify({ name: 'Hostile target', organization: 'hostile-org', patToken: 'x' })),
    );
    expect(created.status, created.text).toBe(201);
    configId = (created.json as { data: { configuration: { id: string } } }).data.configuration.id;
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  describe('NUL (U+0000) in any string or key of a body', () => {
    it.each<[string, () => ApiCall, string | RegExp]>([
      ['a node name', () => start({ epics: [epic({ name: 'a\u0000b' })] }), 'epics[0].name'],
      ['a node _id', () => start({ epics: [epic({ _id: 'a\u0000' })] }), 'epics[0]._id'],
      ['a description', () => start({ epics: [epic({ description: '\u0000' })] }), 'epics[0].description'],
      ['a raw Ardoq field', () => start({ epics: [epic({ risk: 'high\u0000' })] }), 'epics[0].risk'],
      [
        'a nested customFields value',
        () =>
          start({
            epics: [
              epic({
                children: [{ _id: 'f-nul', name: 'F', type: 'Feature', customFields: { cf: 'x\u0000' } }],
              }),
            ],
          }),
        'epics[0].children[0].customFields.cf',
      ],
      ['a tags entry', () => start({ epics: [epic({ tags: ['ok', 'b\u0000d'] })] }), 'epics[0].tags[1]'],
      ['a key of a node', () => start({ epics: [epic({ 'k\u0000': 1 })] }), /^epics\[0\]\.k/],
      ['a top-level key', () => start({ epics: [epic()], '\u0000': 1 }), /^\\u0000$/],
      [
        'fieldMappingConfigId',
        () => start({ epics: [epic()], fieldMappingConfigId: '\u0000' }),
        'fieldMappingConfigId',
      ],
      [
        'a configuration name',
        () => post(CONFIGS, JSON.stringify({ name: 'a\u0000', organization: 'org', patToken: 'p' })),
        'name',
      ],
      [
        'a configuration PAT',
        () => post(CONFIGS, JSON.stringify({ name: 'n', organization: 'org', patToken: '\u0000' })),
        'patToken',
      ],
    ])('%s → 400 naming it', async (_label, call, path) => {
      await expectRejected(api, call(), 400, path);
    });

    it('PUT /api/azure-devops/configurations/{id} with a NUL name → 400 naming name', async () => {
      await expectRejected(
        api,
        { method: 'PUT', path: `${CONFIGS}/${configId}`, headers: JSON_TYPE, body: '{"name":"x\\u0000"}' },
        400,
        'name',
      );
    });
  });

  describe('lone surrogates (invalid UTF-16) in any string or key of a body', () => {
    it.each<[string, () => ApiCall, string | RegExp]>([
      [
        'a high surrogate in a name',
        () => start('{"epics":[{"_id":"s1","name":"\\ud800","type":"Epic"}]}'),
        'epics[0].name',
      ],
      [
        'a low surrogate in an _id',
        () => start('{"epics":[{"_id":"\\udc00x","name":"n","type":"Epic"}]}'),
        'epics[0]._id',
      ],
      [
        'a raw lone surrogate in a field',
        () => start(`{"epics":[{"_id":"s3","name":"n","type":"Epic","x":"\ud800"}]}`),
        'epics[0].x',
      ],
      [
        'a surrogate key',
        () => start('{"epics":[{"_id":"s4","name":"n","type":"Epic","\\udfff":1}]}'),
        /^epics\[0\]\./,
      ],
      [
        'a configuration name',
        () => post(CONFIGS, '{"name":"\\ud83d","organization":"org","patToken":"p"}'),
        'name',
      ],
    ])('%s → 400 naming it', async (_label, call, path) => {
      await expectRejected(api, call(), 400, path);
    });

    it('accepts a well-formed surrogate pair (an emoji) in a name', async () => {
      const answer = await api.call(start({ epics: [epic({ name: 'Ship it 🚀' })] }));
      expect(answer.status, answer.text).toBe(202);
    });
  });

  describe('deep, wide and out-of-range JSON', () => {
    it.each<[string, () => ApiCall, string | RegExp]>([
      [
        '10,000 nested arrays in a node field',
        () => start(`{"epics":[{"_id":"d1","name":"n","type":"Epic","x":${deepArrays(10_000)}}]}`),
        /^epics\[0\]\.x(\[0\])+$/,
      ],
      [
        '10,000 nested objects in a node field',
        () => start(`{"epics":[{"_id":"d2","name":"n","type":"Epic","x":${deepObjects(10_000)}}]}`),
        /^epics\[0\]\.x(\.a)+$/,
      ],
      ['10,000 nested arrays as the body', () => start(deepArrays(10_000)), /^(\[0\])+$/],
      ['100,000 nested objects as the body', () => start(deepObjects(100_000)), /^a(\.a)+$/],
      ['10,000 extra fields on a node', () => start({ epics: [epic(wide(10_000))] }), 'epics[0]'],
      ['10,000 extra fields on the top level', () => start({ epics: [epic()], ...wide(10_000) }), 'body'],
      [
        '10,000 extra fields in customFields',
        () => start({ epics: [epic({ customFields: wide(10_000) })] }),
        'epics[0].customFields',
      ],
      [
        'a number beyond a double (1e400)',
        () => start(`{"epics":[{"_id":"h1","name":"n","type":"Epic","x":1e400}]}`),
        'epics[0].x',
      ],
      [
        'a 5,000-digit integer',
        () => start(`{"epics":[{"_id":"h2","name":"n","type":"Epic","x":-${'9'.repeat(5000)}}]}`),
        'epics[0].x',
      ],
      ['invalid JSON', () => start('{"epics":['), 'body'],
      [
        'a configuration with 10,000 extra fields',
        () => post(CONFIGS, JSON.stringify({ name: 'w', organization: 'o', patToken: 'p', ...wide(10_000) })),
        'body',
      ],
    ])('%s → 400 naming it', async (_label, call, path) => {
      await expectRejected(api, call(), 400, path);
    });

    it('a body that is not UTF-8 (base64, as API Gateway passes binary) → 400 naming body', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"epics":[{"_id":"u","name":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","type":"Epic"}]}'),
      ]);
      await expectRejected(
        api,
        { ...start(''), body: bytes.toString('base64'), isBase64Encoded: true },
        400,
        'body',
      );
    });
  });

  describe('query values, path ids and headers', () => {
    it.each<[string, ApiCall, string]>([
      [
        'configId with NUL',
        {
          method: 'POST',
          path: WORKITEMS,
          query: { configId: 'a\u0000' },
          headers: JSON_TYPE,
          body: JSON.stringify({ epics: [epic()] }),
        },
        'configId',
      ],
      [
        'sourceConfigId with NUL',
        {
          method: 'POST',
          path: WORKITEMS,
          query: { sourceConfigId: '\u0000' },
          headers: JSON_TYPE,
          body: JSON.stringify({ epics: [epic()] }),
        },
        'sourceConfigId',
      ],
      [
        'configId with a lone surrogate',
        {
          method: 'POST',
          path: WORKITEMS,
          query: { configId: '\ud800' },
          headers: JSON_TYPE,
          body: JSON.stringify({ epics: [epic()] }),
        },
        'configId',
      ],
      ['check configId with NUL', { method: 'GET', path: CHECK, query: { configId: '\u0000' } }, 'configId'],
      [
        'test-connection configId with NUL',
        { method: 'GET', path: '/api/azure-devops/test-connection', query: { configId: 'x\u0000' } },
        'configId',
      ],
      [
        'history project_name with NUL',
        { method: 'GET', path: '/api/sync-history', query: { project_name: 'a\u0000' } },
        'project_name',
      ],
      [
        'history project_name with a lone surrogate',
        { method: 'GET', path: '/api/sync-history', query: { project_name: '\udc00' } },
        'project_name',
      ],
      [
        'audit entity_id with NUL',
        { method: 'GET', path: '/api/audit-logs', query: { entity_id: '\u0000' } },
        'entity_id',
      ],
      [
        'an unknown query key with NUL',
        { method: 'GET', path: '/api/sync-history', query: { 'x\u0000': '1' } },
        'x\\u0000',
      ],
      [
        'a project with NUL',
        { method: 'GET', path: '/api/azure-devops/projects/a%00b/workitems/check' },
        'project',
      ],
      [
        'a project that is not UTF-8',
        { method: 'GET', path: '/api/azure-devops/projects/a%ED%A0%80b/workitems/check' },
        'project',
      ],
      [
        'a project with a raw lone surrogate',
        { method: 'GET', path: '/api/azure-devops/projects/a\ud800/workitems/check' },
        'project',
      ],
      ['a configuration id with NUL (GET)', { method: 'GET', path: `${CONFIGS}/a%00b` }, 'id'],
      [
        'a configuration id with NUL (PUT)',
        { method: 'PUT', path: `${CONFIGS}/a%00b`, headers: JSON_TYPE, body: '{"name":"x"}' },
        'id',
      ],
      ['a configuration id with NUL (DELETE)', { method: 'DELETE', path: `${CONFIGS}/a%00b` }, 'id'],
      ['a configuration id with NUL (activate)', { method: 'POST', path: `${CONFIGS}/a%00b/activate` }, 'id'],
      ['a sync id with NUL', { method: 'GET', path: '/api/sync-history/%00' }, 'id'],
      ['a sync id with a bad escape', { method: 'POST', path: '/api/sync-history/%E0%A4%A/cancel' }, 'id'],
      [
        'a User-Agent with NUL',
        {
          method: 'POST',
          path: WORKITEMS,
          headers: { ...JSON_TYPE, 'user-agent': 'a\u0000' },
          body: JSON.stringify({ epics: [epic()] }),
        },
        'user-agent',
      ],
      [
        'a User-Agent with a lone surrogate',
        { method: 'GET', path: '/api/sync-history', headers: { 'user-agent': '\ud800' } },
        'user-agent',
      ],
      [
        'a Last-Event-ID with NUL',
        {
          method: 'GET',
          path: '/api/sync-history/00000000-0000-4000-8000-000000000000/events',
          headers: { 'last-event-id': '\u0000' },
        },
        'last-event-id',
      ],
      [
        'any header with NUL',
        { method: 'GET', path: '/api/health', headers: { 'x-anything': '\u0000' } },
        'x-anything',
      ],
    ])('%s → 400 naming %s', async (_label, call, path) => {
      await expectRejected(api, call, 400, path);
    });
  });
});
