import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArdoqComponentJson,
  type ArdoqSimulator,
  type ArdoqWorkspaceJson,
  DEMO_WORKSPACE_NAME,
  EDGE_CASES,
  type EdgeCaseKey,
  PLANNING_TYPES,
  startArdoqSimulator,
} from '#sim/ardoq/index.ts';

// The simulator is spoken to only with plain HTTP (global fetch, node:http where fetch cannot help), as a
// client speaks to Ardoq.

const TOKEN = 'ardoq-simulator-test-token';
const ORG = 'acme';
const USER_AGENT = 'ardoq-ado-sync-tests/1.0';
const OID = /^[0-9a-f]{24}$/;

type Json = Record<string, unknown>;
interface ListPage<T> {
  values: T[];
  _links: { next?: { href: string } };
  _meta: Json;
}

let sim: ArdoqSimulator;

function headersFor(target: ArdoqSimulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: `Bearer ${target.token}`,
    'User-Agent': USER_AGENT,
    ...(target.orgLabel && { 'X-org': target.orgLabel }),
    ...extra,
  };
}

const get = (path: string, init: RequestInit = {}, target = sim) =>
  fetch(path.startsWith('http') ? path : `${target.url}${path}`, { headers: headersFor(target), ...init });

async function getJson<T = Json>(path: string, target = sim): Promise<T> {
  const res = await get(path, {}, target);
  const body = (await res.json()) as T;
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return body;
}

/** Follows `_links.next` to the end, as the Ardoq docs tell a client to. */
async function collect<T>(path: string, target = sim): Promise<{ values: T[]; pages: ListPage<T>[] }> {
  const pages: ListPage<T>[] = [];
  let url: string | undefined = `${target.url}${path}`;
  while (url) {
    const page: ListPage<T> = await getJson<ListPage<T>>(url, target);
    expect(Object.keys(page).sort()).toEqual(['_links', '_meta', 'values']);
    pages.push(page);
    url = page._links.next?.href;
    if (pages.length > 1_000) throw new Error('too many pages');
  }
  expect(pages.at(-1)?._links).toEqual({});
  return { values: pages.flatMap((p) => p.values), pages };
}

/** node:http, because fetch always sends a User-Agent. */
function rawGet(
  target: ArdoqSimulator,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; contentType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${target.url}${path}`, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'] }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function expectError(res: Response, status: number, message?: string): Promise<Json> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Json;
  expect(body.status).toBe(status);
  if (message) expect(body.message).toBe(message);
  return body;
}

const demoComponents = () =>
  collect<ArdoqComponentJson>(`/api/v2/components?rootWorkspace=${sim.demoWorkspace.id}`);

beforeAll(async () => {
  sim = await startArdoqSimulator({ port: 0, token: TOKEN, orgLabel: ORG, seed: 7 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.setFaults({ latencyMs: 0, throttleEvery: 0, slowMs: 30_000 });
});

describe('authentication and required headers', () => {
  it('answers 401 JSON without a token and with a wrong one', async () => {
    const none = await fetch(`${sim.url}/api/v2/me`, { headers: { 'User-Agent': USER_AGENT, 'X-org': ORG } });
    expect(await expectError(none, 401)).toEqual({ message: 'Unauthorized', status: 401 });
    const wrong = await get('/api/v2/me', {
      headers: headersFor(sim, { Authorization: 'Bearer not-the-token' }),
    });
    await expectError(wrong, 401, 'Unauthorized');
    const basic = await get('/api/v2/me', { headers: headersFor(sim, { Authorization: `Basic ${TOKEN}` }) });
    await expectError(basic, 401, 'Unauthorized');
  });

  it('answers 403 JSON to a request without a User-Agent', async () => {
    const res = await rawGet(sim, '/api/v2/me', { Authorization: `Bearer ${TOKEN}`, 'X-org': ORG });
    expect(res.status).toBe(403);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 403 });
    const ok = await rawGet(sim, '/api/v2/me', {
      Authorization: `Bearer ${TOKEN}`,
      'X-org': ORG,
      'User-Agent': USER_AGENT,
    });
    expect(ok.status).toBe(200);
  });

  it('requires X-org when started with an orgLabel, and ignores it otherwise', async () => {
    const missing = await fetch(`${sim.url}/api/v2/me`, {
      headers: { Authorization: `Bearer ${TOKEN}`, 'User-Agent': USER_AGENT },
    });
    await expectError(missing, 401, 'Unknown organization');
    const other = await get('/api/v2/me', { headers: headersFor(sim, { 'X-org': 'someone-else' }) });
    await expectError(other, 401, 'Unknown organization');

    const open = await startArdoqSimulator({ seed: 7 });
    try {
      expect(open.orgLabel).toBeUndefined();
      expect(open.token).toMatch(/^[0-9a-f]{32}$/);
      for (const xOrg of [undefined, 'anything']) {
        const res = await fetch(`${open.url}/api/v2/me`, {
          headers: {
            Authorization: `Bearer ${open.token}`,
            'User-Agent': USER_AGENT,
            ...(xOrg && { 'X-org': xOrg }),
          },
        });
        expect(res.status).toBe(200);
      }
    } finally {
      await open.close();
    }
  });
});

describe('GET /api/v2/me', () => {
  it('names the user and the organization', async () => {
    const me = await getJson<{ user: Json; org: Json }>('/api/v2/me');
    expect(me.user).toEqual({
      _id: expect.stringMatching(OID),
      name: expect.any(String),
      email: expect.any(String),
    });
    expect(me.org).toMatchObject({ label: ORG, name: expect.any(String) });
  });
});

describe('workspaces', () => {
  it('pages the workspace list to the end without duplicates', async () => {
    const small = await startArdoqSimulator({ workspacePageSize: 2, seed: 7 });
    try {
      const added = [1, 2, 3].map((n) => small.addWorkspace({ name: `Extra ${n}`, description: 'added' }));
      const { values, pages } = await collect<ArdoqWorkspaceJson>('/api/v2/workspaces', small);
      expect(pages).toHaveLength(3);
      expect(pages[0]?._meta).toMatchObject({ pageSize: 2 });
      const ids = values.map((w) => w._id);
      expect(new Set(ids).size).toBe(6);
      expect(ids).toEqual([
        small.demoWorkspace.id,
        small.edgeCases.id,
        small.emptyWorkspace.id,
        ...added.map((w) => w.id),
      ]);
      expect(values.map((w) => w.name).slice(0, 3)).toEqual([
        DEMO_WORKSPACE_NAME,
        'Edge cases',
        'Empty workspace',
      ]);
    } finally {
      await small.close();
    }
  });

  it('answers one workspace with its metadata, and 404 for an unknown one', async () => {
    const workspace = await getJson<ArdoqWorkspaceJson>(`/api/v2/workspaces/${sim.demoWorkspace.id}`);
    expect(workspace).toEqual({
      _id: sim.demoWorkspace.id,
      name: DEMO_WORKSPACE_NAME,
      description: expect.any(String),
      componentModel: expect.stringMatching(OID),
      _meta: { created: expect.any(String), lastUpdated: expect.any(String) },
      _version: expect.any(Number),
    });
    const missing = await get('/api/v2/workspaces/0123456789abcdef01234567');
    expect(await expectError(missing, 404)).toEqual({ message: 'Workspace not found', status: 404 });
    await expectError(
      await get('/api/v2/workspaces/0123456789abcdef01234567/context'),
      404,
      'Workspace not found',
    );
  });

  it('answers the workspace context: component types with levels, reference types and fields', async () => {
    const context = await getJson<{
      componentTypes: Array<{ id: string; name: string; level: number }>;
      fields: Json[];
    }>(`/api/v2/workspaces/${sim.demoWorkspace.id}/context`);
    expect(context).toMatchObject({
      _id: sim.demoWorkspace.id,
      name: DEMO_WORKSPACE_NAME,
      referenceTypes: expect.any(Array),
    });
    const levels = Object.fromEntries(context.componentTypes.map((t) => [t.name, t.level]));
    expect(levels).toMatchObject({ Domain: 0, Initiative: 1, Epic: 2, Feature: 3, 'User Story': 4 });
    expect(context.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['priority', 'capability_map_order_level_0', 'acceptance_criteria', 'risk']),
    );
  });
});

describe('components of the demo workspace', () => {
  it('pages every component exactly once, following absolute same-origin next links', async () => {
    const { values, pages } = await demoComponents();
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages[0]?.values).toHaveLength(100);
    expect(pages[0]?._meta).toMatchObject({ pageSize: 100 });
    for (const page of pages.slice(0, -1)) {
      const next = new URL(page._links.next?.href ?? '');
      expect(next.origin).toBe(sim.url);
      expect(next.pathname).toBe('/api/v2/components');
      expect(next.searchParams.get('rootWorkspace')).toBe(sim.demoWorkspace.id);
      expect(next.searchParams.get('cursor')).toEqual(expect.any(String));
    }
    const ids = values.map((c) => c._id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(sim.demoWorkspace.components);
    expect(ids).toEqual(sim.components(sim.demoWorkspace.id).map((c) => c._id));
    expect(ids.length).toBeGreaterThan(150);
  });

  it('answers raw components: custom fields nested under customFields', async () => {
    const { values } = await demoComponents();
    for (const component of values) {
      expect(Object.keys(component).sort()).toEqual(
        [
          '_id',
          '_meta',
          '_version',
          'color',
          'componentKey',
          'customFields',
          'description',
          'icon',
          'image',
          'name',
          'parent',
          'rootWorkspace',
          'shape',
          'type',
          'typeId',
        ].sort(),
      );
      expect(component._id).toMatch(OID);
      expect(component.rootWorkspace).toBe(sim.demoWorkspace.id);
      expect(component.componentKey).toMatch(/^DEMO-\d+$/);
      expect(component._meta).toMatchObject({
        created: expect.any(String),
        createdBy: expect.stringMatching(OID),
        lastModifiedByName: expect.any(String),
        lastModifiedByEmail: expect.stringContaining('@'),
      });
    }
    const feature = values.find((c) => c.type === 'Feature');
    expect(feature?.customFields).toMatchObject({
      priority: expect.anything(),
      capability_map_order_level_0: expect.any(Number),
      context_description: expect.any(String),
      purpose: expect.any(String),
      input: expect.any(String),
      output_definition_of_done: expect.any(String),
      approach: expect.any(String),
    });
    const stories = values.filter((c) => c.type === 'User Story');
    expect(stories.every((s) => typeof s.customFields.acceptance_criteria === 'string')).toBe(true);
    expect(values.some((c) => Array.isArray(c.customFields.tags))).toBe(true);
    expect(values.some((c) => [1, 2, 3].includes(c.customFields.risk as number))).toBe(true);
    const priorities = new Set(values.map((c) => typeof c.customFields.priority));
    expect(priorities).toEqual(new Set(['string', 'number', 'undefined']));
  });

  it('is a well-formed tree, listed in an order that is not parents-first', async () => {
    const { values } = await demoComponents();
    const byId = new Map(values.map((c) => [c._id, c]));
    const count = (type: string) => values.filter((c) => c.type === type).length;
    expect(count('Domain')).toBe(2);
    expect(count('Initiative')).toBe(4);
    expect(count('Epic')).toBe(12);
    expect(count('Feature')).toBeGreaterThanOrEqual(24);
    expect(count('User Story')).toBeGreaterThanOrEqual(48);
    expect(
      values.filter((c) => !(PLANNING_TYPES as readonly string[]).includes(c.type)).length,
    ).toBeGreaterThanOrEqual(10);
    for (const component of values) {
      const level = PLANNING_TYPES.indexOf(component.type as (typeof PLANNING_TYPES)[number]);
      if (level <= 0) {
        expect(component.parent, component.name).toBeNull();
        continue;
      }
      const parent = byId.get(component.parent ?? '');
      expect(parent?.type, component.name).toBe(PLANNING_TYPES[level - 1]);
      const children = values.filter((c) => c.parent === component._id).length;
      if (level < 4) expect(children, component.name).toBeGreaterThanOrEqual(2);
    }
    const seen = new Set<string>();
    let childBeforeParent = false;
    for (const component of values) {
      if (component.parent && !seen.has(component.parent)) childBeforeParent = true;
      seen.add(component._id);
    }
    expect(childBeforeParent).toBe(true);
    expect(values.every((c) => c.name.trim() && c.description.trim())).toBe(true);
  });

  it('answers one component by id', async () => {
    const [first] = sim.components(sim.demoWorkspace.id);
    expect(await getJson(`/api/v2/components/${first?._id}`)).toEqual(first);
    await expectError(await get('/api/v2/components/0123456789abcdef01234567'), 404, 'Component not found');
  });
});

describe('component lists: filters and the other workspaces', () => {
  it('answers an empty last page for an unknown rootWorkspace and for the empty workspace', async () => {
    for (const id of ['0123456789abcdef01234567', sim.emptyWorkspace.id]) {
      const page = await getJson<ListPage<unknown>>(`/api/v2/components?rootWorkspace=${id}`);
      expect(page).toEqual({ values: [], _links: {}, _meta: { pageSize: 100 } });
    }
  });

  it('lists the components of every workspace without rootWorkspace', async () => {
    const { values } = await collect<ArdoqComponentJson>('/api/v2/components');
    const workspaces = new Set(values.map((c) => c.rootWorkspace));
    expect(workspaces).toEqual(new Set([sim.demoWorkspace.id, sim.edgeCases.id]));
    expect(new Set(values.map((c) => c._id)).size).toBe(sim.demoWorkspace.components + 21);
  });

  it('filters by parent and typeId', async () => {
    const all = sim.components(sim.demoWorkspace.id);
    const epic = all.find((c) => c.type === 'Epic') as ArdoqComponentJson;
    const { values: children } = await collect<ArdoqComponentJson>(
      `/api/v2/components?rootWorkspace=${sim.demoWorkspace.id}&parent=${epic._id}`,
    );
    expect(children.map((c) => c._id).sort()).toEqual(
      all
        .filter((c) => c.parent === epic._id)
        .map((c) => c._id)
        .sort(),
    );
    const { values: epics } = await collect<ArdoqComponentJson>(
      `/api/v2/components?rootWorkspace=${sim.demoWorkspace.id}&typeId=${epic.typeId}`,
    );
    expect(epics).toHaveLength(12);
  });

  it('seeds the edge cases described in EDGE_CASES', async () => {
    const { values } = await collect<ArdoqComponentJson>(
      `/api/v2/components?rootWorkspace=${sim.edgeCases.id}`,
    );
    const { ids, missingParentId } = sim.edgeCases;
    const byId = new Map(values.map((c) => [c._id, c]));
    expect(values).toHaveLength(Object.keys(EDGE_CASES).length);
    const of = (key: EdgeCaseKey) => byId.get(ids[key]) as ArdoqComponentJson;
    for (const [key, def] of Object.entries(EDGE_CASES)) {
      expect(of(key as EdgeCaseKey)).toMatchObject({ name: def.name, type: def.type });
    }
    expect(of('orphanInitiative').parent).toBe(missingParentId);
    expect(missingParentId).toMatch(OID);
    expect(byId.has(missingParentId)).toBe(false);
    expect(of('featureUnderInitiative').parent).toBe(ids.initiative);
    expect(of('epicUnderEpic').parent).toBe(ids.epic);
    expect(of('cycleA').parent).toBe(ids.cycleB);
    expect(of('cycleB').parent).toBe(ids.cycleA);
    expect(of('selfParent').parent).toBe(ids.selfParent);
    expect(of('nestedDomain')).toMatchObject({ type: 'Domain', parent: ids.domain });
    expect(of('initiativeUnderNestedDomain').parent).toBe(ids.nestedDomain);
    expect(of('domain').parent).toBeNull();
    expect(of('longNameStory').name.length).toBeGreaterThan(255);
  });

  it('adds components through the programmatic API', async () => {
    const workspace = sim.addWorkspace({ name: 'Scratch' });
    const parent = sim.addComponent(workspace.id, { name: 'Root epic', type: 'Epic' });
    const child = sim.addComponent(workspace.id, {
      name: 'Child',
      type: 'Feature',
      parent: parent._id,
      customFields: { priority: 'High' },
    });
    expect(child).toMatchObject({
      parent: parent._id,
      rootWorkspace: workspace.id,
      customFields: { priority: 'High' },
    });
    const { values } = await collect<ArdoqComponentJson>(`/api/v2/components?rootWorkspace=${workspace.id}`);
    expect(values.map((c) => c.name)).toEqual(['Root epic', 'Child']);
  });
});

describe('errors', () => {
  it('answers 404 for unknown paths and 405 for other methods', async () => {
    await expectError(await get('/api/v2/references/nope'), 404);
    await expectError(await get('/api/v1/workspaces'), 404);
    const post = await get('/api/v2/workspaces', { method: 'POST', body: '{}' });
    await expectError(post, 405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('answers 400 to a bad, forged, expired or foreign cursor', async () => {
    const base = `/api/v2/components?rootWorkspace=${sim.demoWorkspace.id}`;
    await expectError(await get(`${base}&cursor=garbage`), 400);
    const first = await getJson<ListPage<unknown>>(base);
    const next = new URL(first._links.next?.href ?? '');
    const cursor = next.searchParams.get('cursor') ?? '';
    const [payload, signature] = cursor.split('.');
    const forged = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Json;
    forged.o = 0;
    await expectError(
      await get(`${base}&cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`),
      400,
    );
    await expectError(
      await get(`/api/v2/components?rootWorkspace=${sim.edgeCases.id}&cursor=${cursor}`),
      400,
    );
    expect((await get(next.href)).status).toBe(200);
    sim.expireCursors();
    await expectError(await get(next.href), 400, 'Cursor has expired');
  });
});

describe('faults', () => {
  it("'html' answers 200 with a sign-in page", async () => {
    sim.failNext('html');
    const res = await get('/api/v2/me');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('<form');
    expect((await get('/api/v2/me')).headers.get('content-type')).toMatch(/^application\/json/);
  });

  it("'throttle' answers 429 with Retry-After, 'server-error' 500, 'unauthorized' 401", async () => {
    sim.setFaults({ retryAfterSeconds: 3 });
    sim.failNext('throttle');
    const throttled = await get('/api/v2/workspaces');
    await expectError(throttled, 429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    sim.setFaults({ retryAfterSeconds: 1 });

    sim.failNext('server-error');
    await expectError(await get('/api/v2/workspaces'), 500);
    sim.failNext('unauthorized', 2);
    await expectError(await get('/api/v2/workspaces'), 401, 'Unauthorized');
    await expectError(await get('/api/v2/workspaces'), 401, 'Unauthorized');
    expect((await get('/api/v2/workspaces')).status).toBe(200);
  });

  it("'slow' outlasts a client timeout", async () => {
    sim.setFaults({ slowMs: 5_000 });
    sim.failNext('slow');
    await expect(get('/api/v2/me', { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect((await get('/api/v2/me')).status).toBe(200);
  });

  it("'drop' closes the socket without an answer", async () => {
    sim.resetStats();
    sim.failNext('drop');
    await expect(get('/api/v2/me')).rejects.toThrow();
    expect(sim.stats.dropped).toBe(1);
    expect((await get('/api/v2/me')).status).toBe(200);
  });

  it('scopes a fault to a path prefix', async () => {
    sim.failNext('server-error', 1, '/api/v2/components');
    expect((await get('/api/v2/me')).status).toBe(200);
    await expectError(await get(`/api/v2/components?rootWorkspace=${sim.emptyWorkspace.id}`), 500);
  });

  it('throttleEvery answers every n-th request 429', async () => {
    sim.setFaults({ throttleEvery: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await get('/api/v2/me')).status);
    expect(statuses).toEqual([200, 200, 429, 200, 200, 429, 200]);
  });
});

describe('stats and the request record', () => {
  it('counts requests per kind, pages, 429s and peak concurrency', async () => {
    sim.resetStats();
    await demoComponents();
    await getJson('/api/v2/me');
    sim.failNext('throttle');
    await get('/api/v2/workspaces');
    sim.setFaults({ latencyMs: 50 });
    await Promise.all(Array.from({ length: 5 }, () => get(`/api/v2/workspaces/${sim.emptyWorkspace.id}`)));
    const { stats } = sim;
    expect(stats.requestsByKind).toMatchObject({
      components: stats.pagesServed,
      me: 1,
      workspaces: 1,
      workspace: 5,
    });
    expect(stats.pagesServed).toBeGreaterThanOrEqual(2);
    expect(stats.requests).toBe(stats.pagesServed + 7);
    expect(stats.throttled).toBe(1);
    expect(stats.peakConcurrentRequests).toBeGreaterThanOrEqual(3);
    expect(stats.inFlight).toBe(0);
  });

  it('records headers without ever keeping the token', async () => {
    sim.clearRequests();
    await getJson('/api/v2/me');
    await fetch(`${sim.url}/api/v2/me`, {
      headers: { Authorization: 'Bearer wrong', 'User-Agent': USER_AGENT },
    });
    const [good, bad] = sim.requests;
    expect(good).toMatchObject({ method: 'GET', path: '/api/v2/me', kind: 'me', auth: 'valid', status: 200 });
    expect(good?.headers).toMatchObject({
      authorization: 'Bearer [token]',
      'user-agent': USER_AGENT,
      'x-org': ORG,
    });
    expect(bad).toMatchObject({ auth: 'invalid', status: 401, headers: { authorization: '[other]' } });
    expect(bad?.headers['x-org']).toBeUndefined();
    expect(JSON.stringify(sim.requests)).not.toContain(TOKEN);
  });
});

describe('generated workspaces and determinism', () => {
  it('generates a well-formed 5,000-component workspace that pages exactly', async () => {
    const bench = await startArdoqSimulator({ seed: 11, pageSize: 500 });
    try {
      const started = performance.now();
      const generated = bench.generateWorkspace({ name: 'Bench 5000', components: 5_000 });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(generated.components).toBe(5_000);
      const { values, pages } = await collect<ArdoqComponentJson>(
        `/api/v2/components?rootWorkspace=${generated.id}`,
        bench,
      );
      expect(pages).toHaveLength(10);
      expect(new Set(values.map((c) => c._id)).size).toBe(5_000);
      const byId = new Map(values.map((c) => [c._id, c]));
      for (const component of values) {
        const level = PLANNING_TYPES.indexOf(component.type as (typeof PLANNING_TYPES)[number]);
        expect(level).toBeGreaterThanOrEqual(0);
        if (level === 0) expect(component.parent).toBeNull();
        else expect(byId.get(component.parent ?? '')?.type).toBe(PLANNING_TYPES[level - 1]);
      }
      const counts = Object.fromEntries(
        PLANNING_TYPES.map((t) => [t, values.filter((c) => c.type === t).length]),
      );
      expect(counts).toEqual(generated.countsByType);
      expect(values.slice(0, 50).some((c) => c.type === 'User Story')).toBe(true);
    } finally {
      await bench.close();
    }
  });

  it('gives the same data with the same seed, and other ids with another', async () => {
    const [a, b, c] = await Promise.all([3, 3, 4].map((seed) => startArdoqSimulator({ seed })));
    try {
      if (!a || !b || !c) throw new Error('not started');
      const snapshot = (s: ArdoqSimulator) => ({
        workspaces: [s.demoWorkspace, s.edgeCases, s.emptyWorkspace],
        demo: s.components(s.demoWorkspace.id),
        edge: s.components(s.edgeCases.id),
        generated: s.components(s.generateWorkspace({ name: 'G', components: 300 }).id),
      });
      const [first, second, other] = [snapshot(a), snapshot(b), snapshot(c)];
      expect(second).toEqual(first);
      expect(other.workspaces[0]).not.toEqual(first.workspaces[0]);
      const firstIds = new Set(first.demo.map((x) => x._id));
      expect(other.demo.filter((x) => firstIds.has(x._id))).toEqual([]);
    } finally {
      await Promise.all([a, b, c].map((s) => s?.close()));
    }
  });
});
