import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, PROCESS_NAMES, type ProcessName, startAdoSimulator } from '#sim/ado/index.ts';

// The simulator is spoken to only with plain fetch, as the real client speaks to Azure DevOps.

const PAT = 'local-simulator-test-pat';
const API = 'api-version=7.1';

type Json = Record<string, unknown>;
interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
}
interface CallOptions {
  pat?: string | null;
  contentType?: string;
  query?: string;
}

let sim: AdoSimulator;

const basic = (pat: string, user = '') => `Basic ${Buffer.from(`${user}:${pat}`).toString('base64')}`;
const enc = encodeURIComponent;
const unique = (prefix: string) => `${prefix} ${randomUUID().slice(0, 8)}`;

async function call(
  method: string,
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  const pat = options.pat === undefined ? PAT : options.pat;
  if (pat !== null) headers.Authorization = basic(pat);
  if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  const query = options.query ?? API;
  const url = `${sim.url}${path}${query ? `${path.includes('?') ? '&' : '?'}${query}` : ''}`;
  return fetch(url, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

const create = (project: string, type: string, ops: PatchOp[], options: CallOptions = {}) =>
  call('POST', `/${enc(project)}/_apis/wit/workitems/$${enc(type)}`, ops, {
    contentType: 'application/json-patch+json',
    ...options,
  });
const field = (name: string, value: unknown): PatchOp => ({ op: 'add', path: `/fields/${name}`, value });
const title = (value: string) => field('System.Title', value);
const parentOf = (id: number): PatchOp => ({
  op: 'add',
  path: '/relations/-',
  value: { rel: 'System.LinkTypes.Hierarchy-Reverse', url: `${sim.url}/_apis/wit/workItems/${id}` },
});

async function createOk(project: string, type: string, ops: PatchOp[]): Promise<Json & { id: number }> {
  const res = await create(project, type, ops);
  const body = (await res.json()) as Json & { id: number };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function expectError(res: Response, status: number, messageStart: string): Promise<Json> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Json;
  expect(body).toMatchObject({ $id: '1', innerException: null, errorCode: 0, eventId: 3200 });
  expect(String(body.message)).toContain(messageStart);
  expect(body.typeKey).toEqual(expect.any(String));
  return body;
}

const wiql = (project: string, query: string, urlQuery = API) =>
  call('POST', `/${enc(project)}/_apis/wit/wiql`, { query }, { query: urlQuery });
async function wiqlIds(project: string, query: string, urlQuery = API): Promise<number[]> {
  const res = await wiql(project, query, urlQuery);
  const body = (await res.json()) as { workItems: Array<{ id: number; url: string }> };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.workItems.map((w) => w.id);
}

function newProject(process: ProcessName, prefix = 'Project'): string {
  const name = unique(`${prefix} ${process}`);
  sim.addProject(name, process);
  return name;
}

beforeAll(async () => {
  sim = await startAdoSimulator({ pat: PAT, port: 0, seed: 42 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.setFaults({});
});

describe('GET /_apis/projects', () => {
  it('lists one well-formed private project per process by default', async () => {
    const res = await call('GET', '/_apis/projects');
    const body = (await res.json()) as { count: number; value: Json[] };

    expect(res.status).toBe(200);
    expect(body.value.slice(0, 4).map((p) => p.name)).toEqual(PROCESS_NAMES.map((p) => `${p} Project`));
    expect(body.count).toBe(body.value.length);
    expect(body.value[0]).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      state: 'wellFormed',
      visibility: 'private',
      url: expect.stringContaining(`${sim.url}/_apis/projects/`),
    });
  });

  it('answers 400 without api-version', async () => {
    await expectError(await call('GET', '/_apis/projects', undefined, { query: '' }), 400, 'No api-version');
  });

  it('accepts api-version in the Accept header', async () => {
    const res = await fetch(`${sim.url}/_apis/projects`, {
      headers: { Authorization: basic(PAT), Accept: 'application/json; api-version=7.1' },
    });
    expect(res.status).toBe(200);
  });
});

describe('GET /{project}/_apis/wit/workitemtypes', () => {
  const HIERARCHY: Record<ProcessName, string[]> = {
    Agile: ['Epic', 'Feature', 'User Story', 'Task', 'Bug', 'Issue'],
    Scrum: ['Epic', 'Feature', 'Product Backlog Item', 'Task', 'Bug', 'Impediment'],
    CMMI: ['Epic', 'Feature', 'Requirement', 'Task', 'Bug', 'Risk', 'Issue'],
    Basic: ['Epic', 'Issue', 'Task'],
  };

  it.each(PROCESS_NAMES)('lists the %s process types with their fields', async (process) => {
    const res = await call('GET', `/${enc(`${process} Project`)}/_apis/wit/workitemtypes`);
    const body = (await res.json()) as { count: number; value: Array<Json & { fields: Json[] }> };

    expect(res.status).toBe(200);
    const names = body.value.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(HIERARCHY[process]));
    if (process === 'Basic') expect(names).not.toContain('Feature');
    const epic = body.value.find((t) => t.name === 'Epic');
    expect(epic).toMatchObject({
      referenceName: expect.any(String),
      color: expect.any(String),
      icon: expect.any(Object),
    });
    expect(epic?.fields).toContainEqual(
      expect.objectContaining({ referenceName: 'System.Title', name: 'Title', alwaysRequired: true }),
    );
  });

  it('has AcceptanceCriteria and Risk on Agile User Story but on no Basic type', async () => {
    const fieldsOf = async (project: string, type: string) => {
      const res = await call('GET', `/${enc(project)}/_apis/wit/workitemtypes/${enc(type)}/fields`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { value: Json[] }).value.map((f) => f.referenceName);
    };

    const story = await fieldsOf('Agile Project', 'User Story');
    expect(story).toEqual(
      expect.arrayContaining(['Microsoft.VSTS.Common.AcceptanceCriteria', 'Microsoft.VSTS.Common.Risk']),
    );
    for (const type of HIERARCHY.Basic) {
      const fields = await fieldsOf('Basic Project', type);
      expect(fields).toContain('Microsoft.VSTS.Common.Priority');
      expect(fields).not.toContain('Microsoft.VSTS.Common.AcceptanceCriteria');
      expect(fields).not.toContain('Microsoft.VSTS.Common.Risk');
    }
  });

  it('answers 404 for an unknown type or project', async () => {
    await expectError(
      await call('GET', '/Agile%20Project/_apis/wit/workitemtypes/Saga/fields'),
      404,
      'VS402323',
    );
    await expectError(await call('GET', '/No%20Such%20Project/_apis/wit/workitemtypes'), 404, 'TF200016');
  });
});

describe('POST /{project}/_apis/wit/workitems/$Type', () => {
  it('creates a child with parent, hyperlink and normalised tags, and answers the full work item', async () => {
    const project = newProject('Agile', "Bob's Board");
    const epic = await createOk(project, 'Epic', [title('Epic A')]);

    const story = await createOk(project, 'User Story', [
      title('Story A'),
      field('System.Description', '<p>Line</p>'),
      field('System.Tags', ' ardoq-sync; Billing ;billing;; key-1 '),
      field('Microsoft.VSTS.Common.Priority', '1'),
      parentOf(epic.id),
      {
        op: 'add',
        path: '/relations/-',
        value: {
          rel: 'Hyperlink',
          url: 'https://ardoq.example/c/1',
          attributes: { comment: 'Ardoq component' },
        },
      },
    ]);

    expect(story).toMatchObject({
      id: epic.id + 1,
      rev: 1,
      url: `${sim.url}/_apis/wit/workItems/${story.id}`,
      _links: {
        self: { href: `${sim.url}/_apis/wit/workItems/${story.id}` },
        html: { href: `${sim.url}/${enc(project)}/_workitems/edit/${story.id}` },
      },
      fields: {
        'System.Id': story.id,
        'System.WorkItemType': 'User Story',
        'System.State': 'New',
        'System.TeamProject': project,
        'System.Title': 'Story A',
        'System.Tags': 'ardoq-sync; Billing; key-1',
        'Microsoft.VSTS.Common.Priority': 1,
        'System.CreatedDate': expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        'System.ChangedDate': expect.any(String),
        'System.ChangedBy': {
          displayName: expect.any(String),
          uniqueName: expect.any(String),
          id: expect.any(String),
          descriptor: expect.any(String),
          imageUrl: expect.any(String),
          url: expect.any(String),
          _links: { avatar: { href: expect.any(String) } },
        },
      },
    });
    expect(story.relations).toEqual([
      {
        rel: 'System.LinkTypes.Hierarchy-Reverse',
        url: `${sim.url}/_apis/wit/workItems/${epic.id}`,
        attributes: expect.objectContaining({ name: 'Parent' }),
      },
      {
        rel: 'Hyperlink',
        url: 'https://ardoq.example/c/1',
        attributes: expect.objectContaining({ comment: 'Ardoq component' }),
      },
    ]);
    expect(sim.workItems(project).map((i) => i.fields['System.Title'])).toEqual(['Epic A', 'Story A']);
  });

  it('finds fields by reference or friendly name in any case, and orders tags ignoring case and accents', async () => {
    const project = newProject('Agile', 'Named Fields');
    const story = await createOk(project, 'User Story', [
      title('Story N'),
      field('acceptance criteria', 'Given'),
      field('MICROSOFT.VSTS.COMMON.RISK', '2 - Medium'),
      field('Tags', 'zeta; Émile; alpha; Beta; emile'),
    ]);
    expect(story.fields).toMatchObject({
      'Microsoft.VSTS.Common.AcceptanceCriteria': 'Given',
      'Microsoft.VSTS.Common.Risk': '2 - Medium',
      // "emile" is another tag than "Émile" (matching folds case only); the order ignores accents too,
      // so the two compare equal and keep the order they came in.
      'System.Tags': 'alpha; Beta; Émile; emile; zeta',
    });
    const res = await create(project, 'User Story', [title('Story M'), field('No Such Field', 'x')]);
    await expectError(res, 400, 'TF51535');
  });

  it('keeps ids global across projects and increasing from one item to the next', async () => {
    const [a, b] = [newProject('Scrum'), newProject('Basic')];
    const first = await createOk(a, 'Product Backlog Item', [title('PBI')]);
    const second = await createOk(b, 'Task', [title('Task')]);
    expect(second.id).toBe(first.id + 1);
    expect((second.fields as Json)['System.State']).toBe('To Do');
  });

  it.each([
    [
      'an unknown field for the type',
      'Issue',
      () => [title('x'), field('Microsoft.VSTS.Common.AcceptanceCriteria', 'AC')],
      'TF51535: Cannot find field Microsoft.VSTS.Common.AcceptanceCriteria',
    ],
    [
      'a read-only field',
      'Task',
      () => [title('x'), field('System.ChangedBy', 'someone')],
      "TF401326: Invalid field status 'ReadOnly'",
    ],
    ['a read-only date', 'Task', () => [title('x'), field('System.CreatedDate', '2020-01-01')], 'TF401326'],
    [
      'a title over 255 characters',
      'Task',
      () => [title('t'.repeat(256))],
      'TF401320: Rule Error for field Title',
    ],
    ['an empty title', 'Task', () => [title('   ')], 'TF401320: Rule Error for field Title'],
    ['no title', 'Task', () => [field('System.Description', 'd')], 'TF401320: Rule Error for field Title'],
    [
      'a priority outside 1-4',
      'Task',
      () => [title('x'), field('Microsoft.VSTS.Common.Priority', 7)],
      'TF401320: Rule Error for field Priority',
    ],
    ['a parent that does not exist', 'Task', () => [title('x'), parentOf(9_999_999)], 'TF201035'],
  ])('answers 400 for %s and creates nothing', async (_case, type, ops, message) => {
    const project = newProject('Basic');
    await expectError(await create(project, type, ops()), 400, message);
    expect(sim.workItems(project)).toEqual([]);
  });

  it('answers 400 TF201036 for a second parent', async () => {
    const project = newProject('Basic');
    const [a, b] = [
      await createOk(project, 'Epic', [title('A')]),
      await createOk(project, 'Epic', [title('B')]),
    ];
    await expectError(
      await create(project, 'Issue', [title('child'), parentOf(a.id), parentOf(b.id)]),
      400,
      'TF201036',
    );
    expect(sim.workItems(project)).toHaveLength(2);
  });

  it('answers 400 TF201035 for a parent in the recycle bin', async () => {
    const project = newProject('Basic');
    const epic = await createOk(project, 'Epic', [title('gone')]);
    await call('POST', `/${enc(project)}/_apis/wit/workitemsdelete`, { ids: [epic.id], destroy: false });
    await expectError(await create(project, 'Issue', [title('orphan'), parentOf(epic.id)]), 400, 'TF201035');
  });

  it('answers 404 for an unknown type and 415 for a JSON content type', async () => {
    const project = newProject('Basic');
    await expectError(await create(project, 'Feature', [title('Basic has no Feature')]), 404, 'VS402323');
    await expectError(
      await create(project, 'Epic', [title('x')], { contentType: 'application/json' }),
      415,
      'Content-Type',
    );
    expect(sim.workItems(project)).toEqual([]);
  });

  it('decodes project names with spaces and apostrophes, and matches them case-insensitively', async () => {
    const project = newProject('CMMI', "Ops' Team Board");
    const item = await createOk(project.toUpperCase(), 'Requirement', [
      title('Req'),
      field('Microsoft.VSTS.Common.Risk', '2 - Medium'),
    ]);
    expect((item.fields as Json)['System.TeamProject']).toBe(project);
    expect((item.fields as Json)['System.State']).toBe('Proposed');
    expect(sim.workItems(project)).toHaveLength(1);
  });
});

describe('POST /{project}/_apis/wit/wiql', () => {
  it('runs the supported subset, with quotes escaped as two quotes', async () => {
    const project = newProject('Agile', 'Wiql');
    const tag = unique('sync').replace(' ', '-');
    const epic = sim.seedWorkItem(project, 'Epic', { 'System.Title': "Bob's epic", 'System.Tags': tag });
    const story = sim.seedWorkItem(project, 'User Story', {
      'System.Title': 'Story',
      'System.Tags': `${tag}; other`,
    });
    const human = sim.seedWorkItem(project, 'User Story', { 'System.Title': 'Typed by hand' });
    const old = sim.seedWorkItem(project, 'Task', {
      'System.Title': 'Old',
      'System.Tags': tag,
      'System.CreatedDate': '2020-01-01T00:00:00Z',
    });
    const base = `SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project`;

    expect(await wiqlIds(project, `${base} AND [System.Tags] CONTAINS '${tag.toUpperCase()}'`)).toEqual([
      epic.id,
      story.id,
      old.id,
    ]);
    expect(
      await wiqlIds(
        project,
        `${base} AND [System.WorkItemType] IN ('Epic', 'user story') ORDER BY [System.Id] DESC`,
      ),
    ).toEqual([human.id, story.id, epic.id]);
    expect(await wiqlIds(project, `${base} AND [System.Title] = 'Bob''s epic'`)).toEqual([epic.id]);
    expect(
      await wiqlIds(
        project,
        `select [system.id] from workitems where [System.TeamProject] = '${project.replace(/'/g, "''")}' and [System.WorkItemType] = 'Task'`,
      ),
    ).toEqual([old.id]);
    expect(await wiqlIds(project, `${base} AND [System.CreatedDate] >= '2021-06-01'`)).toEqual([
      epic.id,
      story.id,
      human.id,
    ]);
    expect(
      await wiqlIds(
        project,
        `${base} AND [System.CreatedDate] >= '2021-06-01T10:00:00Z'`,
        `${API}&timePrecision=true`,
      ),
    ).toHaveLength(3);
  });

  it('is not limited to the URL project unless @project is used', async () => {
    const [here, there] = [newProject('Basic'), newProject('Basic')];
    const tag = unique('scope').replace(' ', '-');
    const a = sim.seedWorkItem(here, 'Task', { 'System.Title': 'a', 'System.Tags': tag });
    const b = sim.seedWorkItem(there, 'Task', { 'System.Title': 'b', 'System.Tags': tag });
    const q = `SELECT [System.Id] FROM WorkItems WHERE [System.Tags] CONTAINS '${tag}'`;
    expect(await wiqlIds(here, q)).toEqual([a.id, b.id]);
    expect(await wiqlIds(here, `${q} AND [System.TeamProject] = @project`)).toEqual([a.id]);
  });

  it.each([
    [
      'OR',
      "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'a' OR [System.Title] = 'b'",
      'VS402782',
    ],
    [
      'another column',
      "SELECT [System.Id], [System.Title] FROM WorkItems WHERE [System.Title] = 'a'",
      'VS402782',
    ],
    [
      'an unsupported condition',
      "SELECT [System.Id] FROM WorkItems WHERE [System.State] = 'New'",
      'VS402782',
    ],
    ['an unknown field', "SELECT [System.Id] FROM WorkItems WHERE [Custom.Nope] = 'New'", 'TF51005'],
    ['an unterminated string', "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'a", 'VS402782'],
    [
      'a time without timePrecision',
      "SELECT [System.Id] FROM WorkItems WHERE [System.CreatedDate] >= '2024-01-01T10:00:00Z'",
      'VS402625',
    ],
  ])('answers 400 for %s', async (_case, query, code) => {
    await expectError(await wiql('Agile Project', query), 400, code);
  });

  it('answers 400 VS402337 above 20,000 results unless $top limits them', async () => {
    const project = newProject('Basic', 'Big');
    for (let i = 0; i < 20_001; i++) sim.seedWorkItem(project, 'Task', { 'System.Title': `t${i}` });
    const q = `SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project`;
    await expectError(await wiql(project, q), 400, 'VS402337');
    expect(await wiqlIds(project, q, `${API}&$top=5`)).toHaveLength(5);
  });
});

describe('POST /_apis/wit/workitemsbatch', () => {
  it('answers items in the requested order, null for missing ones with errorPolicy omit', async () => {
    const project = newProject('Agile');
    const epic = await createOk(project, 'Epic', [title('E')]);
    const story = await createOk(project, 'User Story', [title('S'), parentOf(epic.id)]);

    const res = await call('POST', '/_apis/wit/workitemsbatch', {
      ids: [story.id, 9_999_999, epic.id],
      errorPolicy: 'Omit',
      $expand: 'Relations',
    });
    const body = (await res.json()) as {
      count: number;
      value: Array<(Json & { relations?: Json[] }) | null>;
    };

    expect(res.status).toBe(200);
    expect(body.value.map((w) => w?.id ?? null)).toEqual([story.id, null, epic.id]);
    expect(body.value[0]?.relations).toContainEqual(
      expect.objectContaining({ rel: 'System.LinkTypes.Hierarchy-Reverse' }),
    );
    expect(body.value[2]?.relations).toContainEqual(
      expect.objectContaining({
        rel: 'System.LinkTypes.Hierarchy-Forward',
        url: `${sim.url}/_apis/wit/workItems/${story.id}`,
      }),
    );
  });

  it('leaves relations out without $expand and returns only the asked fields', async () => {
    const project = newProject('Agile');
    const epic = await createOk(project, 'Epic', [title('E')]);
    await createOk(project, 'Feature', [title('F'), parentOf(epic.id)]);

    const res = await call('POST', '/_apis/wit/workitemsbatch', {
      ids: [epic.id],
      fields: ['System.Title', 'System.Tags'],
    });
    const [item] = ((await res.json()) as { value: Json[] }).value;
    expect(item).toEqual({ id: epic.id, rev: 2, fields: { 'System.Title': 'E' }, url: expect.any(String) });
  });

  it('answers 404 for a missing id with the default error policy, 400 above 200 ids', async () => {
    await expectError(await call('POST', '/_apis/wit/workitemsbatch', { ids: [9_999_998] }), 404, 'TF401232');
    const ids = Array.from({ length: 201 }, (_, i) => i + 1);
    await expectError(
      await call('POST', '/_apis/wit/workitemsbatch', { ids, errorPolicy: 'omit' }),
      400,
      '200',
    );
  });
});

describe('POST /{project}/_apis/wit/workitemsdelete', () => {
  it('sends to the recycle bin or destroys, with a result per id, and hides deleted items', async () => {
    const project = newProject('Scrum');
    const tag = unique('del').replace(' ', '-');
    const [a, b, c] = ['a', 'b', 'c'].map((t) =>
      sim.seedWorkItem(project, 'Epic', { 'System.Title': t, 'System.Tags': tag }),
    );
    const path = `/${enc(project)}/_apis/wit/workitemsdelete`;

    const binned = await call('POST', path, {
      ids: [a!.id, 9_999_997],
      destroy: false,
      skipNotifications: true,
    });
    const destroyed = await call('POST', path, { ids: [b!.id], destroy: true });

    expect(binned.status).toBe(200);
    expect(((await binned.json()) as { results: Json[] }).results).toEqual([
      expect.objectContaining({ id: a!.id, code: 200, project, type: 'Epic', name: 'a' }),
      expect.objectContaining({ id: 9_999_997, code: 404, message: expect.stringContaining('TF401232') }),
    ]);
    expect(((await destroyed.json()) as { results: Json[] }).results).toEqual([
      expect.objectContaining({ id: b!.id, code: 200 }),
    ]);
    expect(sim.recycleBin(project).map((i) => i.id)).toEqual([a!.id]);
    expect(sim.workItems(project).map((i) => i.id)).toEqual([c!.id]);
    expect(
      await wiqlIds(project, `SELECT [System.Id] FROM WorkItems WHERE [System.Tags] CONTAINS '${tag}'`),
    ).toEqual([c!.id]);
    await expectError(await call('POST', '/_apis/wit/workitemsbatch', { ids: [a!.id] }), 404, 'TF401232');
  });

  it('answers 400 above 200 ids', async () => {
    const ids = Array.from({ length: 201 }, (_, i) => i + 1);
    await expectError(
      await call('POST', '/Basic%20Project/_apis/wit/workitemsdelete', { ids, destroy: false }),
      400,
      '200',
    );
  });
});

describe('authentication', () => {
  it.each([
    ['a wrong PAT', 'not-the-pat'],
    ['no Authorization header', null],
  ])('answers 203 with an HTML sign-in page for %s', async (_case, pat) => {
    const res = await call('GET', '/_apis/projects', undefined, { pat });
    expect(res.status).toBe(203);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('Sign In');
  });

  it('accepts any user name with the right PAT', async () => {
    const res = await fetch(`${sim.url}/_apis/projects?${API}`, {
      headers: { Authorization: basic(PAT, 'anyone') },
    });
    expect(res.status).toBe(200);
  });
});

describe('faults', () => {
  it('answers a throttled request 429 with Retry-After, rate-limit headers and TF400733, then recovers', async () => {
    sim.setFaults({ retryAfterSeconds: 3 });
    sim.failNext('any', 'throttle', 1);
    const throttledBefore = sim.stats.throttled;

    const res = await call('GET', '/_apis/projects');
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-ratelimit-resource')).toBeTruthy();
    expect(res.headers.get('x-ratelimit-delay')).toBeTruthy();
    await expectError(res, 429, 'TF400733');
    expect(sim.stats.throttled).toBe(throttledBefore + 1);
    expect((await call('GET', '/_apis/projects')).status).toBe(200);
  });

  it('answers 503 with a JSON error for an unavailable fault', async () => {
    sim.failNext('any', 'unavailable');
    const body = await expectError(await call('GET', '/_apis/projects'), 503, 'temporarily unavailable');
    // No TF code: a client classifies the refusal by its status (TF400898 would mean an internal error).
    expect(String(body.message)).not.toMatch(/^(TF|VS)\d/);
  });

  it('drops a create after storing the item: the fetch fails but the item exists', async () => {
    const project = newProject('Basic');
    const droppedBefore = sim.stats.dropped;
    sim.failNext('create', 'drop', 1);

    await expect(create(project, 'Epic', [title('Dropped epic')])).rejects.toThrow();
    expect(sim.workItems(project).map((i) => i.fields['System.Title'])).toEqual(['Dropped epic']);
    expect(sim.stats.dropped).toBe(droppedBefore + 1);
    expect((await create(project, 'Epic', [title('Next one')])).status).toBe(200);
  });

  it('rejects creates with TF401320 by one-shot fault or by title, creating nothing', async () => {
    const project = newProject('Basic');
    sim.rejectTitles(['Poison item']);
    sim.failNext('create', 'reject', 1);

    await expectError(await create(project, 'Epic', [title('First')]), 400, 'TF401320');
    await expectError(await create(project, 'Epic', [title('Poison item')]), 400, 'TF401320');
    await createOk(project, 'Epic', [title('Second')]);
    expect(sim.workItems(project).map((i) => i.fields['System.Title'])).toEqual(['Second']);
  });

  it('applies a one-shot fault with a title only to the create with that title', async () => {
    const project = newProject('Basic');
    sim.failNext('create', 'throttle', 1, 'Only me');
    await createOk(project, 'Epic', [title('Not me')]);
    expect((await create(project, 'Epic', [title('Only me')])).status).toBe(429);
    await createOk(project, 'Epic', [title('Only me')]);
  });

  it('adds latency to every answer', async () => {
    sim.setFaults({ latencyMs: 150 });
    const started = performance.now();
    expect((await call('GET', '/_apis/projects')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('draws rates from the seed: the same seed gives the same faults', async () => {
    const statuses = async (seed: number) => {
      const other = await startAdoSimulator({
        pat: PAT,
        seed,
        faults: { throttleRate: 0.3, errorRate: 0.2 },
      });
      try {
        const got: number[] = [];
        for (let i = 0; i < 30; i++) {
          got.push(
            (await fetch(`${other.url}/_apis/projects?${API}`, { headers: { Authorization: basic(PAT) } }))
              .status,
          );
        }
        return got;
      } finally {
        await other.close();
      }
    };
    const [first, again, otherSeed] = [await statuses(7), await statuses(7), await statuses(8)];
    expect(first).toEqual(again);
    expect(first).not.toEqual(otherSeed);
    expect(new Set(first)).toEqual(new Set([200, 429, 503]));
  });

  it('stores every create but answers none with a drop rate of 1', async () => {
    const project = newProject('Basic');
    sim.setFaults({ dropRate: 1 });
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((n) => create(project, 'Task', [title(`t${n}`)])),
    );
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(sim.workItems(project)).toHaveLength(3);
  });

  it('counts peak concurrent creates from request start to answer, latency included', async () => {
    const project = newProject('Agile');
    sim.setFaults({ latencyMs: 300 });
    sim.resetStats();

    await Promise.all(Array.from({ length: 6 }, (_, n) => createOk(project, 'Epic', [title(`c${n}`)])));
    expect(sim.stats).toMatchObject({ creates: 6, createsInFlight: 0, peakConcurrentCreates: 6 });

    sim.resetStats();
    for (const n of [1, 2]) await createOk(project, 'Epic', [title(`s${n}`)]);
    expect(sim.stats).toMatchObject({ creates: 2, peakConcurrentCreates: 1, requests: 2 });
  });
});
