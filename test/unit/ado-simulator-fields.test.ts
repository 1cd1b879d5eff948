import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdoProjectControls,
  type AdoSimulator,
  PROCESS_NAMES,
  type ProcessName,
  SYSTEM_PROCESSES,
  startAdoSimulator,
} from '#sim/ado/index.ts';

// Field types, type fields and the process-level API of the simulator, spoken to with plain fetch as a
// client speaks to Azure DevOps (REST 7.1).

const PAT = 'local-simulator-fields-pat';
const API = 'api-version=7.1';

type Json = Record<string, unknown>;
interface FieldJson extends Json {
  referenceName: string;
  name: string;
}
interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
}

let sim: AdoSimulator & AdoProjectControls;
let inheritedTypeId: string;
const INHERITED_PROJECT = 'Inherited Scrum Project';

const basic = (pat: string) => `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;
const enc = encodeURIComponent;
const unique = (prefix: string) => `${prefix} ${randomUUID().slice(0, 8)}`;

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const headers: Record<string, string> = { Authorization: basic(PAT) };
  if (body !== undefined) headers['Content-Type'] = contentType;
  const url = `${sim.url}${path}${path.includes('?') ? '&' : '?'}${API}`;
  return fetch(url, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

async function ok<T = Json>(path: string): Promise<T> {
  const res = await call('GET', path);
  const body = (await res.json()) as T;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function listOf<T = FieldJson>(path: string): Promise<T[]> {
  const body = await ok<{ count: number; value: T[] }>(path);
  expect(body.count).toBe(body.value.length);
  return body.value;
}

async function expectError(res: Response, status: number, message: string): Promise<Json> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Json;
  expect(body).toMatchObject({ $id: '1', innerException: null, errorCode: 0, eventId: 3200 });
  expect(String(body.message)).toContain(message);
  expect(body.typeKey).toEqual(expect.any(String));
  return body;
}

const byRef = <T extends { referenceName: string }>(list: T[], ref: string): T => {
  const found = list.find((entry) => entry.referenceName === ref);
  if (!found) throw new Error(`${ref} is not in the list`);
  return found;
};

const field = (name: string, value: unknown): PatchOp => ({ op: 'add', path: `/fields/${name}`, value });
const title = (value: string) => field('System.Title', value);
const create = (project: string, type: string, ops: PatchOp[]) =>
  call('POST', `/${enc(project)}/_apis/wit/workitems/$${enc(type)}`, ops, 'application/json-patch+json');

function newProject(process: ProcessName): string {
  const name = unique(`Fields ${process}`);
  sim.addProject(name, process);
  return name;
}

const BACKLOG: Record<ProcessName, string[]> = {
  Agile: ['Epic', 'Feature', 'User Story'],
  Scrum: ['Epic', 'Feature', 'Product Backlog Item'],
  CMMI: ['Epic', 'Feature', 'Requirement'],
  Basic: ['Epic', 'Issue', 'Task'],
};
const STOCK = ['System.Title', 'System.Description', 'System.Tags', 'System.AssignedTo', 'System.State'];
const RISK = 'Microsoft.VSTS.Common.Risk';
const AC = 'Microsoft.VSTS.Common.AcceptanceCriteria';
const PRIORITY = 'Microsoft.VSTS.Common.Priority';

beforeAll(async () => {
  sim = await startAdoSimulator({ pat: PAT, port: 0, seed: 7 });
  inheritedTypeId = sim.addInheritedProcess('Fields Inherited Scrum', 'Scrum');
  sim.addProject(INHERITED_PROJECT, 'Fields Inherited Scrum');
});
afterAll(async () => {
  await sim.close();
});

describe('GET /{project}/_apis/wit/fields and /_apis/wit/fields', () => {
  it("lists the project's fields as WorkItemField, ordered by name, with the service's types", async () => {
    const fields = await listOf('/Agile%20Project/_apis/wit/fields');

    for (const f of fields) {
      expect(Object.keys(f).sort()).toEqual(
        [
          'canSortBy',
          'description',
          'isIdentity',
          'isLocked',
          'isPicklist',
          'isPicklistSuggested',
          'isQueryable',
          'name',
          'readOnly',
          'referenceName',
          'supportedOperations',
          'type',
          'url',
          'usage',
        ].sort(),
      );
      expect(f).toMatchObject({
        usage: 'workItem',
        isQueryable: true,
        isPicklist: false,
        isPicklistSuggested: false,
      });
      expect(f.url).toBe(`${sim.url}/_apis/wit/fields/${f.referenceName}`);
    }
    const names = fields.map((f) => f.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));
    expect(new Set(fields.map((f) => f.referenceName)).size).toBe(fields.length);

    const typeOf = (ref: string) => byRef(fields, ref).type;
    expect(typeOf('System.Description')).toBe('html');
    expect(typeOf(AC)).toBe('html');
    expect(typeOf('System.History')).toBe('history');
    expect(typeOf('System.Tags')).toBe('plainText');
    expect(typeOf('System.AreaPath')).toBe('treePath');
    expect(typeOf('Microsoft.VSTS.Scheduling.StartDate')).toBe('dateTime');
    expect(typeOf('Microsoft.VSTS.Scheduling.StoryPoints')).toBe('double');
    expect(typeOf('Microsoft.VSTS.Common.StackRank')).toBe('double');
    expect(byRef(fields, PRIORITY)).toMatchObject({ type: 'integer', isPicklist: false, canSortBy: true });
    expect(byRef(fields, RISK)).toMatchObject({ type: 'string', isPicklist: false, isIdentity: false });
    // An identity is a string field flagged isIdentity, as the service lists System.AssignedTo.
    expect(byRef(fields, 'System.AssignedTo')).toMatchObject({
      type: 'string',
      isIdentity: true,
      readOnly: false,
    });
    expect(byRef(fields, 'System.ChangedDate')).toMatchObject({ type: 'dateTime', readOnly: true });
    expect(byRef(fields, 'System.Id')).toMatchObject({ type: 'integer', readOnly: true });
    // The service lists Changed By as writable: a client needs its own deny list for it.
    expect(byRef(fields, 'System.ChangedBy')).toMatchObject({ isIdentity: true, readOnly: false });
    expect(byRef(fields, 'System.Description').canSortBy).toBe(false);
  });

  it('lists supported operations as the service does', async () => {
    const fields = await listOf('/Agile%20Project/_apis/wit/fields');
    const ops = (ref: string) =>
      (byRef(fields, ref).supportedOperations as Array<{ referenceName?: string; name: string }>).map(
        (o) => o.name,
      );

    expect(ops('System.Description')).toEqual(['Contains Words', 'Does Not Contain Words']);
    expect(ops('System.Tags')).toEqual(['Contains', 'Does Not Contain']);
    expect(ops('System.AreaPath')).toEqual(['Under', 'Not Under', '=', '<>', 'In', 'Not In']);
    expect(ops('System.Title')).toContain('Contains Words');
    expect(ops(PRIORITY)).toContain('Was Ever');
    expect(ops('System.Id')).not.toContain('Was Ever');
    const notIn = (byRef(fields, RISK).supportedOperations as Json[]).find((o) => o.name === 'Not In');
    expect(notIn).toEqual({ name: 'Not In' });
  });

  it("keeps each project's list to its process and the organization's to every process", async () => {
    const refs = async (path: string) => (await listOf(path)).map((f) => f.referenceName);
    const basic = await refs('/Basic%20Project/_apis/wit/fields');
    const scrum = await refs(`/${enc(INHERITED_PROJECT)}/_apis/wit/fields`);
    const organization = await refs('/_apis/wit/fields');

    expect(basic).not.toContain(RISK);
    expect(basic).not.toContain(AC);
    expect(basic).toContain('Microsoft.VSTS.Common.StackRank');
    expect(scrum).toContain('Microsoft.VSTS.Common.BacklogPriority');
    expect(scrum).not.toContain('Microsoft.VSTS.Common.StackRank');
    for (const ref of [
      RISK,
      AC,
      'Microsoft.VSTS.CMMI.RequirementType',
      'Microsoft.VSTS.Scheduling.StoryPoints',
    ])
      expect(organization).toContain(ref);
    for (const ref of [...basic, ...scrum]) expect(organization).toContain(ref);
    expect(new Set(organization).size).toBe(organization.length);
  });

  it('answers one field by reference or display name, and 404 for an unknown one or project', async () => {
    expect(await ok('/_apis/wit/fields/System.AssignedTo')).toMatchObject({
      name: 'Assigned To',
      isIdentity: true,
    });
    expect(await ok('/Agile%20Project/_apis/wit/fields/Story%20Points')).toMatchObject({
      referenceName: 'Microsoft.VSTS.Scheduling.StoryPoints',
      type: 'double',
    });
    await expectError(
      await call('GET', '/_apis/wit/fields/Custom.Risk'),
      404,
      'TF51535: Cannot find field Custom.Risk.',
    );
    await expectError(await call('GET', '/No%20Such%20Project/_apis/wit/fields'), 404, 'TF200016');
  });
});

describe('GET /{project}/_apis/wit/workitemtypes', () => {
  it.each(PROCESS_NAMES)(
    'gives each %s type its referenceName, isDisabled and field instances',
    async (process) => {
      const types = await listOf<
        FieldJson & { fields: FieldJson[]; fieldInstances: FieldJson[]; states: Json[] }
      >(`/${enc(`${process} Project`)}/_apis/wit/workitemtypes`);

      for (const type of types) {
        expect(type.referenceName).toMatch(/^Microsoft\.VSTS\.WorkItemTypes\.\w+$/);
        expect(type.isDisabled).toBe(false);
        expect(type.fieldInstances).toEqual(type.fields);
        for (const f of type.fields) {
          // No allowedValues nor dependentFields in a type's list: they need the type's fields route + $expand.
          expect(Object.keys(f).sort()).toEqual([
            'alwaysRequired',
            'defaultValue',
            'name',
            'referenceName',
            'url',
          ]);
          expect(f.url).toMatch(new RegExp(`/_apis/wit/fields/${f.referenceName.replace(/\./g, '\\.')}$`));
        }
        expect(byRef(type.fields, 'System.Title').alwaysRequired).toBe(true);
        expect(byRef(type.fields, 'System.State')).toMatchObject({
          alwaysRequired: true,
          defaultValue: type.states[0]?.name,
        });
      }
      for (const name of BACKLOG[process]) {
        const type = types.find((t) => t.name === name);
        const refs = type?.fields.map((f) => f.referenceName);
        expect(refs).toEqual(expect.arrayContaining([...STOCK, PRIORITY]));
      }
    },
  );

  it('has the stock backlog fields of each process', async () => {
    const fieldsOf = async (project: string, type: string) =>
      (await listOf(`/${enc(project)}/_apis/wit/workitemtypes/${enc(type)}/fields`)).map(
        (f) => f.referenceName,
      );
    const has = (refs: string[], ...wanted: string[]) => expect(refs).toEqual(expect.arrayContaining(wanted));
    const lacks = (refs: string[], ...unwanted: string[]) => {
      for (const ref of unwanted) expect(refs).not.toContain(ref);
    };
    const S = 'Microsoft.VSTS.Scheduling.';
    const C = 'Microsoft.VSTS.Common.';

    const agileStory = await fieldsOf('Agile Project', 'User Story');
    has(agileStory, AC, RISK, `${C}ValueArea`, `${S}StoryPoints`, `${C}StackRank`);
    for (const type of ['Epic', 'Feature']) {
      has(
        await fieldsOf('Agile Project', type),
        RISK,
        `${S}StartDate`,
        `${S}TargetDate`,
        `${C}BusinessValue`,
      );
      has(await fieldsOf('Agile Project', type), `${C}TimeCriticality`, `${S}Effort`, `${C}StackRank`);
    }
    has(await fieldsOf('Agile Project', 'Feature'), AC);
    const pbi = await fieldsOf('Scrum Project', 'Product Backlog Item');
    has(pbi, AC, `${S}Effort`, `${C}BacklogPriority`, `${C}BusinessValue`, `${C}ValueArea`);
    lacks(pbi, RISK, `${C}StackRank`);
    const requirement = await fieldsOf('CMMI Project', 'Requirement');
    has(requirement, AC, RISK, `${S}Size`, 'Microsoft.VSTS.CMMI.RequirementType', `${C}StackRank`);
    for (const type of ['Epic', 'Feature']) has(await fieldsOf('CMMI Project', type), RISK, `${S}StartDate`);
    has(
      await fieldsOf('Basic Project', 'Epic'),
      PRIORITY,
      `${C}StackRank`,
      `${S}StartDate`,
      `${S}TargetDate`,
    );
    has(await fieldsOf('Basic Project', 'Issue'), PRIORITY, `${C}StackRank`, `${S}Effort`);
    has(await fieldsOf('Basic Project', 'Task'), PRIORITY, `${S}RemainingWork`, `${S}CompletedWork`);
  });

  it('lists allowed values only with $expand=allowedValues, dependent fields only when asked', async () => {
    const path = '/Agile%20Project/_apis/wit/workitemtypes/User%20Story/fields';
    const plain = await listOf(path);
    const expanded = await listOf(`${path}?$expand=allowedValues`);
    const all = await listOf(`${path}?$expand=All`);

    for (const f of plain) expect(f).not.toHaveProperty('allowedValues');
    for (const f of plain) expect(f).not.toHaveProperty('dependentFields');
    for (const f of expanded) expect(f).not.toHaveProperty('dependentFields');
    expect(byRef(expanded, PRIORITY)).toMatchObject({
      allowedValues: ['1', '2', '3', '4'],
      defaultValue: '2',
    });
    expect(byRef(expanded, RISK).allowedValues).toEqual(['1 - High', '2 - Medium', '3 - Low']);
    expect(byRef(expanded, 'System.State').allowedValues).toEqual([
      'Active',
      'Closed',
      'New',
      'Removed',
      'Resolved',
    ]);
    expect(byRef(expanded, 'System.WorkItemType').allowedValues).toContain('User Story');
    expect(byRef(expanded, 'System.Title').allowedValues).toEqual([]);
    expect(byRef(all, RISK)).toMatchObject({ allowedValues: expect.any(Array), dependentFields: [] });
  });

  it('marks Priority required on the Basic Epic, with its default', async () => {
    const epic = await listOf('/Basic%20Project/_apis/wit/workitemtypes/Epic/fields');
    const issue = await listOf('/Basic%20Project/_apis/wit/workitemtypes/Issue/fields');
    expect(byRef(epic, PRIORITY)).toMatchObject({ alwaysRequired: true, defaultValue: '2' });
    expect(byRef(issue, PRIORITY)).toMatchObject({ alwaysRequired: false, defaultValue: '2' });
  });

  it('answers 404 VS402323 for an unknown type', async () => {
    await expectError(
      await call('GET', '/Agile%20Project/_apis/wit/workitemtypes/Saga/fields?$expand=allowedValues'),
      404,
      'VS402323: Work item type Saga does not exist.',
    );
  });
});

describe('GET /_apis/work/processes/{processTypeId}/workItemTypes[/{witRefName}/fields]', () => {
  const processTypesPath = (typeId: string) => `/_apis/work/processes/${typeId}/workItemTypes`;

  it.each(SYSTEM_PROCESSES.map((p) => [p.name, p.typeId] as const))(
    'describes the %s process without a project',
    async (process, typeId) => {
      const types = await listOf<FieldJson & Json>(processTypesPath(typeId));
      const projectTypes = await listOf(`/${enc(`${process} Project`)}/_apis/wit/workitemtypes`);

      expect(types.map((t) => t.name)).toEqual(projectTypes.map((t) => t.name));
      for (const t of types) {
        expect(t).toMatchObject({
          customization: 'system',
          inherits: null,
          isDisabled: false,
          color: expect.stringMatching(/^[0-9A-F]{6}$/),
          icon: expect.stringMatching(/^icon_/),
          description: expect.any(String),
          url: `${sim.url}/_apis/work/processes/${typeId}/workItemTypes/${t.referenceName}`,
        });
      }
      for (const name of BACKLOG[process]) {
        const type = byRef(types, projectTypes.find((t) => t.name === name)?.referenceName ?? name);
        const fields = await listOf(`${processTypesPath(typeId)}/${type.referenceName}/fields`);
        const instances = await listOf(
          `/${enc(`${process} Project`)}/_apis/wit/workitemtypes/${enc(name)}/fields`,
        );
        expect(fields.map((f) => f.referenceName)).toEqual(instances.map((f) => f.referenceName));
        for (const f of fields) {
          expect(f).toMatchObject({ customization: 'system', isLocked: false, type: expect.any(String) });
          expect(f).not.toHaveProperty('readOnly');
          expect(f).not.toHaveProperty('allowedValues');
          if ('required' in f) expect(f.required).toBe(true);
        }
        expect(byRef(fields, 'System.Title')).toMatchObject({ type: 'string', required: true });
        expect(byRef(fields, 'System.Description').type).toBe('html');
        expect(byRef(fields, 'System.AssignedTo').type).toBe('string');
        expect(byRef(fields, PRIORITY)).toMatchObject({ type: 'integer', defaultValue: '2' });
        expect(byRef(fields, 'System.Id')).not.toHaveProperty('required');
        expect(byRef(fields, 'System.Id')).not.toHaveProperty('defaultValue');
      }
    },
  );

  it("answers an inherited process's parent types and fields", async () => {
    const scrum = SYSTEM_PROCESSES.find((p) => p.name === 'Scrum')?.typeId ?? '';
    const inherited = await listOf(processTypesPath(inheritedTypeId));
    const parent = await listOf(processTypesPath(scrum));

    expect(inherited.map((t) => t.referenceName)).toEqual(parent.map((t) => t.referenceName));
    const pbi = 'Microsoft.VSTS.WorkItemTypes.ProductBacklogItem';
    const fields = await listOf(`${processTypesPath(inheritedTypeId)}/${pbi}/fields`);
    const parentFields = await listOf(`${processTypesPath(scrum)}/${pbi}/fields`);
    expect(fields.map(({ url: _url, ...rest }) => rest)).toEqual(
      parentFields.map(({ url: _url, ...rest }) => rest),
    );
    expect(byRef(fields, AC).type).toBe('html');
    // The process API and the inherited process's project agree.
    const projectFields = await listOf(
      `/${enc(INHERITED_PROJECT)}/_apis/wit/workitemtypes/Product%20Backlog%20Item/fields`,
    );
    expect(projectFields.map((f) => f.referenceName)).toEqual(fields.map((f) => f.referenceName));
  });

  it('accepts the reference name in any case and the route segment in any case', async () => {
    const agile = SYSTEM_PROCESSES.find((p) => p.name === 'Agile')?.typeId ?? '';
    const fields = await listOf(
      `/_apis/work/processes/${agile}/WORKITEMTYPES/microsoft.vsts.workitemtypes.userstory/fields`,
    );
    expect(fields.map((f) => f.referenceName)).toContain(RISK);
  });

  it('answers 404 for an unknown process, type, or a display name instead of a reference name', async () => {
    const agile = SYSTEM_PROCESSES.find((p) => p.name === 'Agile')?.typeId ?? '';
    const unknown = randomUUID();
    const body = await expectError(await call('GET', processTypesPath(unknown)), 404, unknown);
    expect(body.typeKey).toBe('ProcessNotFoundException');
    await expectError(
      await call('GET', `${processTypesPath(unknown)}/Microsoft.VSTS.WorkItemTypes.Epic/fields`),
      404,
      unknown,
    );
    await expectError(await call('GET', `${processTypesPath(agile)}/User%20Story/fields`), 404, 'VS402323');
    await expectError(
      await call('GET', `${processTypesPath(agile)}/Microsoft.VSTS.WorkItemTypes.Issue2/fields`),
      404,
      'VS402323',
    );
  });
});

describe('POST /{project}/_apis/wit/workitems/$Type: field values', () => {
  it.each([
    [
      'a field the type does not have',
      'Basic',
      'Issue',
      [field(RISK, '1 - High')],
      `TF51535: Cannot find field ${RISK}.`,
    ],
    [
      'a value of the wrong type',
      'Agile',
      'User Story',
      [field(PRIORITY, 'high')],
      `TF401326: Invalid field status 'InvalidType' for field '${PRIORITY}'.`,
    ],
    [
      'a decimal in an integer field',
      'Agile',
      'Epic',
      [field('Microsoft.VSTS.Common.BusinessValue', 2.5)],
      "TF401326: Invalid field status 'InvalidType' for field 'Microsoft.VSTS.Common.BusinessValue'.",
    ],
    [
      'an object in a string field',
      'Agile',
      'User Story',
      [field('Microsoft.VSTS.Common.ValueArea', { value: 'Business' })],
      "TF401326: Invalid field status 'InvalidType' for field 'Microsoft.VSTS.Common.ValueArea'.",
    ],
    [
      'a date that is not one',
      'Agile',
      'Epic',
      [field('Microsoft.VSTS.Scheduling.StartDate', 'next week')],
      "TF401326: Invalid field status 'InvalidDate' for field 'Microsoft.VSTS.Scheduling.StartDate'.",
    ],
    [
      'a value outside the allowed values',
      'CMMI',
      'Requirement',
      [field(RISK, 'High')],
      'TF401320: Rule Error for field Risk. Error code: HasValues, LimitedToValues, InvalidListValue.',
    ],
    [
      'a read-only field',
      'Scrum',
      'Product Backlog Item',
      [field('System.CreatedBy', 'someone@example.com')],
      "TF401326: Invalid field status 'ReadOnly' for field 'System.CreatedBy'.",
    ],
    [
      'a string field over 255 characters',
      'Agile',
      'Task',
      [field('Microsoft.VSTS.Common.Activity', 'a'.repeat(256))],
      "TF401324: Value for field 'Microsoft.VSTS.Common.Activity' is too long.",
    ],
  ] as const)(
    'refuses %s with 400, naming the field, and creates nothing',
    async (_case, process, type, ops, message) => {
      const project = newProject(process);
      await expectError(await create(project, type, [title('x'), ...ops]), 400, message);
      expect(sim.workItems(project)).toEqual([]);
    },
  );

  it('takes an html field of any length and a string field of exactly 255 characters', async () => {
    const project = newProject('Agile');
    const long = `<p>${'x'.repeat(50_000)}</p>`;
    const res = await create(project, 'Task', [
      title('Long'),
      field('System.Description', long),
      field('Microsoft.VSTS.Common.Activity', 'b'.repeat(255)),
    ]);
    expect(res.status).toBe(200);
    expect(sim.workItems(project)[0]?.fields).toMatchObject({
      'System.Description': long,
      'Microsoft.VSTS.Common.Activity': 'b'.repeat(255),
    });
  });

  it('writes one field of every kind and reads them back', async () => {
    const project = newProject('Agile');
    const values: Array<[ref: string, value: unknown]> = [
      ['System.Title', 'Every kind'], // string
      ['System.Description', '<p>Line<br>two</p>'], // html
      ['System.Tags', 'alpha; beta'], // plainText
      ['System.History', '<div>Created by the sync</div>'], // history
      [PRIORITY, 1], // integer (allowed values)
      ['Microsoft.VSTS.Scheduling.Effort', 3.5], // double
      ['Microsoft.VSTS.Scheduling.StartDate', '2026-03-01T09:30:00Z'], // dateTime
      ['System.AssignedTo', 'simulator.user@example.com'], // identity
      ['System.AreaPath', project], // treePath
      [RISK, '2 - Medium'], // string (allowed values)
      [AC, '<ul><li>done</li></ul>'], // html
    ];
    const res = await create(
      project,
      'Feature',
      values.map(([ref, value]) => field(ref, value)),
    );
    const created = (await res.json()) as { id: number };
    expect(res.status, JSON.stringify(created)).toBe(200);

    const batch = await call('POST', '/_apis/wit/workitemsbatch', { ids: [created.id] });
    const [item] = ((await batch.json()) as { value: Array<{ fields: Json }> }).value;
    expect(item?.fields).toMatchObject({
      'System.Title': 'Every kind',
      'System.Description': '<p>Line<br>two</p>',
      'System.Tags': 'alpha; beta',
      'System.History': '<div>Created by the sync</div>',
      [PRIORITY]: 1,
      'Microsoft.VSTS.Scheduling.Effort': 3.5,
      'Microsoft.VSTS.Scheduling.StartDate': '2026-03-01T09:30:00.000Z',
      'System.AssignedTo': expect.objectContaining({ uniqueName: 'simulator.user@example.com' }),
      'System.AreaPath': project,
      [RISK]: '2 - Medium',
      [AC]: '<ul><li>done</li></ul>',
      'Microsoft.VSTS.Common.ValueArea': 'Business',
    });
  });
});

describe('stats', () => {
  it('counts field, type and process-level requests, and resetStats zeroes them', async () => {
    const agile = SYSTEM_PROCESSES.find((p) => p.name === 'Agile')?.typeId ?? '';
    sim.resetStats();
    await call('GET', '/_apis/wit/fields');
    await call('GET', '/Agile%20Project/_apis/wit/fields');
    await call('GET', '/Agile%20Project/_apis/wit/workitemtypes');
    await call('GET', '/Agile%20Project/_apis/wit/workitemtypes/Epic/fields');
    await call('GET', `/_apis/work/processes/${agile}/workItemTypes`);
    await call(
      'GET',
      `/_apis/work/processes/${agile}/workItemTypes/Microsoft.VSTS.WorkItemTypes.Epic/fields`,
    );
    expect(sim.stats).toMatchObject({
      fieldRequests: 2,
      workItemTypeRequests: 2,
      processRequests: 2,
      requests: 6,
    });
    sim.resetStats();
    expect(sim.stats).toMatchObject({ fieldRequests: 0, workItemTypeRequests: 0, processRequests: 0 });
  });
});
