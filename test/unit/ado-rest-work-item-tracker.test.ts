import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AdoRestWorkItemTracker,
  type AdoRestWorkItemTrackerOptions,
  buildWiqlQuery,
  escapeWiqlString,
} from '#adapters/ado-rest-work-item-tracker.ts';
import type { HttpTransport } from '#adapters/http-transport.ts';
import {
  AdoAuthError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
} from '#core/ports/work-item-tracker.ts';
import { type LoopbackServer, startLoopbackServer } from '#test/support/loopback-server.ts';

// A stub of the Azure DevOps REST API on loopback: records every request, answers what a test scripts.

// A made-up token, long and unique enough that finding it in any output is a real leak.
const PAT = ['test', 'only', 'not', 'a', 'secret', 'x9Q2w7'].join('-');
const PAT_BASIC = Buffer.from(`:${PAT}`).toString('base64');
const PROJECT = `Team's "Q" #1 / x`;
const PROJECT_PATH = "Team's%20%22Q%22%20%231%20%2F%20x";

interface Recorded {
  method: string;
  url: URL;
  /** The request target exactly as sent (path and query, still encoded). */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Reply =
  | { status?: number; json?: unknown; text?: string; headers?: Record<string, string> }
  | 'reset'
  | 'hang';

let server: LoopbackServer;
let origin: string;
let replies: Array<Reply | ((request: Recorded) => Reply)> = [];
let requests: Recorded[] = [];

/** Scripts the answers in order; the last one answers every further request. */
function serve(...script: Array<Reply | ((request: Recorded) => Reply)>): void {
  replies = script;
}

beforeAll(async () => {
  server = await startLoopbackServer((req, body, res) => {
    const recorded: Recorded = {
      method: req.method ?? '',
      url: new URL(req.url ?? '/', origin),
      rawUrl: req.url ?? '',
      headers: req.headers,
      body,
    };
    requests.push(recorded);
    const scripted = replies[Math.min(requests.length - 1, replies.length - 1)] ?? { status: 500 };
    const reply = typeof scripted === 'function' ? scripted(recorded) : scripted;
    if (reply === 'hang') return;
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    const isText = reply.text !== undefined;
    res.writeHead(reply.status ?? 200, {
      'content-type': isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
      ...reply.headers,
    });
    res.end(isText ? reply.text : JSON.stringify(reply.json ?? {}));
  });
  origin = server.origin;
});

afterAll(() => server.close());

beforeEach(() => {
  requests = [];
  replies = [];
});

let sleeps: Array<{ ms: number; requestsBefore: number }>;

function tracker(options: AdoRestWorkItemTrackerOptions = {}): AdoRestWorkItemTracker {
  sleeps = [];
  return new AdoRestWorkItemTracker(
    { organization: `${origin}/acme/`, pat: PAT },
    {
      allowedOrigins: [origin],
      sleep: async (ms) => {
        sleeps.push({ ms, requestsBefore: requests.length });
      },
      ...options,
    },
  );
}

const base = (): string => `${origin}/acme`;
const bodyOf = (index: number): unknown => JSON.parse(requests[index]?.body ?? 'null');
const sleptMs = (): number[] => sleeps.map((sleep) => sleep.ms);

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function expectNoPat(error: unknown): void {
  for (const text of [
    JSON.stringify(error),
    String(error),
    inspect(error, { depth: 10, showHidden: true }),
  ]) {
    expect(text).not.toContain(PAT);
    expect(text).not.toContain(PAT_BASIC);
  }
}

describe('where requests go (see also ado-organization.test.ts)', () => {
  it('sends to the base URL of an allowed loopback origin', async () => {
    serve({ json: { value: [] } });
    await tracker().listProjects();
    expect(requests[0]?.url.href).toBe(`${origin}/acme/_apis/projects?$top=500&api-version=7.1`);
  });

  it('refuses, before any request, a loopback origin its list does not name', () => {
    expect(
      () => new AdoRestWorkItemTracker({ organization: `${origin}/acme`, pat: PAT }, { allowedOrigins: [] }),
    ).toThrow(/not allowed/);
    expect(() => new AdoRestWorkItemTracker({ organization: 'http://10.0.0.1/x', pat: PAT })).toThrow(
      /https/,
    );
    expect(requests).toHaveLength(0);
  });
});

describe('requests', () => {
  it('lists projects page by page with the continuation token, api-version 7.1 and Basic auth', async () => {
    serve(
      {
        json: { count: 1, value: [{ id: 'p1', name: 'One', state: 'wellFormed' }] },
        headers: { 'x-ms-continuationtoken': 'tok 2' },
      },
      { json: { count: 1, value: [{ id: 'p2', name: 'Two' }] } },
    );
    // The reference's keys as Azure DevOps sends them; absent ones stay absent.
    await expect(tracker().listProjects()).resolves.toEqual([
      { id: 'p1', name: 'One', state: 'wellFormed' },
      { id: 'p2', name: 'Two' },
    ]);
    expect(requests).toHaveLength(2);
    const [first, second] = requests;
    expect(first?.method).toBe('GET');
    expect(first?.url.pathname).toBe('/acme/_apis/projects');
    expect(first?.url.searchParams.get('api-version')).toBe('7.1');
    expect(first?.url.searchParams.get('$top')).toBe('500');
    expect(first?.url.searchParams.has('continuationToken')).toBe(false);
    expect(second?.url.searchParams.get('continuationToken')).toBe('tok 2');
    expect(first?.headers.authorization).toBe(`Basic ${PAT_BASIC}`);
    expect(first?.headers.accept).toBe('application/json');
  });

  it('reads each type of the list with the reference names of its fields (WorkItemType.fields)', async () => {
    serve({
      json: {
        count: 3,
        value: [
          {
            name: 'User Story',
            referenceName: 'Microsoft.VSTS.WorkItemTypes.UserStory',
            fields: [
              { referenceName: 'System.Title', name: 'Title', alwaysRequired: true },
              { referenceName: 'Microsoft.VSTS.Common.AcceptanceCriteria', name: 'Acceptance Criteria' },
              { name: 'no reference name' },
            ],
          },
          { name: 'Task', fields: [] },
          { referenceName: 'nameless' },
        ],
      },
    });

    const types = await tracker().listWorkItemTypes(PROJECT);

    expect(types).toEqual([
      {
        name: 'User Story',
        referenceName: 'Microsoft.VSTS.WorkItemTypes.UserStory',
        fields: ['System.Title', 'Microsoft.VSTS.Common.AcceptanceCriteria'],
        fieldDetails: [
          { referenceName: 'System.Title', name: 'Title' },
          { referenceName: 'Microsoft.VSTS.Common.AcceptanceCriteria', name: 'Acceptance Criteria' },
        ],
      },
      { name: 'Task', fields: null },
    ]);
    expect(requests).toHaveLength(1);
  });

  it('reads the fields of a project with their types, read-only and identity flags (wit/fields)', async () => {
    serve({
      json: {
        count: 4,
        value: [
          { referenceName: 'System.Title', name: 'Title', type: 'string', readOnly: false },
          { referenceName: 'System.AssignedTo', name: 'Assigned To', type: 'string', isIdentity: true },
          { referenceName: 'System.Id', name: 'ID', type: 'integer', readOnly: true },
          { referenceName: 'Custom.Untyped', name: 'Untyped' },
          { name: 'no reference name', type: 'string' },
        ],
      },
    });

    const fields = await tracker().listFieldDefinitions(PROJECT);

    expect(fields).toEqual([
      { referenceName: 'System.Title', name: 'Title', type: 'string', readOnly: false, isIdentity: false },
      {
        referenceName: 'System.AssignedTo',
        name: 'Assigned To',
        type: 'string',
        readOnly: false,
        isIdentity: true,
      },
      { referenceName: 'System.Id', name: 'ID', type: 'integer', readOnly: true, isIdentity: false },
      {
        referenceName: 'Custom.Untyped',
        name: 'Untyped',
        type: 'string',
        readOnly: false,
        isIdentity: false,
      },
    ]);
    expect(requests.map((request) => request.rawUrl)).toEqual([
      `/acme/${PROJECT_PATH}/_apis/wit/fields?api-version=7.1`,
    ]);
  });

  it('reads the types of a process, then the fields of each, with allowed values (work/processes)', async () => {
    serve(
      {
        json: {
          value: [
            { name: 'Epic', referenceName: 'Microsoft.VSTS.WorkItemTypes.Epic', isDisabled: false },
            { name: 'Old', referenceName: 'Custom.Old', isDisabled: true },
            { name: 'no reference name' },
          ],
        },
      },
      {
        json: {
          value: [
            { referenceName: 'System.Title', name: 'Title', type: 'string' },
            {
              referenceName: 'Microsoft.VSTS.Common.Priority',
              name: 'Priority',
              type: 'integer',
              allowedValues: [1, 2],
            },
          ],
        },
      },
      { json: { value: [{ referenceName: 'System.Title', name: 'Title', readOnly: true }] } },
    );

    const types = await tracker().listProcessTypes('adcc42ab-9882-485e-a3ed-7678f01f66bc');

    expect(types).toEqual([
      {
        name: 'Epic',
        referenceName: 'Microsoft.VSTS.WorkItemTypes.Epic',
        isDisabled: false,
        fields: [
          { referenceName: 'System.Title', name: 'Title', type: 'string', readOnly: false },
          {
            referenceName: 'Microsoft.VSTS.Common.Priority',
            name: 'Priority',
            type: 'integer',
            readOnly: false,
            allowedValues: ['1', '2'],
          },
        ],
      },
      {
        name: 'Old',
        referenceName: 'Custom.Old',
        isDisabled: true,
        fields: [{ referenceName: 'System.Title', name: 'Title', readOnly: true }],
      },
    ]);
    const base = '/acme/_apis/work/processes/adcc42ab-9882-485e-a3ed-7678f01f66bc/workitemtypes';
    expect(requests.map((request) => request.rawUrl)).toEqual([
      `${base}?api-version=7.1`,
      `${base}/Microsoft.VSTS.WorkItemTypes.Epic/fields?api-version=7.1`,
      `${base}/Custom.Old/fields?api-version=7.1`,
    ]);
  });

  it('encodes the project and type names in every path', async () => {
    const t = tracker();
    serve({ json: { count: 2, value: [{ name: 'Epic' }, { name: 'User Story' }] } });
    await expect(t.listWorkItemTypes(PROJECT)).resolves.toEqual([
      { name: 'Epic', fields: null },
      { name: 'User Story', fields: null },
    ]);
    serve({
      json: { value: [{ referenceName: 'System.Title', name: 'Title' }, { referenceName: 'System.Tags' }] },
    });
    await expect(t.listFields(PROJECT, 'User Story')).resolves.toEqual(['System.Title', 'System.Tags']);
    expect(requests.map((request) => request.rawUrl)).toEqual([
      `/acme/${PROJECT_PATH}/_apis/wit/workitemtypes?api-version=7.1`,
      `/acme/${PROJECT_PATH}/_apis/wit/workitemtypes/User%20Story/fields?api-version=7.1`,
    ]);
  });

  it('creates a work item with a JSON Patch body: fields without read-only ones, parent, hyperlink', async () => {
    serve({
      json: {
        id: 42,
        rev: 1,
        fields: { 'System.Title': 'T', 'System.ChangedBy': { displayName: 'Sync Bot', uniqueName: 'bot@x' } },
        url: `${base()}/_apis/wit/workItems/42`,
      },
    });
    const created = await tracker().createWorkItem(PROJECT, {
      type: 'User Story',
      fields: {
        'System.Title': 'Pay by card',
        'Microsoft.VSTS.Common.Priority': 2,
        'System.ChangedBy': 'someone',
        'System.ChangedDate': '2026-01-01',
        'System.CreatedDate': '2026-01-01',
        'System.Id': 7,
        'System.Rev': 3,
      },
      parentId: 17,
      hyperlink: { url: 'https://acme.ardoq.com/app/view/component/c1', comment: 'ardoq-sync:s1:c1' },
    });
    expect(created).toEqual({
      id: 42,
      webUrl: `${base()}/${PROJECT_PATH}/_workitems/edit/42`,
      changedBy: { displayName: 'Sync Bot', uniqueName: 'bot@x' },
    });
    const [request] = requests;
    expect(request?.method).toBe('POST');
    expect(request?.rawUrl).toBe(`/acme/${PROJECT_PATH}/_apis/wit/workitems/$User%20Story?api-version=7.1`);
    expect(request?.headers['content-type']).toBe('application/json-patch+json');
    expect(bodyOf(0)).toEqual([
      { op: 'add', path: '/fields/System.Title', value: 'Pay by card' },
      { op: 'add', path: '/fields/Microsoft.VSTS.Common.Priority', value: 2 },
      {
        op: 'add',
        path: '/relations/-',
        value: { rel: 'System.LinkTypes.Hierarchy-Reverse', url: `${base()}/_apis/wit/workItems/17` },
      },
      {
        op: 'add',
        path: '/relations/-',
        value: {
          rel: 'Hyperlink',
          url: 'https://acme.ardoq.com/app/view/component/c1',
          attributes: { comment: 'ardoq-sync:s1:c1' },
        },
      },
    ]);
  });

  it('omits changedBy when the answer carries no identity object', async () => {
    serve({ json: { id: 5, fields: { 'System.ChangedBy': 'plain text' } } });
    const created = await tracker().createWorkItem('P', { type: 'Epic', fields: { 'System.Title': 'E' } });
    expect(created).toEqual({ id: 5, webUrl: `${base()}/P/_workitems/edit/5` });
    expect(bodyOf(0)).toEqual([{ op: 'add', path: '/fields/System.Title', value: 'E' }]);
  });
});

describe('WIQL', () => {
  it('escapes quotes by doubling them', () => {
    expect(escapeWiqlString("O'Brien's")).toBe("O''Brien''s");
  });

  it('builds the query with every condition escaped', () => {
    expect(
      buildWiqlQuery({
        tag: "ardoq'sync",
        types: ['User Story', "Bob's Type"],
        title: "It's done",
        createdSince: new Date('2026-03-01T10:00:00.000Z'),
      }),
    ).toBe(
      'SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project' +
        " AND [System.Tags] CONTAINS 'ardoq''sync'" +
        " AND [System.WorkItemType] IN ('User Story', 'Bob''s Type')" +
        " AND [System.Title] = 'It''s done'" +
        " AND [System.CreatedDate] >= '2026-03-01T10:00:00.000Z'" +
        ' ORDER BY [System.Id]',
    );
    expect(buildWiqlQuery({ tag: 'ardoq-sync', types: [] })).toBe(
      "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS 'ardoq-sync' ORDER BY [System.Id]",
    );
  });

  it('posts the query to the project and returns the ids', async () => {
    serve({
      json: {
        queryType: 'flat',
        workItems: [
          { id: 3, url: 'u' },
          { id: 9, url: 'u' },
        ],
      },
    });
    const search = { tag: 'ardoq-sync', title: "Team's", createdSince: new Date('2026-01-02T00:00:00Z') };
    await expect(tracker().searchWorkItems(PROJECT, search)).resolves.toEqual([3, 9]);
    const [request] = requests;
    expect(request?.method).toBe('POST');
    expect(request?.rawUrl.startsWith(`/acme/${PROJECT_PATH}/_apis/wit/wiql?`)).toBe(true);
    expect(request?.url.searchParams.get('api-version')).toBe('7.1');
    expect(request?.url.searchParams.get('timePrecision')).toBe('true');
    expect(bodyOf(0)).toEqual({ query: buildWiqlQuery(search) });
  });

  it('reports too many results (VS402337) as a rejection with that code', async () => {
    serve({
      status: 400,
      json: { message: 'VS402337: The number of work items returned exceeds the size limit of 20000.' },
    });
    const error = await failure(tracker().searchWorkItems('P', { tag: 'ardoq-sync' }));
    expect(error).toBeInstanceOf(AdoRejectedError);
    expect((error as AdoRejectedError).code).toBe('VS402337');
    expect(requests).toHaveLength(1);
  });
});

describe('reading work items', () => {
  const workItem = (id: number) => ({
    id,
    rev: 2,
    fields: {
      'System.WorkItemType': 'Feature',
      'System.Title': `Item ${id}`,
      'System.TeamProject': PROJECT,
      'System.Tags': 'ardoq-sync; KEY-1 ;Beta',
      'System.ChangedBy': { displayName: 'Bot' },
    },
    relations: [
      { rel: 'System.LinkTypes.Hierarchy-Reverse', url: `${base()}/_apis/wit/workItems/77`, attributes: {} },
      {
        rel: 'Hyperlink',
        url: 'https://ardoq/app/view/component/c',
        attributes: { comment: 'ardoq-sync:s:c' },
      },
      { rel: 'System.LinkTypes.Hierarchy-Forward', url: `${base()}/_apis/wit/workItems/99` },
    ],
  });

  it('reads 450 ids in chunks of 200, 200 and 50 and skips omitted (null) items', async () => {
    serve((request) => {
      const { ids } = JSON.parse(request.body) as { ids: number[] };
      // Every tenth id is missing: errorPolicy omit answers null for it.
      return { json: { count: ids.length, value: ids.map((id) => (id % 10 === 0 ? null : workItem(id))) } };
    });
    const ids = Array.from({ length: 450 }, (_, index) => index + 1);
    const items = await tracker().getWorkItems(ids);
    expect(requests.map((request) => (JSON.parse(request.body) as { ids: number[] }).ids.length)).toEqual([
      200, 200, 50,
    ]);
    expect((bodyOf(0) as { ids: number[] }).ids).toEqual(ids.slice(0, 200));
    expect((bodyOf(2) as { ids: number[] }).ids).toEqual(ids.slice(400));
    for (const request of requests) {
      expect(request.method).toBe('POST');
      expect(request.rawUrl).toBe('/acme/_apis/wit/workitemsbatch?api-version=7.1');
      expect(JSON.parse(request.body)).toMatchObject({ $expand: 'relations', errorPolicy: 'omit' });
    }
    expect(items).toHaveLength(405);
    expect(items.some((item) => item.id % 10 === 0)).toBe(false);
    expect(items[0]).toEqual({
      id: 1,
      type: 'Feature',
      title: 'Item 1',
      tags: ['ardoq-sync', 'KEY-1', 'Beta'],
      parentId: 77,
      hyperlinks: [{ url: 'https://ardoq/app/view/component/c', comment: 'ardoq-sync:s:c' }],
      webUrl: `${base()}/${PROJECT_PATH}/_workitems/edit/1`,
      changedBy: { displayName: 'Bot' },
    });
  });

  it('takes the web URL from _links.html when present and makes no call for no ids', async () => {
    serve({ json: { value: [{ id: 8, fields: {}, _links: { html: { href: 'https://web/edit/8' } } }] } });
    const t = tracker();
    await expect(t.getWorkItems([])).resolves.toEqual([]);
    expect(requests).toHaveLength(0);
    const [item] = await t.getWorkItems([8]);
    expect(item).toEqual({
      id: 8,
      type: '',
      title: '',
      tags: [],
      hyperlinks: [],
      webUrl: 'https://web/edit/8',
    });
  });
});

describe('deleting work items', () => {
  it('refuses more than 200 ids without calling Azure DevOps', async () => {
    const ids = Array.from({ length: 201 }, (_, index) => index + 1);
    await expect(tracker().deleteWorkItems('P', ids)).rejects.toThrow(/at most 200/);
    expect(requests).toHaveLength(0);
  });

  it('sends the ids to the recycle bin and tolerates items already gone', async () => {
    serve({
      json: {
        results: [
          { id: 1, code: 200, name: 'a' },
          { id: 2, code: 404 },
          {
            id: 3,
            code: 400,
            message: 'TF401232: Work item 3 does not exist, or you do not have permissions to read it.',
          },
        ],
      },
    });
    await tracker().deleteWorkItems(PROJECT, [1, 2, 3]);
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.rawUrl).toBe(`/acme/${PROJECT_PATH}/_apis/wit/workitemsdelete?api-version=7.1`);
    expect(bodyOf(0)).toEqual({ ids: [1, 2, 3], destroy: false, skipNotifications: true });
  });

  it('reports other per-item failures with their ids', async () => {
    serve({
      json: {
        results: [
          { id: 1, code: 200 },
          { id: 2, code: 403, message: 'TF401289: You do not have permission to delete work item 2.' },
          { id: 3, code: 500, message: 'boom' },
        ],
      },
    });
    const error = await failure(tracker().deleteWorkItems('P', [1, 2, 3]));
    expect(error).toBeInstanceOf(AdoRejectedError);
    expect((error as AdoRejectedError).message).toMatch(/work items 2, 3: TF401289/);
    expect((error as AdoRejectedError).code).toBe('TF401289');
  });
});

describe('error mapping', () => {
  it.each([401, 403])('maps %i to AdoAuthError', async (status) => {
    serve({ status, json: { message: 'TF400813: The user is not authorized to access this resource.' } });
    const error = await failure(tracker().listProjects());
    expect(error).toBeInstanceOf(AdoAuthError);
    expect((error as AdoAuthError).status).toBe(status);
    expect(requests).toHaveLength(1);
  });

  it('maps 203 with an HTML sign-in page to AdoAuthError', async () => {
    serve({ status: 203, text: '<html><body>Sign in</body></html>' });
    const error = await failure(tracker().listProjects());
    expect(error).toBeInstanceOf(AdoAuthError);
    expect((error as AdoAuthError).status).toBe(203);
  });

  it('maps 200 with text/html to AdoAuthError', async () => {
    serve({ status: 200, text: '<html>Azure DevOps Services | Sign In</html>' });
    const error = await failure(tracker().listWorkItemTypes('P'));
    expect(error).toBeInstanceOf(AdoAuthError);
    expect((error as AdoAuthError).message).toMatch(/text\/html/);
  });

  it('maps 400 to AdoRejectedError with the TF code and the trimmed service message', async () => {
    serve({
      status: 400,
      json: {
        message: '  TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty.\n',
        typeKey: 'RuleValidationException',
        errorCode: 0,
      },
    });
    const error = await failure(
      tracker().createWorkItem('P', { type: 'Epic', fields: { 'System.Title': 'x' } }),
    );
    expect(error).toBeInstanceOf(AdoRejectedError);
    expect(error).toMatchObject({
      message: 'TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty.',
      status: 400,
      code: 'TF401320',
      projectMissing: false,
    });
  });

  it('marks a missing project (TF200016, or a 404 saying so), never an internal error (TF400898)', async () => {
    serve({ status: 404, json: { message: `TF200016: The following project does not exist: ${PROJECT}.` } });
    await expect(failure(tracker().listWorkItemTypes(PROJECT))).resolves.toMatchObject({
      code: 'TF200016',
      projectMissing: true,
    });
    serve({ status: 404, json: { message: 'TF400898: An Internal Error Occurred.' } });
    const internal = await failure(tracker({ maxAttempts: 1 }).listWorkItemTypes(PROJECT));
    expect(internal).toBeInstanceOf(AdoTransientError);
    expect(internal).toMatchObject({ code: 'TF400898', status: 404 });
    serve({ status: 404, json: { message: 'The project with id x does not exist.' } });
    await expect(failure(tracker().listFields(PROJECT, 'Epic'))).resolves.toMatchObject({
      projectMissing: true,
    });
    serve({ status: 409, json: { message: 'TF26071: This work item has been changed by someone else.' } });
    const conflict = await failure(tracker().listFields(PROJECT, 'Epic'));
    expect(conflict).toBeInstanceOf(AdoRejectedError);
    expect(conflict).toMatchObject({ code: 'TF26071', projectMissing: false, status: 409 });
  });

  it('retries 500 for reads with exponential backoff, then throws AdoTransientError', async () => {
    serve({ status: 500, json: { message: 'VS800001: internal' } });
    const error = await failure(tracker().listProjects());
    expect(error).toBeInstanceOf(AdoTransientError);
    expect(requests).toHaveLength(3);
    expect(sleptMs()).toEqual([250, 500]);
  });

  it('maps 503 to AdoThrottledError and honours maxAttempts', async () => {
    serve({ status: 503, text: 'Service Unavailable' });
    const error = await failure(tracker({ maxAttempts: 2 }).listProjects());
    expect(error).toBeInstanceOf(AdoThrottledError);
    expect((error as AdoThrottledError).retryAfterMs).toBe(1_000);
    expect(requests).toHaveLength(2);
    requests = [];
    await failure(tracker({ maxAttempts: 1 }).listProjects());
    expect(requests).toHaveLength(1);
  });

  it('retries a read after a connection reset and succeeds', async () => {
    serve('reset', { json: { value: [{ name: 'Epic' }] } });
    await expect(tracker().listWorkItemTypes('P')).resolves.toEqual([{ name: 'Epic', fields: null }]);
    expect(requests).toHaveLength(2);
  });

  it('turns a timeout into AdoTransientError', async () => {
    serve('hang');
    const error = await failure(tracker({ timeoutMs: 150, maxAttempts: 1 }).listProjects());
    expect(error).toBeInstanceOf(AdoTransientError);
    expect((error as Error).message).toMatch(/within 150 ms/);
  });
});

describe('throttling', () => {
  it('waits Retry-After seconds after a 429 and retries', async () => {
    serve(
      { status: 429, headers: { 'retry-after': '2' }, json: { message: 'TF400733: request blocked' } },
      { json: { value: [] } },
    );
    await expect(tracker().listProjects()).resolves.toEqual([]);
    expect(requests).toHaveLength(2);
    expect(sleptMs()).toEqual([2_000]);
  });

  it('reads Retry-After as an HTTP date', async () => {
    const now = Date.UTC(2026, 5, 1, 12, 0, 0);
    serve(
      { status: 429, headers: { 'retry-after': new Date(now + 3_000).toUTCString() } },
      { json: { value: [] } },
    );
    await tracker({ now: () => now }).listProjects();
    expect(sleptMs()).toEqual([3_000]);
  });

  it('falls back to X-RateLimit-Delay (decimal seconds), then to 1 s', async () => {
    serve(
      { status: 429, headers: { 'x-ratelimit-delay': '0.75' } },
      { status: 429 },
      { json: { value: [] } },
    );
    await tracker().listProjects();
    expect(sleptMs()).toEqual([750, 1_000]);
  });

  it('throws a Retry-After longer than maxInCallWaitMs instead of sleeping it', async () => {
    serve({ status: 429, headers: { 'retry-after': '60' } }, { json: { value: [] } });
    const error = await failure(tracker().listProjects());
    expect(error).toBeInstanceOf(AdoThrottledError);
    expect((error as AdoThrottledError).retryAfterMs).toBe(60_000);
    expect((error as AdoThrottledError).status).toBe(429);
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('slows the next request down by the X-RateLimit-Delay of a successful answer', async () => {
    const t = tracker();
    serve({ json: { value: [] }, headers: { 'x-ratelimit-delay': '1.5' } }, { json: { value: [] } });
    await t.listProjects();
    expect(t.lastRateLimitDelayMs).toBe(1_500);
    expect(sleeps).toEqual([]);
    await t.listProjects();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]?.ms).toBeGreaterThan(1_400);
    expect(sleeps[0]?.ms).toBeLessThanOrEqual(1_500);
    // The wait happened before the second request went out.
    expect(sleeps[0]?.requestsBefore).toBe(1);
    expect(t.lastRateLimitDelayMs).toBe(0);
    await t.listProjects();
    expect(sleeps).toHaveLength(1);
  });

  it('throws before sending when a successful answer announced a delay above maxInCallWaitMs', async () => {
    const now = 1_000_000;
    const t = tracker({ now: () => now });
    serve({ json: { value: [] }, headers: { 'retry-after': '30' } });
    await t.listProjects();
    const error = await failure(t.listProjects());
    expect(error).toBeInstanceOf(AdoThrottledError);
    expect((error as AdoThrottledError).retryAfterMs).toBe(30_000);
    expect(requests).toHaveLength(1);
  });
});

describe('the rate-limit budget (X-RateLimit-Remaining): slowing down before a 429', () => {
  const item = { type: 'Epic', fields: { 'System.Title': 'E' } };

  /**
   * A transport that answers each request after 20 ms with the headers `headersOf` gives, and records
   * the most requests it had in flight at once.
   */
  function heldTransport(headersOf: () => Record<string, string>, status = () => 200) {
    const seen = { inFlight: 0, peak: 0, sent: 0 };
    const transport: HttpTransport = async () => {
      seen.sent += 1;
      seen.inFlight += 1;
      seen.peak = Math.max(seen.peak, seen.inFlight);
      await new Promise((r) => setTimeout(r, 20));
      seen.inFlight -= 1;
      const headers = new Headers({ 'content-type': 'application/json', ...headersOf() });
      return { status: status(), headers, body: JSON.stringify({ id: seen.sent }) };
    };
    return { seen, transport };
  }
  const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  it('keeps no more requests in flight than the budget left allows, and lifts the cap once the header goes', async () => {
    let headers: Record<string, string> = { 'x-ratelimit-limit': '200', 'x-ratelimit-remaining': '2.5' };
    const { seen, transport } = heldTransport(() => headers);
    const t = tracker({ transport, sleep: realSleep });
    // The first answer says 2.5 TSTU are left: from then on at most 2 creates are in flight.
    await t.createWorkItem('P', item);
    seen.peak = 0;
    await Promise.all(Array.from({ length: 8 }, () => t.createWorkItem('P', item)));
    expect(seen.sent).toBe(9);
    expect(seen.peak).toBe(2);
    // Usage fell back under the warning level: answers carry no budget, the cap goes.
    headers = {};
    await t.createWorkItem('P', item);
    seen.peak = 0;
    await Promise.all(Array.from({ length: 8 }, () => t.createWorkItem('P', item)));
    expect(seen.peak).toBe(8);
  });

  it('a 429 keeps one request at a time until an answer says more', async () => {
    let refused = true;
    const { seen, transport } = heldTransport(
      (): Record<string, string> => (refused ? { 'retry-after': '0' } : { 'x-ratelimit-remaining': '3' }),
      () => (refused ? 429 : 200),
    );
    const t = tracker({ transport, sleep: realSleep, maxAttempts: 1 });
    await expect(t.createWorkItem('P', item)).rejects.toBeInstanceOf(AdoThrottledError);
    refused = false;
    seen.peak = 0;
    // One at a time until the first answer's budget (3) lets three go together.
    await Promise.all(Array.from({ length: 7 }, () => t.createWorkItem('P', item)));
    expect(seen.sent).toBe(8);
    expect(seen.peak).toBe(3);
  });

  it('a request that waits for the budget longer than maxInCallWaitMs is thrown as throttling, unsent', async () => {
    const { seen, transport } = heldTransport(() => ({ 'x-ratelimit-remaining': '0' }));
    const t = tracker({ transport, sleep: realSleep, maxInCallWaitMs: 5 });
    await t.createWorkItem('P', item);
    // The budget allows one in flight: the first of two takes it for 20 ms, the second gives up at 5 ms.
    const results = await Promise.allSettled([t.createWorkItem('P', item), t.createWorkItem('P', item)]);
    expect(results[0]?.status).toBe('fulfilled');
    const refused = results[1] as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(AdoThrottledError);
    expect((refused.reason as AdoThrottledError).retryAfterMs).toBeGreaterThan(0);
    expect(seen.sent).toBe(2);
  });

  it('tells the caller how long a create waited for throttling (announced delays, in-call retries)', async () => {
    const t = tracker();
    serve(
      { json: { value: [] }, headers: { 'x-ratelimit-delay': '1.2' } },
      { status: 429, headers: { 'retry-after': '2' } },
      { json: { id: 21 } },
    );
    await t.listProjects();
    const created = await t.createWorkItem('P', item);
    expect(created.id).toBe(21);
    // 1.2 s of pacing (less the time between the two calls) and the 2 s Retry-After of the 429.
    expect(created.throttledMs).toBeGreaterThan(3_000);
    expect(created.throttledMs).toBeLessThanOrEqual(3_200);
    serve({ json: { id: 22 } });
    expect((await t.createWorkItem('P', item)).throttledMs).toBeUndefined();
  });
});

describe('create retries', () => {
  const item = { type: 'Epic', fields: { 'System.Title': 'E' } };

  it('does not retry a create after a 500 (the item may exist)', async () => {
    serve({ status: 500, json: { message: 'oops' } }, { json: { id: 1 } });
    await expect(tracker().createWorkItem('P', item)).rejects.toBeInstanceOf(AdoTransientError);
    expect(requests).toHaveLength(1);
  });

  it('does not retry a create after a connection reset', async () => {
    serve('reset', { json: { id: 1 } });
    await expect(tracker().createWorkItem('P', item)).rejects.toBeInstanceOf(AdoTransientError);
    expect(requests).toHaveLength(1);
  });

  it('retries a create refused with 429 or 503', async () => {
    serve({ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, { json: { id: 11 } });
    await expect(tracker().createWorkItem('P', item)).resolves.toMatchObject({ id: 11 });
    expect(requests).toHaveLength(3);
    expect(sleptMs()).toEqual([1_000, 1_000]);
  });

  it('awaits beforeSend right before each physical send: the first and each in-call retry', async () => {
    serve({ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, { json: { id: 12 } });
    const guard: Array<{ requestsBefore: number; sleepsBefore: number }> = [];
    const t = tracker();

    await t.createWorkItem('P', item, {
      beforeSend: async () => {
        guard.push({ requestsBefore: requests.length, sleepsBefore: sleeps.length });
      },
    });

    expect(guard).toEqual([
      { requestsBefore: 0, sleepsBefore: 0 },
      { requestsBefore: 1, sleepsBefore: 1 },
      { requestsBefore: 2, sleepsBefore: 2 },
    ]);
    expect(requests).toHaveLength(3);
  });

  it('awaits beforeSend after the pacing wait a previous answer announced', async () => {
    const t = tracker();
    serve({ json: { value: [] }, headers: { 'x-ratelimit-delay': '1' } }, { json: { id: 13 } });
    await t.listProjects();
    let sleepsAtGuard = -1;

    await t.createWorkItem('P', item, {
      beforeSend: async () => {
        sleepsAtGuard = sleeps.length;
      },
    });

    expect(sleepsAtGuard).toBe(1);
    expect(requests).toHaveLength(2);
  });

  it('sends nothing when beforeSend throws, first or before a retry, and does not retry that error', async () => {
    const refusal = new Error('cancelled');
    serve({ json: { id: 14 } });
    await expect(
      tracker().createWorkItem('P', item, {
        beforeSend: () => Promise.reject(refusal),
      }),
    ).rejects.toBe(refusal);
    expect(requests).toHaveLength(0);

    serve({ status: 429, headers: { 'retry-after': '1' } }, { json: { id: 15 } });
    let calls = 0;
    await expect(
      tracker().createWorkItem('P', item, {
        beforeSend: async () => {
          calls += 1;
          if (calls === 2) throw refusal;
        },
      }),
    ).rejects.toBe(refusal);
    expect(calls).toBe(2);
    expect(requests).toHaveLength(1);
  });
});

describe('redirects', () => {
  it('does not follow a 302 to another origin: that origin never sees a connection, the PAT stays', async () => {
    let connections = 0;
    const elsewhere = await startLoopbackServer((_req, _body, res) => res.end('{}'));
    elsewhere.server.on('connection', () => {
      connections += 1;
    });
    try {
      serve({ status: 302, headers: { location: `${elsewhere.origin}/_signin?pat=1` }, json: {} });
      const error = await failure(tracker().listProjects());
      expect(error).toBeInstanceOf(AdoAuthError);
      expect((error as AdoAuthError).status).toBe(302);
      expect(requests).toHaveLength(1);
      expect(connections).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('the PAT never leaks into errors', () => {
  it.each<[string, Reply, AdoRestWorkItemTrackerOptions]>([
    ['401', { status: 401, json: { message: `TF400813: bad token ${PAT}` } }, {}],
    ['203 html', { status: 203, text: `<html>${PAT}</html>` }, {}],
    ['400 echoing the PAT', { status: 400, json: { message: `TF401320: ${PAT} and ${PAT_BASIC}` } }, {}],
    ['429', { status: 429, headers: { 'retry-after': '600' }, json: { message: `slow ${PAT}` } }, {}],
    ['500', { status: 500, json: { message: `boom ${PAT}` } }, { maxAttempts: 1 }],
    ['reset', 'reset', { maxAttempts: 1 }],
    ['timeout', 'hang', { maxAttempts: 1, timeoutMs: 100 }],
  ])('%s', async (_label, reply, options) => {
    serve(reply);
    const error = await failure(
      tracker(options).createWorkItem('P', { type: 'Epic', fields: { 'System.Title': 'E' } }),
    );
    expect(error).toBeInstanceOf(Error);
    expectNoPat(error);
  });

  it('redacts the PAT from a service message but keeps the rest', async () => {
    serve({ status: 400, json: { message: `TF401320: field value ${PAT} invalid` } });
    const error = await failure(tracker().listProjects());
    expect((error as Error).message).toBe('TF401320: field value [redacted] invalid');
  });
});
