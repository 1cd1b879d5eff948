import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdoProjectControls, AdoSimulator } from '#sim/ado/index.ts';
import type { ArdoqSimulator } from '#sim/ardoq/index.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';

interface Envelope<T = unknown> {
  success: boolean;
  data: T;
  error?: string;
  message?: string;
  count?: number;
  details?: Array<{ path: string; message: string }>;
}
interface Node {
  _id: string;
  name: string;
  type: string;
  children?: Node[];
  [key: string]: unknown;
}
type ArdoqConfiguration = {
  id: string;
  name: string;
  apiHost: string;
  orgLabel?: string;
  isActive: boolean;
  isTested: boolean;
  testPassed: boolean;
  testError?: string;
};

/**
 * WORKFLOW.md §2 steps 2–7 through our API alone: Ardoq configurations, browsing a workspace, the
 * Azure DevOps projects and processes, against the local system with its two simulators.
 */
describe('the workflow: Ardoq, browsing, Azure DevOps projects', () => {
  let api: ContractSystem;
  let ardoq: ArdoqSimulator;
  let ado: AdoSimulator & AdoProjectControls;
  const body = <T>(answer: { json: unknown }) => answer.json as Envelope<T>;
  const get = async <T>(path: string) => {
    const answer = await api.call('GET', path);
    return { status: answer.status, body: body<T>(answer), headers: answer.headers };
  };

  beforeAll(async () => {
    api = await startContractSystem({ projectCreateWaitMs: 4_000 });
    if (!api.system.ardoqSimulator || !api.system.simulator)
      throw new Error('the local system runs without its simulators');
    ardoq = api.system.ardoqSimulator;
    ado = api.system.simulator as AdoSimulator & AdoProjectControls;
  }, 120_000);
  afterAll(async () => {
    // No answer of this file ever carried a credential.
    const all = api?.transcript.join('\n') ?? '';
    try {
      expect(all).not.toContain(ardoq.token);
      expect(all).not.toContain(api.simulatorPat);
    } finally {
      await api?.close();
    }
  });

  describe('Ardoq configurations', () => {
    const C = '/api/ardoq/configurations';
    const create = (fields: Record<string, unknown>) =>
      api.call('POST', C, { body: { apiHost: ardoq.url, orgLabel: ardoq.orgLabel, ...fields } });

    it('starts with the simulator configured, tested and active', async () => {
      const active = await get<ArdoqConfiguration>(`${C}/active`);
      expect(active.status).toBe(200);
      expect(active.body.data).toMatchObject({ apiHost: ardoq.url, isActive: true, testPassed: true });
      const list = await get<ArdoqConfiguration[]>(C);
      expect(list.body.count).toBe(list.body.data.length);
    });

    it('creates one: tests the token first and stores the result either way, never the token', async () => {
      const good = await create({ name: unique('Ardoq good'), apiToken: ardoq.token });
      expect(good.status, good.text).toBe(201);
      const created = body<{
        configuration: ArdoqConfiguration;
        testResult: { success: boolean; user?: unknown };
      }>(good);
      expect(created.data.configuration).toMatchObject({
        isTested: true,
        testPassed: true,
        isActive: false,
        orgLabel: ardoq.orgLabel,
      });
      expect(created.data.testResult).toMatchObject({ success: true, user: expect.any(Object) });
      expect(good.text).not.toContain('apiToken');

      const bad = await create({
        name: unique('Ardoq bad'),
        apiToken: 'wrong-token-0123456789',
        setActive: true,
      });
      expect(bad.status).toBe(201);
      const refused = body<{
        configuration: ArdoqConfiguration;
        testResult: { success: boolean; error: string };
      }>(bad);
      expect(refused.data.configuration).toMatchObject({ testPassed: false, isActive: false });
      expect(refused.data.configuration.testError).toMatch(/Ardoq refused the API token \(HTTP 401\)/);
      expect(refused.message).toMatch(/test failed.*not activated/);
      // Still the simulator that is active.
      expect((await get<ArdoqConfiguration>(`${C}/active`)).body.data.apiHost).toBe(ardoq.url);

      const trail = await get<Array<{ action_type: string; details: Record<string, unknown> }>>(
        `/api/audit-logs?entity_id=${created.data.configuration.id}`,
      );
      expect(trail.body.data.map((e) => e.action_type)).toEqual(['config_created']);
      expect(trail.body.data[0]?.details).toMatchObject({ system: 'ardoq', test_passed: true });
      expect(JSON.stringify(trail.body)).not.toContain(ardoq.token);
    });

    it.each([
      ['a host that is not Ardoq', { apiHost: 'https://evil.example.com' }, 'apiHost'],
      ['plain http to Ardoq', { apiHost: 'http://app.ardoq.com' }, 'apiHost'],
      ['credentials in the host', { apiHost: 'https://u:p@app.ardoq.com' }, 'apiHost'],
      ['no token', { apiToken: '' }, 'apiToken'],
      ['no name', { name: '  ' }, 'name'],
    ])('refuses %s with a 400 naming the field, writing nothing', async (_label, fields, field) => {
      const before = (await get<unknown[]>(C)).body.data.length;
      const answer = await create({ name: unique('Ardoq x'), apiToken: ardoq.token, ...fields });
      expect(answer.status, answer.text).toBe(400);
      expect(body(answer).details?.map((d) => d.path)).toContain(field);
      expect((await get<unknown[]>(C)).body.data.length).toBe(before);
    });

    it('refuses a duplicate name (any case) with a 409', async () => {
      const name = unique('Ardoq dup');
      expect((await create({ name, apiToken: ardoq.token })).status).toBe(201);
      const again = await create({ name: name.toUpperCase(), apiToken: ardoq.token });
      expect(again.status).toBe(409);
      expect(body(again).error).toMatch(/already exists/);
    });

    it('a new token refused with its change (a taken name, 409) leaves the stored token as it was', async () => {
      const taken = unique('Ardoq taken');
      expect((await create({ name: taken, apiToken: ardoq.token })).status).toBe(201);
      const made = body<{ configuration: ArdoqConfiguration }>(
        await create({ name: unique('Ardoq keep'), apiToken: ardoq.token }),
      );
      const id = made.data.configuration.id;

      const refused = await api.call('PUT', `${C}/${id}`, {
        body: { name: taken, apiToken: 'another-token-0123456789' },
      });
      expect(refused.status, refused.text).toBe(409);

      // The stored token is still the one that works: the new one would be refused (401).
      const tested = await get<ArdoqConfiguration>(`/api/ardoq/test-connection?configId=${id}`);
      expect(tested.body).toMatchObject({ success: true, configuration: { testPassed: true } });
    });

    it('updates: a new host needs its token; a new token resets the test; isActive deactivates and activates', async () => {
      const made = body<{ configuration: ArdoqConfiguration }>(
        await create({ name: unique('Ardoq edit'), apiToken: ardoq.token }),
      );
      const id = made.data.configuration.id;

      const moved = await api.call('PUT', `${C}/${id}`, { body: { apiHost: 'https://acme.ardoq.com' } });
      expect(moved.status).toBe(400);
      expect(body(moved).details?.[0]).toMatchObject({
        path: 'apiHost',
        message: expect.stringMatching(/needs its own API token/),
      });

      const activated = await api.call('PUT', `${C}/${id}`, { body: { name: 'Renamed', isActive: true } });
      expect(body<ArdoqConfiguration>(activated).data).toMatchObject({ name: 'Renamed', isActive: true });
      const deactivated = await api.call('PUT', `${C}/${id}`, { body: { isActive: false } });
      expect(body<ArdoqConfiguration>(deactivated).data.isActive).toBe(false);
      expect(body(deactivated).message).toMatch(/no Ardoq configuration is active/);

      const retokened = await api.call('PUT', `${C}/${id}`, {
        body: { apiToken: 'another-token-0123456789' },
      });
      expect(body<ArdoqConfiguration>(retokened).data).toMatchObject({ isTested: false, testPassed: false });
      const refused = await api.call('POST', `${C}/${id}/activate`);
      expect(refused.status).toBe(400);
      const tested = await get<ArdoqConfiguration>(`/api/ardoq/test-connection?configId=${id}`);
      expect(tested.status).toBe(200); // a failed test is an answer, not an error
      expect(tested.body).toMatchObject({
        success: true,
        configuration: { isTested: true, testPassed: false },
      });

      // Back to the simulator as the active one.
      expect((await api.call('POST', `${C}/local-ardoq-simulator/activate`)).status).toBe(200);
      expect((await api.call('DELETE', `${C}/${id}`)).status).toBe(200);
      expect((await get(`${C}/${id}`)).status).toBe(404);
    });

    it('test-connection: the active one by default, 404 for an unknown id', async () => {
      const tested = await get<{ user?: unknown; timestamp: string }>('/api/ardoq/test-connection');
      expect(tested.body).toMatchObject({ success: true, configuration: { testPassed: true } });
      expect(tested.body.data.timestamp).toEqual(expect.any(String));
      expect((await get('/api/ardoq/test-connection?configId=no-such-config')).status).toBe(404);
    });
  });

  describe('browsing', () => {
    const W = '/api/ardoq/workspaces';

    it('lists the workspaces, the domains and the initiatives of the demo workspace', async () => {
      const workspaces = await get<{ values: Node[] }>(W);
      expect(workspaces.body.data.values.map((w) => w.name)).toEqual(
        expect.arrayContaining(['Demo Planning', 'Edge cases']),
      );
      const ws = ardoq.demoWorkspace.id;
      const domains = await get<Array<{ id: string; name: string; type: string }>>(`${W}/${ws}/domains`);
      expect(domains.body.data.length).toBe(2);
      expect(domains.body.data.every((d) => d.type === 'Domain')).toBe(true);
      const initiatives = await get<Array<{ id: string; parent: string }>>(
        `${W}/${ws}/domains/${domains.body.data[0]?.id}/initiatives`,
      );
      expect(initiatives.body.data.length).toBe(2);
      expect(initiatives.body.data.every((i) => i.parent === domains.body.data[0]?.id)).toBe(true);
      expect((await get(`${W}/${ws}`)).body.data).toMatchObject({ _id: ws });
      expect(
        (await get<{ componentTypes: unknown[] }>(`${W}/${ws}/context`)).body.data.componentTypes.length,
      ).toBeGreaterThan(0);
      const raw = await get<Node[]>(`${W}/${ws}/components`);
      expect(raw.body.data).toHaveLength(ardoq.demoWorkspace.components);
    });

    it('serves an initiative’s hierarchy: every planning component under it once, raw keys kept, siblings ordered', async () => {
      const ws = ardoq.demoWorkspace.id;
      const all = ardoq.components(ws);
      const domain = all.find((c) => c.type === 'Domain');
      const initiative = all.find((c) => c.type === 'Initiative' && c.parent === domain?._id);
      const answer = await get<Node>(`${W}/${ws}/initiatives/${initiative?._id}/hierarchy`);
      expect(answer.status).toBe(200);
      const root = answer.body.data;
      expect(root).toMatchObject({
        _id: initiative?._id,
        name: initiative?.name,
        type: 'Initiative',
        componentKey: initiative?.componentKey,
      });
      expect(root).not.toHaveProperty('_skipped');
      // Exactly the components whose chain leads to this initiative.
      const below = new Set<string>();
      let grew = true;
      while (grew) {
        grew = false;
        for (const c of all) {
          if (!below.has(c._id) && (c.parent === initiative?._id || (c.parent && below.has(c.parent)))) {
            below.add(c._id);
            grew = true;
          }
        }
      }
      const seen: string[] = [];
      const walk = (node: Node, depth: number) => {
        if (depth > 0) seen.push(node._id);
        const kids = node.children ?? [];
        if (depth === 3) expect(node).not.toHaveProperty('children');
        const orders = kids.map(
          (k) => (k.customFields as Record<string, unknown> | undefined)?.capability_map_order_level_0,
        );
        const numeric = orders.filter((o): o is number => typeof o === 'number');
        expect(numeric).toEqual([...numeric].sort((a, b) => a - b));
        for (const kid of kids) walk(kid, depth + 1);
      };
      walk(root, 0);
      expect(seen.sort()).toEqual([...below].sort());
      const story = root.children?.[0]?.children?.[0]?.children?.[0];
      expect(story).toHaveProperty('customFields');
      expect(story).toHaveProperty('_meta');
    });

    it('skips misplaced components with a reason instead of failing (the edge-case workspace)', async () => {
      const ws = ardoq.edgeCases.id;
      const ids = ardoq.edgeCases.ids;
      const answer = await get<Node & { _skipped: Array<{ id: string; reason: string }> }>(
        `${W}/${ws}/initiatives/${ids.initiative}/hierarchy`,
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const skipped = new Map(answer.body.data._skipped.map((s) => [s.id, s.reason]));
      for (const key of [
        'orphanInitiative',
        'epicUnderOrphan',
        'featureUnderInitiative',
        'storyUnderMisplacedFeature',
        'epicUnderEpic',
        'cycleA',
        'cycleB',
        'selfParent',
      ] as const) {
        expect(skipped.get(ids[key]), key).toEqual(expect.any(String));
      }
      const text = JSON.stringify(answer.body.data.children);
      expect(text).toContain('Normal Story 1');
      expect(text).not.toContain('Feature directly under an Initiative');
      // A nested domain is a domain: its initiative is reachable.
      const nested = await get<Node>(`${W}/${ws}/initiatives/${ids.initiativeUnderNestedDomain}/hierarchy`);
      expect(nested.status).toBe(200);
      const domains = await get<Array<{ id: string }>>(`${W}/${ws}/domains`);
      expect(domains.body.data.map((d) => d.id)).toEqual(
        expect.arrayContaining([ids.domain, ids.nestedDomain]),
      );
      // Not an initiative, or skipped: 404.
      expect((await get(`${W}/${ws}/initiatives/${ids.orphanInitiative}/hierarchy`)).status).toBe(404);
      expect((await get(`${W}/${ws}/initiatives/${ids.epic}/hierarchy`)).status).toBe(404);
    });

    it('answers an unknown workspace with 404 where the client named it, an empty list where it lists', async () => {
      const unknown = '0123456789abcdef01234567';
      expect((await get(`${W}/${unknown}`)).status).toBe(404);
      const domains = await get<unknown[]>(`${W}/${unknown}/domains`);
      expect(domains.status).toBe(200);
      expect(domains.body.data).toEqual([]);
    });

    it.each([
      ['a traversal in the workspace id', `${W}/..%2F..%2Fme/domains`, 'workspaceId'],
      ['a dot-dot workspace id', `${W}/../domains`, ''],
      ['a space in an initiative id', `${W}/abc/initiatives/a%20b/hierarchy`, 'initiativeId'],
      ['a configId of 256 characters', `${W}?configId=${'x'.repeat(256)}`, 'configId'],
    ])('refuses %s with a 4xx before calling Ardoq', async (_label, path, field) => {
      const before = ardoq.stats.requests;
      const answer = await api.call('GET', path);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      if (field) expect(body(answer).details?.map((d) => d.path)).toContain(field);
      expect(ardoq.stats.requests).toBe(before);
    });

    it.each([
      ['a refused token', 'unauthorized', 1, 502, /Ardoq refused the API token \(HTTP 401\)/],
      ['a sign-in page', 'html', 1, 502, /web page instead of JSON/],
      ['a 500 twice (one retry)', 'server-error', 2, 502, /Ardoq failed \(HTTP 500\)/],
      ['throttling four times', 'throttle', 4, 503, /throttling/],
    ] as const)(
      'answers %s with our sentence, never Ardoq’s body nor our own 401',
      async (_label, kind, count, status, sentence) => {
        ardoq.failNext(kind, count);
        const answer = await api.call('GET', W);
        expect(answer.status).toBe(status);
        expect(body(answer).error).toMatch(sentence);
        expect(answer.text).not.toMatch(/Unauthorized"|<html|Sign in/i);
        if (status === 503) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      },
    );

    it('resolves configId as WORKFLOW.md §1 says: unknown 404, untested 409', async () => {
      expect((await get(`${W}?configId=no-such-config`)).status).toBe(404);
      const made = await api.call('POST', '/api/ardoq/configurations', {
        body: { name: unique('Untested'), apiToken: 'wrong-token-0123456789', apiHost: ardoq.url },
      });
      const id = body<{ configuration: { id: string } }>(made).data.configuration.id;
      const untested = await get(`${W}?configId=${id}`);
      expect(untested.status).toBe(409);
      expect(untested.body.error).toMatch(/has not passed the connection test/);
    });
  });

  describe('Azure DevOps projects and processes', () => {
    const P = '/api/azure-devops/projects';

    it('lists every project and the enabled processes', async () => {
      const projects = await get<Array<{ id: string; name: string; state: string }>>(P);
      expect(projects.body.data.map((p) => p.name)).toEqual(
        expect.arrayContaining(['Agile Project', 'Scrum Project']),
      );
      expect(projects.body.count).toBe(projects.body.data.length);
      const processes = await get<Array<{ name: string; typeId: string; isEnabled: boolean }>>(
        '/api/azure-devops/processes',
      );
      expect(processes.body.data.map((p) => p.name)).toEqual(
        expect.arrayContaining(['Agile', 'Scrum', 'CMMI', 'Basic']),
      );
      expect(processes.body.data.every((p) => p.isEnabled)).toBe(true);
    });

    it('creates a project (Agile and Git by default), waiting for Azure DevOps; a second of that name is a 409', async () => {
      ado.setProjectCreateDelay(300);
      const name = unique('Created');
      const answer = await api.call('POST', P, { body: { name, visibility: 'private' } });
      expect(answer.status, answer.text).toBe(202);
      expect(body<{ status: string }>(answer)).toMatchObject({
        message: 'Project created',
        data: { status: 'succeeded' },
      });
      const project = ado.projects().find((p) => p.name === name);
      expect(project).toMatchObject({ process: 'Agile' });
      expect((await get<Array<{ name: string }>>(P)).body.data.map((p) => p.name)).toContain(name);

      const again = await api.call('POST', P, { body: { name: name.toLowerCase() } });
      expect(again.status).toBe(409);
      expect(body(again).error).toMatch(/already exists/);
    });

    it.each([
      ['a name with a slash', { name: 'a/b' }, 'name'],
      ['no name', {}, 'name'],
      ['an unknown visibility', { name: 'Vis', visibility: 'secret' }, 'visibility'],
      [
        'a process id that is no uuid',
        { name: 'Proc', capabilities: { processTemplate: { templateTypeId: 'agile' } } },
        'capabilities.processTemplate.templateTypeId',
      ],
    ])('refuses %s with a 400 naming the field', async (_label, payload, field) => {
      const before = ado.projects().length;
      const answer = await api.call('POST', P, { body: payload });
      expect(answer.status).toBe(400);
      expect(body(answer).details?.map((d) => d.path)).toContain(field);
      expect(ado.projects().length).toBe(before);
    });

    it('a sync into a project Azure DevOps is still creating waits for it, then runs', async () => {
      ado.setProjectCreateDelay(6_000);
      const name = unique('Slow');
      const answer = await api.call('POST', P, { body: { name } });
      expect(answer.status).toBe(202);
      expect(body<{ status: string }>(answer).data.status).not.toBe('succeeded');
      const syncId = await api.system.startSync(name, {
        epics: [
          {
            _id: `e-${name}`,
            name: 'Epic in a new project',
            type: 'Epic',
            children: [{ _id: `f-${name}`, name: 'Feature', type: 'Feature' }],
          },
        ],
      });
      const done = await api.system.waitForTerminal(syncId, 60_000);
      expect(done).toMatchObject({ status: 'completed', items_created: 2 });
      ado.setProjectCreateDelay(300);
    }, 90_000);

    it('records the active Ardoq configuration as a sync’s source', async () => {
      const syncId = await api.system.startSync('Agile Project', {
        epics: [{ _id: unique('src'), name: 'Sourced', type: 'Epic' }],
      });
      const sync = (await get<{ source_config_id?: string }>(`/api/sync-history/${syncId}`)).body.data;
      expect(sync.source_config_id).toBe('local-ardoq-simulator');
    });
  });
});
