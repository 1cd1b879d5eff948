import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiCall,
  expectRejected,
  type InProcessApi,
  startInProcessApi,
} from '#test/support/in-process-api.ts';
import { buildTree } from '#test/support/trees.ts';

// The request rules the router and the sync route enforce before anything is written: Azure DevOps
// project naming (400 naming project), overwrite only true or false (400 naming overwrite), JSON
// bodies only (415), known paths with another method (405); and limits loose enough for the largest
// legitimate request, a 10,000-item tree with raw Ardoq fields on every node.

const WORKITEMS = '/api/azure-devops/projects/Agile%20Project/workitems';
const CONFIGS = '/api/azure-devops/configurations';
const JSON_TYPE = { 'content-type': 'application/json' };

let counter = 0;
const epic = () => ({ _id: `rule-${++counter}`, name: `Rule epic ${counter}`, type: 'Epic' });
const post = (path: string, body: string, headers: Record<string, string> = JSON_TYPE): ApiCall => ({
  method: 'POST',
  path,
  headers,
  body,
});
const pathOf = (project: string) => `/api/azure-devops/projects/${project}/workitems`;

describe('request rules: project names, overwrite, 415, 405 and the legitimate extreme', () => {
  let api: InProcessApi;

  beforeAll(async () => {
    api = await startInProcessApi();
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  describe('project names follow Azure DevOps naming restrictions', () => {
    const forbidden: Array<[string, string]> = [
      ['65 characters', 'p'.repeat(65)],
      ['blank', '%20%20'],
      ['a slash (%2F)', 'a%2Fb'],
      ['a backslash', 'a%5Cb'],
      ['..', 'a..b'],
      ['only ..', '..'],
      ['a leading period', '.hidden'],
      ['a trailing period', 'name.'],
      ['a leading underscore', '_private'],
      ['a tab', 'a%09b'],
      ['DEL', 'a%7Fb'],
      ['an emoji (surrogate pair)', 'a%F0%9F%9A%80'],
      ...[...':~&%;@"?<>|#$*{},+=[]'].map((c): [string, string] => [`"${c}"`, `a${encodeURIComponent(c)}b`]),
      ...['CON', 'com1', 'LPT9', 'NUL', 'AUX', 'PRN', 'SERVER', 'SignalR', 'DefaultCollection', 'Web'].map(
        (name): [string, string] => [`reserved ${name}`, name],
      ),
      ...[
        'App_Browsers',
        'App_code',
        'App_Data',
        'App_GlobalResources',
        'App_LocalResources',
        'App_Themes',
        'App_WebResources',
        'bin',
        'web.config',
      ].map((name): [string, string] => [`IIS segment ${name}`, name]),
    ];

    it.each(forbidden)('POST …/workitems with %s → 400 naming project', async (_label, encoded) => {
      await expectRejected(api, post(pathOf(encoded), JSON.stringify({ epics: [epic()] })), 400, 'project');
    });

    it.each(forbidden)('GET …/workitems/check with %s → 400 naming project', async (_label, encoded) => {
      await expectRejected(api, { method: 'GET', path: `${pathOf(encoded)}/check` }, 400, 'project');
    });

    it.each([
      ["an apostrophe (CONTRACT.md §2 keeps it although Microsoft's list forbids it)", "O'Brien Team"],
      ['spaces, digits, dashes, parentheses, ! and a middle underscore', 'Team-1 (ops)! a_b'],
      ['64 characters', 'p'.repeat(64)],
      ['a reserved word inside a longer name', 'CON team web'],
      ['non-ASCII letters', 'Équipe Ørsted'],
    ])('accepts %s', async (_label, project) => {
      const answer = await api.call(
        post(pathOf(encodeURIComponent(project)), JSON.stringify({ epics: [epic()] })),
      );
      expect(answer.status, answer.text).toBe(202);
    });
  });

  describe('overwrite is true or false', () => {
    it.each(['1', 'yes', 'TRUE', 'True', 'on', '', ' true', 'false\u0000'])(
      'overwrite=%j → 400 naming overwrite',
      async (value) => {
        await expectRejected(
          api,
          {
            method: 'POST',
            path: WORKITEMS,
            query: { overwrite: value },
            headers: JSON_TYPE,
            body: JSON.stringify({ epics: [epic()] }),
          },
          400,
          'overwrite',
        );
      },
    );

    it.each([
      ['true', true],
      ['false', false],
      [undefined, false],
    ])('overwrite=%s → overwrite_mode %s', async (value, expected) => {
      const answer = await api.call({
        method: 'POST',
        path: WORKITEMS,
        ...(value === undefined ? {} : { query: { overwrite: value } }),
        headers: JSON_TYPE,
        body: JSON.stringify({ epics: [epic()] }),
      });
      expect(answer.status, answer.text).toBe(202);
      const id = (answer.json as { data: { sync_history_id: string } }).data.sync_history_id;
      const row = await api.call({ method: 'GET', path: `/api/sync-history/${id}` });
      expect((row.json as { data: { overwrite_mode: boolean } }).data.overwrite_mode).toBe(expected);
    });
  });

  describe('415 and 405', () => {
    it.each([
      ['text/plain', { 'content-type': 'text/plain' }],
      ['no Content-Type', {}],
      ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['JSON in another charset', { 'content-type': 'application/json; charset=iso-8859-1' }],
      ['a JSON look-alike', { 'content-type': 'application/jsonp' }],
    ])('a body sent as %s → 415', async (_label, headers) => {
      await expectRejected(api, post(WORKITEMS, JSON.stringify({ epics: [epic()] }), headers), 415);
      await expectRejected(
        api,
        post(CONFIGS, JSON.stringify({ name: 'n', organization: 'org', patToken: 'p' }), headers),
        415,
      );
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"'])(
      'accepts Content-Type %s',
      async (type) => {
        const answer = await api.call(
          post(WORKITEMS, JSON.stringify({ epics: [epic()] }), { 'content-type': type }),
        );
        expect(answer.status, answer.text).toBe(202);
      },
    );

    it('answers 405 with Allow and the envelope for a method the path does not have', async () => {
      const answer = await expectRejected(api, { method: 'DELETE', path: '/api/sync-history' }, 405);
      expect(answer.headers.allow).toBe('GET');
    });
  });

  it('accepts a legitimate 10,000-item tree: depth 8, _meta, 50 customFields and tags on every node', async () => {
    // 10 epics, 200 features, 9,790 stories: exactly 10,000 nodes.
    const body = buildTree(10, 20, (e, f) => (e * 20 + f < 190 ? 49 : 48), 'legit');
    const decorate = (node: Record<string, unknown>, n: number) => {
      node._meta = { created: '2026-01-01T00:00:00Z', lastModifiedBy: { id: `u${n % 7}`, name: 'Ada' } };
      node.customFields = Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [`cf_${i}`, i % 3 ? i : `v${i}`]),
      );
      node.tags = ['alpha', 'beta', `t${n % 5}`];
    };
    let n = 0;
    for (const e of body.epics) {
      decorate(e, n++);
      for (const f of e.children ?? []) {
        decorate(f, n++);
        for (const s of f.children ?? []) decorate(s, n++);
      }
    }
    const text = JSON.stringify(body);
    expect(n).toBe(10_000);
    expect(Buffer.byteLength(text)).toBeLessThan(10 * 1024 * 1024);

    const answer = await api.call(post(WORKITEMS, text));

    expect(answer.status, answer.text.slice(0, 500)).toBe(202);
  }, 120_000);
});
