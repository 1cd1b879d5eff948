import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdoProjectControls,
  type AdoSimulator,
  type AdoSimulatorOptions,
  startAdoSimulator,
} from '#sim/ado/index.ts';

// Projects, operations and processes of the Azure DevOps simulator, spoken to with plain fetch as a
// client speaks to the service (REST 7.1, Basic auth with the PAT).

const PAT = 'projects-simulator-test-pat';
const API = 'api-version=7.1';
const AGILE = 'adcc42ab-9882-485e-a3ed-7678f01f66bc';
const SCRUM = '6b724908-ef14-45cf-84f8-768b5384da45';
const CMMI = '27450541-8e31-4150-9947-dc59f998fc01';
const BASIC = 'b8a3a935-7e91-48b8-a94c-606d37c3e9f2';
const NO_PARENT = '00000000-0000-0000-0000-000000000000';

type Sim = AdoSimulator & AdoProjectControls;
type Json = Record<string, unknown>;
interface ProjectList {
  count: number;
  value: Json[];
}

let sim: Sim;

const basic = (pat: string) => `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;
const enc = encodeURIComponent;
const unique = (prefix: string) => `${prefix} ${randomUUID().slice(0, 8)}`;

async function call(
  method: string,
  path: string,
  body?: unknown,
  options: { pat?: string | null; query?: string; contentType?: string; on?: Sim } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  const pat = options.pat === undefined ? PAT : options.pat;
  if (pat !== null) headers.Authorization = basic(pat);
  if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  const query = [options.query, API].filter(Boolean).join('&');
  const url = `${(options.on ?? sim).url}${path}${path.includes('?') ? '&' : '?'}${query}`;
  return fetch(url, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

async function json<T = Json>(res: Response, status = 200): Promise<T> {
  const body = (await res.json()) as T;
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

async function expectError(res: Response, status: number, messageStart: string): Promise<Json> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Json;
  expect(body).toMatchObject({ $id: '1', innerException: null, errorCode: 0, eventId: 3200 });
  expect(String(body.message).startsWith(messageStart), String(body.message)).toBe(true);
  expect(body.typeKey).toEqual(expect.any(String));
  expect(body.typeName).toEqual(expect.stringContaining(String(body.typeKey)));
  return body;
}

const projectMissing = (name: string) =>
  `TF200016: The following project does not exist: ${name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`;

const createBody = (name: string, templateTypeId = SCRUM, more: Json = {}) => ({
  name,
  description: `${name} description`,
  capabilities: { versioncontrol: { sourceControlType: 'Git' }, processTemplate: { templateTypeId } },
  ...more,
});

const postProject = (body: unknown, on?: Sim) => call('POST', '/_apis/projects', body, on ? { on } : {});

async function queue(name: string, templateTypeId = SCRUM): Promise<Json & { id: string; url: string }> {
  return json(await postProject(createBody(name, templateTypeId)), 202);
}

const operation = async (id: string) =>
  json<Json & { status: string }>(await call('GET', `/_apis/operations/${id}`));

/** Polls the operation until it ends; answers every status seen, in order. */
async function statusesUntilDone(id: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 200; i++) {
    const { status } = await operation(id);
    if (seen.at(-1) !== status) seen.push(status);
    if (!['queued', 'inProgress'].includes(status)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  throw new Error(`operation ${id} did not end: ${seen.join(' → ')}`);
}

async function listAll(query = ''): Promise<Json[]> {
  return (await json<ProjectList>(await call('GET', '/_apis/projects', undefined, { query }))).value;
}

beforeAll(async () => {
  sim = await startAdoSimulator({ pat: PAT, port: 0, projectCreateDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.setProjectCreateDelay(0);
  sim.setFaults({});
});

async function withSim(options: Partial<AdoSimulatorOptions>, run: (other: Sim) => Promise<void>) {
  const other = await startAdoSimulator({ pat: PAT, port: 0, ...options });
  try {
    await run(other);
  } finally {
    await other.close();
  }
}

describe('GET /_apis/projects', () => {
  const FIVE = ['Delta', 'alpha', 'Echo', 'charlie', 'Bravo'].map((name) => ({
    name,
    process: 'Agile' as const,
  }));

  it('pages by continuation token: each project exactly once, the header until the last page', async () => {
    await withSim({ projects: FIVE, projectPageSize: 2 }, async (other) => {
      const names: string[] = [];
      const pages: number[] = [];
      let token: string | null = null;
      for (let page = 0; page < 10; page++) {
        const query: string = token ? `continuationToken=${enc(token)}` : '';
        const res = await call('GET', '/_apis/projects', undefined, { on: other, query });
        const body = await json<ProjectList>(res);
        expect(body.count).toBe(body.value.length);
        names.push(...body.value.map((p) => String(p.name)));
        pages.push(body.value.length);
        token = res.headers.get('x-ms-continuationtoken');
        if (!token) break;
      }
      expect(pages).toEqual([2, 2, 1]);
      // Stable order: creation order.
      expect(names).toEqual(FIVE.map((p) => p.name));
    });
  });

  it('answers $top projects, $skip skips, and a maximum page size caps a large $top', async () => {
    await withSim({ projects: FIVE, projectPageSize: 2 }, async (other) => {
      const top3 = await call('GET', '/_apis/projects', undefined, { on: other, query: '$top=3' });
      expect((await json<ProjectList>(top3)).count).toBe(3);
      expect(top3.headers.get('x-ms-continuationtoken')).toBeTruthy();
      const skipped = await call('GET', '/_apis/projects', undefined, {
        on: other,
        query: '$top=10&$skip=3',
      });
      expect((await json<ProjectList>(skipped)).value.map((p) => p.name)).toEqual(['charlie', 'Bravo']);
      expect(skipped.headers.get('x-ms-continuationtoken')).toBeNull();
    });
    await withSim({ projects: FIVE, projectMaxPageSize: 2 }, async (other) => {
      const res = await call('GET', '/_apis/projects', undefined, { on: other, query: '$top=500' });
      expect((await json<ProjectList>(res)).count).toBe(2);
      expect(res.headers.get('x-ms-continuationtoken')).toBeTruthy();
    });
  });

  it('answers references with id, url, state, revision, visibility and lastUpdateTime; 100 per page by default', async () => {
    const value = await listAll();
    expect(value.length).toBeGreaterThanOrEqual(4);
    const agile = value.find((p) => p.name === 'Agile Project');
    expect(agile).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      name: 'Agile Project',
      url: `${sim.url}/_apis/projects/${String(agile?.id)}`,
      state: 'wellFormed',
      revision: expect.any(Number),
      visibility: 'private',
      lastUpdateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('answers 400 for a continuation token it did not give, a bad $top or stateFilter', async () => {
    await expectError(
      await call('GET', '/_apis/projects', undefined, { query: 'continuationToken=nonsense' }),
      400,
      'The continuation token is not valid',
    );
    await expectError(
      await call('GET', '/_apis/projects', undefined, { query: '$top=-1' }),
      400,
      'The value',
    );
    await expectError(
      await call('GET', '/_apis/projects', undefined, { query: 'stateFilter=odd' }),
      400,
      'The value',
    );
  });
});

describe('GET /_apis/projects/{project}', () => {
  it('answers the project by name (case-insensitively) or id, with capabilities when asked for', async () => {
    const [scrum] = (await listAll()).filter((p) => p.name === 'Scrum Project');
    const byName = await json(await call('GET', `/_apis/projects/${enc('scrum PROJECT')}`));
    expect(byName).toMatchObject({ id: scrum?.id, name: 'Scrum Project', state: 'wellFormed' });
    expect(byName).not.toHaveProperty('capabilities');
    expect(byName.defaultTeam).toMatchObject({ name: 'Scrum Project Team', id: expect.any(String) });

    const byId = await json(
      await call('GET', `/_apis/projects/${String(scrum?.id)}`, undefined, {
        query: 'includeCapabilities=true',
      }),
    );
    expect(byId).toMatchObject({
      id: scrum?.id,
      name: 'Scrum Project',
      capabilities: {
        processTemplate: { templateName: 'Scrum', templateTypeId: SCRUM },
        versioncontrol: { sourceControlType: 'Git' },
      },
      defaultTeam: { name: 'Scrum Project Team' },
      _links: { self: { href: `${sim.url}/_apis/projects/${String(scrum?.id)}` } },
    });
  });

  it('answers 404 TF200016 for an unknown project, as the work item APIs do', async () => {
    const body = await expectError(
      await call('GET', `/_apis/projects/${enc('No Such Project')}`),
      404,
      projectMissing('No Such Project'),
    );
    const fromWit = await expectError(
      await call('GET', `/${enc('No Such Project')}/_apis/wit/workitemtypes`),
      404,
      projectMissing('No Such Project'),
    );
    expect(body.typeKey).toBe(fromWit.typeKey);
  });
});

describe('GET /_apis/work/processes', () => {
  it('lists the four system processes with their type ids, Agile the default', async () => {
    const body = await json<{ count: number; value: Json[] }>(await call('GET', '/_apis/work/processes'));
    const system = body.value.filter((p) => p.customizationType === 'system');
    expect(body.count).toBe(body.value.length);
    expect(Object.fromEntries(system.map((p) => [p.name, p.typeId]))).toEqual({
      Agile: AGILE,
      Scrum: SCRUM,
      CMMI: CMMI,
      Basic: BASIC,
    });
    for (const p of system) {
      expect(p).toMatchObject({ parentProcessTypeId: NO_PARENT, isEnabled: true, referenceName: null });
      expect(p.description).toEqual(expect.stringContaining('template'));
      expect(p.isDefault).toBe(p.name === 'Agile');
    }
  });

  it('shows an inherited process and a disabled one; a project created with it gets the parent types', async () => {
    const name = unique('Custom Agile');
    const typeId = sim.addInheritedProcess(name, 'Agile', { description: 'ours' });
    const disabledId = sim.addInheritedProcess(unique('Old Scrum'), 'Scrum', { enabled: false });
    const { value } = await json<{ value: Json[] }>(await call('GET', '/_apis/work/processes'));
    expect(value.find((p) => p.typeId === typeId)).toEqual({
      typeId,
      name,
      referenceName: `Inherited.${typeId.replace(/-/g, '')}`,
      description: 'ours',
      parentProcessTypeId: AGILE,
      isEnabled: true,
      isDefault: false,
      customizationType: 'inherited',
    });
    expect(value.find((p) => p.typeId === disabledId)).toMatchObject({
      isEnabled: false,
      parentProcessTypeId: SCRUM,
    });
    expect(sim.processes().map((p) => p.typeId)).toEqual(value.map((p) => p.typeId));

    const project = unique('Inherited Project');
    const op = await queue(project, typeId);
    expect(await statusesUntilDone(op.id)).toEqual(['succeeded']);
    const types = await json<{ value: Json[] }>(
      await call('GET', `/${enc(project)}/_apis/wit/workitemtypes`),
    );
    expect(types.value.map((t) => t.name)).toContain('User Story');
    const got = await json(
      await call('GET', `/_apis/projects/${enc(project)}`, undefined, { query: 'includeCapabilities=true' }),
    );
    expect(got.capabilities).toMatchObject({
      processTemplate: { templateName: name, templateTypeId: typeId },
    });

    // A seeded project may use it too, and $expand=projects lists both.
    const seeded = unique('Seeded Inherited');
    sim.addProject(seeded, name);
    const one = await json(
      await call('GET', `/_apis/work/processes/${typeId}`, undefined, { query: '$expand=projects' }),
    );
    expect((one.projects as Json[]).map((p) => p.name)).toEqual([project, seeded]);
  });

  it('throws on an inherited process with an unknown parent or a taken name', () => {
    expect(() => sim.addInheritedProcess('Agile', 'Agile')).toThrow();
    expect(() => sim.addInheritedProcess(unique('x'), 'Waterfall' as 'Agile')).toThrow();
  });
});

describe('POST /_apis/projects and GET /_apis/operations/{id}', () => {
  it('answers 202 with a queued operation that goes queued → inProgress → succeeded', async () => {
    sim.setProjectCreateDelay(600);
    const name = unique('Created');
    const op = await queue(name);
    expect(op).toEqual({
      id: expect.any(String),
      status: 'queued',
      url: `${sim.url}/_apis/operations/${op.id}`,
    });

    expect(await statusesUntilDone(op.id)).toEqual(['queued', 'inProgress', 'succeeded']);
    expect(await operation(op.id)).toEqual({
      id: op.id,
      status: 'succeeded',
      url: op.url,
      _links: { self: { href: op.url } },
    });

    const listed = (await listAll()).find((p) => p.name === name);
    expect(listed).toMatchObject({
      state: 'wellFormed',
      description: `${name} description`,
      visibility: 'private',
    });
    const types = await json<{ value: Json[] }>(await call('GET', `/${enc(name)}/_apis/wit/workitemtypes`));
    expect(types.value.map((t) => t.name)).toContain('Product Backlog Item');
    const created = await call(
      'POST',
      `/${enc(name)}/_apis/wit/workitems/$${enc('Product Backlog Item')}`,
      [{ op: 'add', path: '/fields/System.Title', value: 'First item' }],
      { contentType: 'application/json-patch+json' },
    );
    expect((await json(created)).fields).toMatchObject({
      'System.TeamProject': name,
      'System.Title': 'First item',
    });
    expect(sim.operations().find((o) => o.id === op.id)).toEqual({
      id: op.id,
      projectId: listed?.id,
      projectName: name,
      status: 'succeeded',
    });
  });

  it('keeps the project unusable until its operation succeeded: project-missing 404 everywhere', async () => {
    sim.setProjectCreateDelay(60_000);
    const name = unique('Pending');
    const op = await queue(name, AGILE);
    expect((await operation(op.id)).status).toBe('queued');

    await expectError(await call('GET', `/${enc(name)}/_apis/wit/workitemtypes`), 404, projectMissing(name));
    await expectError(
      await call(
        'POST',
        `/${enc(name)}/_apis/wit/workitems/$Task`,
        [{ op: 'add', path: '/fields/System.Title', value: 'x' }],
        {
          contentType: 'application/json-patch+json',
        },
      ),
      404,
      projectMissing(name),
    );
    await expectError(await call('GET', `/_apis/projects/${enc(name)}`), 404, projectMissing(name));
    // Listed only with a state filter that asks for projects under creation.
    expect((await listAll()).map((p) => p.name)).not.toContain(name);
    expect((await listAll('stateFilter=all')).find((p) => p.name === name)).toMatchObject({
      state: 'createPending',
    });
    expect((await listAll('stateFilter=createPending')).map((p) => p.name)).toEqual([name]);
    expect(sim.projects().find((p) => p.name === name)).toMatchObject({
      state: 'createPending',
      process: 'Agile',
    });

    sim.setProjectCreateDelay(0);
    expect((await operation(op.id)).status).toBe('succeeded');
    expect(
      (await json<{ value: Json[] }>(await call('GET', `/${enc(name)}/_apis/wit/workitemtypes`))).value,
    ).not.toHaveLength(0);
  });

  it('answers 409 TF200019 for a name in use, case-insensitively, being created included', async () => {
    const body = await expectError(
      await postProject(createBody('agile PROJECT')),
      409,
      'TF200019: The following project already exists on the Azure DevOps Server: agile PROJECT',
    );
    expect(body.typeKey).toBe('ProjectAlreadyExistsException');
    sim.setProjectCreateDelay(60_000);
    const name = unique('Twice');
    await queue(name);
    await expectError(await postProject(createBody(name.toUpperCase())), 409, 'TF200019');
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['65 characters', 'x'.repeat(65)],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a colon', 'a:b'],
    ['a semicolon', 'a;b'],
    ['a hash', 'a#b'],
    ['a dollar', 'a$b'],
    ['braces', 'a{b}'],
    ['brackets', 'a[b]'],
    ['a comma', 'a,b'],
    ['a plus', 'a+b'],
    ['an equals sign', 'a=b'],
    ['a pipe', 'a|b'],
    ['a quote', 'a"b'],
    ['angle brackets', 'a<b>'],
    ['a question mark', 'a?b'],
    ['a star', 'a*b'],
    ['a control character', 'a\tb'],
    ['a leading underscore', '_name'],
    ['a leading period', '.name'],
    ['a trailing period', 'name.'],
    ['a reserved name', 'COM1'],
    ['a reserved name in another case', 'defaultcollection'],
    ['an IIS segment', 'App_Data'],
    ['web.config', 'web.config'],
  ])('answers 400 for a name with %s', async (_case, name) => {
    await expectError(await postProject(createBody(name)), 400, 'The project name');
  });

  it('accepts a 64-character name with spaces, dashes and inner periods', async () => {
    const name = `A-b.c ${randomUUID()}`.padEnd(64, 'z');
    expect(name).toHaveLength(64);
    await queue(name);
  });

  it('answers 400 for a missing name, capabilities, unknown or disabled template, bad source control or visibility', async () => {
    await expectError(
      await postProject({ capabilities: createBody('x').capabilities }),
      400,
      'The project name is required',
    );
    await expectError(
      await postProject({ name: unique('NoCaps') }),
      400,
      'The project capabilities are required',
    );
    await expectError(
      await postProject({
        name: unique('NoVc'),
        capabilities: { processTemplate: { templateTypeId: AGILE } },
      }),
      400,
      'The project capabilities are required',
    );
    await expectError(
      await postProject(createBody(unique('Unknown'), randomUUID())),
      400,
      'The process template type id',
    );
    const disabled = sim.addInheritedProcess(unique('Disabled'), 'Basic', { enabled: false });
    await expectError(await postProject(createBody(unique('Disabled'), disabled)), 400, 'The process');
    await expectError(
      await postProject({
        name: unique('Svn'),
        capabilities: {
          versioncontrol: { sourceControlType: 'Svn' },
          processTemplate: { templateTypeId: AGILE },
        },
      }),
      400,
      'The source control type',
    );
    await expectError(
      await postProject(createBody(unique('Vis'), AGILE, { visibility: 'secret' })),
      400,
      'The project visibility',
    );
    const wrongType = await call('POST', '/_apis/projects', createBody(unique('Ct')), {
      contentType: 'text/plain',
    });
    await expectError(wrongType, 415, 'The request indicated a Content-Type');
  });

  it('creates public Tfvc projects with a case-insensitive template id', async () => {
    const name = unique('Public');
    const op = await json<{ id: string }>(
      await postProject({
        name,
        visibility: 'public',
        capabilities: {
          versioncontrol: { sourceControlType: 'tfvc' },
          processTemplate: { templateTypeId: BASIC.toUpperCase() },
        },
      }),
      202,
    );
    expect(await statusesUntilDone(op.id)).toEqual(['succeeded']);
    expect(
      await json(
        await call('GET', `/_apis/projects/${enc(name)}`, undefined, { query: 'includeCapabilities=true' }),
      ),
    ).toMatchObject({
      visibility: 'public',
      capabilities: {
        versioncontrol: { sourceControlType: 'Tfvc' },
        processTemplate: { templateName: 'Basic' },
      },
    });
  });

  it('ends the next creation failed with a resultMessage when the fault is queued; the name is free again', async () => {
    sim.failNextProjectCreate('TF30170: The plugin failed.');
    const name = unique('Doomed');
    const op = await queue(name);
    expect(await statusesUntilDone(op.id)).toEqual(['failed']);
    expect(await operation(op.id)).toMatchObject({
      status: 'failed',
      resultMessage: 'TF30170: The plugin failed.',
    });
    expect((await listAll('stateFilter=all')).map((p) => p.name)).not.toContain(name);
    await expectError(await call('GET', `/${enc(name)}/_apis/wit/workitemtypes`), 404, projectMissing(name));
    expect(sim.operations().find((o) => o.id === op.id)).toMatchObject({ status: 'failed' });

    const again = await queue(name);
    expect(await statusesUntilDone(again.id)).toEqual(['succeeded']);
  });

  it('answers 404 for an unknown operation', async () => {
    await expectError(await call('GET', `/_apis/operations/${randomUUID()}`), 404, 'The operation with id');
  });

  it('applies the transport faults to the new routes too', async () => {
    sim.failNext('any', 'throttle');
    await expectError(await postProject(createBody(unique('Throttled'))), 429, 'TF400733');
    sim.failNext('any', 'unavailable');
    await expectError(
      await call('GET', '/_apis/work/processes'),
      503,
      'The service is temporarily unavailable',
    );
  });
});

describe('authentication and statistics', () => {
  it.each([
    ['GET', '/_apis/projects'],
    ['GET', '/_apis/projects/Agile%20Project'],
    ['POST', '/_apis/projects'],
    ['GET', `/_apis/operations/${randomUUID()}`],
    ['GET', '/_apis/work/processes'],
    ['GET', '/_apis/process/processes'],
  ])('answers %s %s with the 203 sign-in page without the PAT', async (method, path) => {
    const body = method === 'POST' ? createBody(unique('Anonymous')) : undefined;
    for (const pat of [null, 'wrong-pat']) {
      const res = await call(method, path, body, { pat });
      expect(res.status).toBe(203);
      expect(await res.text()).toContain('Sign In');
    }
  });

  it('counts project, creation, operation and process requests', async () => {
    await withSim({ projects: [] }, async (other) => {
      await call('GET', '/_apis/projects', undefined, { on: other });
      const op = await json<{ id: string }>(await postProject(createBody('Counted'), other), 202);
      await call('GET', `/_apis/operations/${op.id}`, undefined, { on: other });
      await call('GET', '/_apis/work/processes', undefined, { on: other });
      await call('GET', '/_apis/process/processes', undefined, { on: other });
      expect(other.stats).toMatchObject({
        projectRequests: 2,
        projectCreates: 1,
        operationRequests: 1,
        processRequests: 2,
      });
      other.resetStats();
      expect(other.stats).toMatchObject({
        projectRequests: 0,
        projectCreates: 0,
        operationRequests: 0,
        processRequests: 0,
      });
    });
  });
});
