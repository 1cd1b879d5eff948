import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdoSimulator, SimWorkItem } from '#sim/ado/index.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';

interface Envelope<T = unknown> {
  success: boolean;
  data: T;
  error?: string;
  message?: string;
  details?: Array<{ path: string; message: string }>;
}
interface Row {
  ardoqField: string;
  azureDevOpsField: string;
  workItemType: 'epic' | 'feature' | 'user_story';
  transform?: string;
}
interface Config {
  id: string;
  name: string;
  projectId: string;
  projectName?: string;
  isDefault: boolean;
  mappings: Array<Row & { id: string }>;
}

const PROJECT = 'Agile Project';
const IDENTITY = 'simulator.user@example.com';
const PRIORITY_WORDS = ['Critical', 'High', 'Medium', 'Low'];
const RISKS = ['1 - High', '2 - Medium', '3 - Low'];

/** Every transform at least once (WORKFLOW.md §6.6): what the 100-item test syncs with. */
const EVERY_TRANSFORM: Row[] = [
  { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: 'epic' },
  { ardoqField: 'priority', azureDevOpsField: 'Microsoft.VSTS.Common.Priority', workItemType: 'epic' },
  { ardoqField: 'tags', azureDevOpsField: 'System.Tags', workItemType: 'epic' },
  { ardoqField: 'componentKey', azureDevOpsField: 'System.Tags', workItemType: 'epic' },
  {
    ardoqField: 'lastUpdatedDate',
    azureDevOpsField: 'Microsoft.VSTS.Scheduling.StartDate',
    workItemType: 'epic',
  },
  { ardoqField: 'owner', azureDevOpsField: 'System.AssignedTo', workItemType: 'epic', transform: 'identity' },
  {
    ardoqField: 'customFields.value_area',
    azureDevOpsField: 'Microsoft.VSTS.Common.ValueArea',
    workItemType: 'epic',
    transform: 'text',
  },
  {
    ardoqField: 'description',
    azureDevOpsField: 'System.Description',
    workItemType: 'feature',
    transform: 'html',
  },
  { ardoqField: 'priority', azureDevOpsField: 'Microsoft.VSTS.Common.Priority', workItemType: 'feature' },
  { ardoqField: 'componentKey', azureDevOpsField: 'System.Tags', workItemType: 'feature', transform: 'tags' },
  {
    ardoqField: 'businessValue',
    azureDevOpsField: 'Microsoft.VSTS.Common.BusinessValue',
    workItemType: 'feature',
    transform: 'number',
  },
  { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: 'user_story' },
  {
    ardoqField: 'acceptanceCriteria',
    azureDevOpsField: 'Microsoft.VSTS.Common.AcceptanceCriteria',
    workItemType: 'user_story',
  },
  {
    ardoqField: 'priority',
    azureDevOpsField: 'Microsoft.VSTS.Common.Priority',
    workItemType: 'user_story',
    transform: 'priority',
  },
  {
    ardoqField: 'risk',
    azureDevOpsField: 'Microsoft.VSTS.Common.Risk',
    workItemType: 'user_story',
    transform: 'risk',
  },
  {
    ardoqField: 'storyPoints',
    azureDevOpsField: 'Microsoft.VSTS.Scheduling.StoryPoints',
    workItemType: 'user_story',
  },
  { ardoqField: 'tags', azureDevOpsField: 'System.Tags', workItemType: 'user_story' },
  { ardoqField: 'owner', azureDevOpsField: 'System.AssignedTo', workItemType: 'user_story' },
];

/** A 100-node tree (4 epics × 4 features × 5 stories) whose values exercise every transform. */
function hundredItemTree(prefix: string) {
  let n = 0;
  const node = (type: 'Epic' | 'Feature' | 'User Story') => {
    const i = n++;
    return {
      _id: `${prefix}-${i}`,
      name: `${prefix} ${type} ${i}`,
      type,
      description: `Line one of ${i} & <b>${type}</b>\nline two`,
      componentKey: `FM-${i}`,
      tags: ['alpha', i % 2 === 0 ? 'Beta' : 'alpha'],
      owner: IDENTITY,
      customFields: {
        priority: PRIORITY_WORDS[i % 4],
        value_area: i % 2 === 0 ? 'Business' : 'Architectural',
        context_description: `Context of ${i}`,
        purpose: `Purpose of ${i}`,
        acceptance_criteria: `Given ${i}\nthen done`,
      },
      _meta: { lastUpdated: new Date(Date.UTC(2026, 0, 1 + (i % 28), 9)).toISOString() },
      businessValue: 10 * i,
      risk: (i % 3) + 1,
      storyPoints: (i % 8) + 1,
    };
  };
  const epics = Array.from({ length: 4 }, () => ({
    ...node('Epic'),
    children: Array.from({ length: 4 }, () => ({
      ...node('Feature'),
      children: Array.from({ length: 5 }, () => node('User Story')),
    })),
  }));
  return { epics };
}

const html = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '<br>');

/** What the mapping must have written for one node: computed here from the node, field by field. */
function expectedFields(
  node: ReturnType<typeof hundredItemTree>['epics'][number]['children'][number],
  i: number,
) {
  const type = node.type as string;
  const priority = PRIORITY_WORDS.indexOf(node.customFields.priority as string) + 1;
  if (type === 'Epic') {
    return {
      'System.Description': html(node.description),
      'Microsoft.VSTS.Common.Priority': priority,
      tags: ['ardoq-sync', 'alpha', ...(i % 2 === 0 ? ['Beta'] : []), node.componentKey],
      'Microsoft.VSTS.Scheduling.StartDate': node._meta.lastUpdated,
      'System.AssignedTo': IDENTITY,
      'Microsoft.VSTS.Common.ValueArea': node.customFields.value_area,
    };
  }
  if (type === 'Feature') {
    return {
      'System.Description': html(
        `${node.customFields.context_description}\n\nPurpose: ${node.customFields.purpose}`,
      ),
      'Microsoft.VSTS.Common.Priority': priority,
      tags: ['ardoq-sync', node.componentKey],
      'Microsoft.VSTS.Common.BusinessValue': node.businessValue,
    };
  }
  return {
    'System.Description': html(node.description),
    'Microsoft.VSTS.Common.AcceptanceCriteria': html(node.customFields.acceptance_criteria),
    'Microsoft.VSTS.Common.Priority': priority,
    'Microsoft.VSTS.Common.Risk': RISKS[node.risk - 1],
    'Microsoft.VSTS.Scheduling.StoryPoints': node.storyPoints,
    tags: ['ardoq-sync', 'alpha', ...(i % 2 === 0 ? ['Beta'] : [])],
    'System.AssignedTo': IDENTITY,
  };
}

/** What the simulator stored, in the same shape as `expectedFields`. */
function writtenFields(item: SimWorkItem, keys: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === 'tags') {
      out.tags = String(item.fields['System.Tags'] ?? '')
        .split(';')
        .map((t) => t.trim())
        .filter(Boolean);
    } else if (key === 'System.AssignedTo') {
      out[key] = (item.fields[key] as { uniqueName?: string } | undefined)?.uniqueName;
    } else out[key] = item.fields[key];
  }
  return out;
}

/** WORKFLOW.md §6: templates, configurations, a project's types and fields, and syncs that apply them. */
describe('field mapping', () => {
  let api: ContractSystem;
  let ado: AdoSimulator;
  let projectGuid: string;
  const F = '/api/field-mapping';
  const body = <T>(answer: { json: unknown }) => answer.json as Envelope<T>;
  const get = async <T>(path: string) => body<T>(await api.call('GET', path));
  const create = (fields: Record<string, unknown>) =>
    api.call('POST', `${F}/configs`, {
      body: { name: unique('Mapping'), projectId: PROJECT, mappings: [], ...fields },
    });

  beforeAll(async () => {
    api = await startContractSystem();
    if (!api.system.simulator) throw new Error('the local system runs without its simulator');
    ado = api.system.simulator;
    const projects = await get<Array<{ id: string; name: string }>>('/api/azure-devops/projects');
    projectGuid = projects.data.find((p) => p.name === PROJECT)?.id ?? '';
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  it('serves the four read-only templates, with the corrected rows', async () => {
    const templates = await get<
      Array<{ processTemplateName: string; mappings: Row[]; isSystemDefault: boolean }>
    >(`${F}/templates`);
    expect(templates.data.map((t) => t.processTemplateName)).toEqual(['Agile', 'Basic', 'CMMI', 'Scrum']);
    const all = JSON.stringify(templates.data);
    expect(all).not.toMatch(/System\.ChangedBy|System\.ChangedDate|Custom\.Risk|Common\.Category/);
    const agile = templates.data.find((t) => t.processTemplateName === 'Agile');
    expect(agile?.mappings).toContainEqual(
      expect.objectContaining({
        ardoqField: 'risk',
        azureDevOpsField: 'Microsoft.VSTS.Common.Risk',
        transform: 'risk',
      }),
    );
    expect((await get(`${F}/templates?processTemplateName=Scrum`)).data).toHaveLength(1);
    expect((await api.call('POST', `${F}/templates`, { body: {} })).status).toBe(405);
  });

  it('starts with the example configuration npm start seeds, found by the project’s name and GUID', async () => {
    for (const project of [encodeURIComponent(PROJECT), projectGuid]) {
      const listed = await get<Config[]>(`${F}/configs?projectId=${project}`);
      const example = listed.data.find((c) => c.name === 'Ardoq planning fields (example)');
      expect(example, project).toMatchObject({ projectName: PROJECT, isDefault: false });
      expect(example?.mappings).toContainEqual(
        expect.objectContaining({
          ardoqField: 'lastUpdatedDate',
          azureDevOpsField: 'Microsoft.VSTS.Scheduling.StartDate',
          workItemType: 'epic',
        }),
      );
    }
  });

  it('lists a project’s types with their typed writable fields, by name or by GUID', async () => {
    for (const project of [encodeURIComponent(PROJECT), projectGuid]) {
      const types = await get<
        Array<{
          name: string;
          referenceName: string;
          fields: Array<{ referenceName: string; type?: string }>;
        }>
      >(`${F}/work-item-types?projectId=${project}`);
      const story = types.data.find((t) => t.name === 'User Story');
      expect(story?.referenceName.toLowerCase()).toContain('userstory');
      const field = (ref: string) => story?.fields.find((f) => f.referenceName === ref);
      expect(field('System.Description')?.type).toBe('html');
      expect(field('Microsoft.VSTS.Common.Priority')?.type).toBe('integer');
      expect(field('System.ChangedBy')).toBeUndefined(); // read-only: not offered
    }
    const fields = await get<Array<{ referenceName: string }>>(
      `${F}/fields?projectId=${encodeURIComponent(PROJECT)}&workItemType=Epic`,
    );
    expect(fields.data.map((f) => f.referenceName)).toContain('Microsoft.VSTS.Scheduling.StartDate');
    expect(
      (await api.call('GET', `${F}/fields?projectId=${encodeURIComponent(PROJECT)}&workItemType=Nope`))
        .status,
    ).toBe(404);
    expect((await api.call('GET', `${F}/work-item-types?projectId=No%20such%20project`)).status).toBe(404);
    expect((await api.call('GET', `${F}/work-item-types`)).status).toBe(400);
  });

  it('reads a project’s types and fields from Azure DevOps once for the editor’s calls and the save', async () => {
    const project = unique('Cached').replace(/\s/g, '-');
    (ado as AdoSimulator & { addProject(name: string, process: string): void }).addProject(project, 'Agile');
    const before = ado.stats.requests;
    await get(`${F}/work-item-types?projectId=${project}`);
    const first = ado.stats.requests - before;
    expect(first).toBeGreaterThan(0);
    await get(`${F}/fields?projectId=${project}&workItemType=Epic`);
    const saved = await create({ projectId: project, mappings: [EVERY_TRANSFORM[0]] });
    expect(saved.status, saved.text).toBe(201);
    expect(ado.stats.requests - before).toBe(first);
  });

  it('saves a configuration checked against the project, found later by its name or its GUID, audited', async () => {
    const answer = await create({ projectId: projectGuid, isDefault: false, mappings: EVERY_TRANSFORM });
    expect(answer.status, answer.text).toBe(201);
    const saved = body<Config>(answer).data;
    expect(saved).toMatchObject({ projectId: projectGuid, projectName: PROJECT, isDefault: false });
    expect(saved.mappings).toHaveLength(EVERY_TRANSFORM.length);
    for (const project of [
      encodeURIComponent(PROJECT),
      projectGuid,
      encodeURIComponent(PROJECT.toLowerCase()),
    ]) {
      const listed = await get<Config[]>(`${F}/configs?projectId=${project}`);
      expect(listed.data.map((c) => c.id)).toContain(saved.id);
    }
    expect((await get<Config[]>(`${F}/configs?projectId=Unknown%20project`)).data).toEqual([]);
    const trail = await get<Array<{ action_type: string; details: Record<string, unknown> }>>(
      `/api/audit-logs?entity_id=${saved.id}`,
    );
    expect(trail.data.map((e) => [e.action_type, e.details.system])).toEqual([
      ['config_created', 'field-mapping'],
    ]);
  });

  it.each([
    [
      'a field the type does not have',
      [{ ardoqField: 'x', azureDevOpsField: 'Custom.Risk', workItemType: 'user_story' }],
      'mappings[0].azureDevOpsField',
    ],
    [
      'a field Azure DevOps sets',
      [{ ardoqField: 'lastUpdatedBy', azureDevOpsField: 'System.ChangedBy', workItemType: 'epic' }],
      'mappings[0].azureDevOpsField',
    ],
    [
      'a transform that does not fit',
      [
        {
          ardoqField: 'risk',
          azureDevOpsField: 'Microsoft.VSTS.Common.Priority',
          workItemType: 'epic',
          transform: 'date',
        },
      ],
      'mappings[0].transform',
    ],
    [
      'two sources into one field',
      [
        { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: 'epic' },
        { ardoqField: 'purpose', azureDevOpsField: 'System.Description', workItemType: 'epic' },
      ],
      'mappings[1].azureDevOpsField',
    ],
    [
      'an unknown transform',
      [{ ardoqField: 'x', azureDevOpsField: 'System.Description', workItemType: 'epic', transform: 'eval' }],
      'mappings[0].transform',
    ],
    [
      'an unknown level',
      [{ ardoqField: 'x', azureDevOpsField: 'System.Description', workItemType: 'task' }],
      'mappings[0].workItemType',
    ],
    [
      '301 rows',
      Array.from({ length: 301 }, () => ({
        ardoqField: 'x',
        azureDevOpsField: 'System.Description',
        workItemType: 'epic',
      })),
      'mappings',
    ],
  ])(
    'refuses %s with a 400 naming the row and the field, writing nothing',
    async (_label, mappings, path) => {
      const before = (await get<Config[]>(`${F}/configs?projectId=${encodeURIComponent(PROJECT)}`)).data
        .length;
      const answer = await create({ mappings });
      expect(answer.status, answer.text).toBe(400);
      expect(body(answer).details?.map((d) => d.path)).toContain(path);
      expect((await get<Config[]>(`${F}/configs?projectId=${encodeURIComponent(PROJECT)}`)).data.length).toBe(
        before,
      );
    },
  );

  it('updates (rows replaced, one default per project), refuses a taken name, deletes', async () => {
    const first = body<Config>(await create({ isDefault: true })).data;
    const second = body<Config>(await create({ isDefault: false })).data;
    const made = await api.call('PUT', `${F}/configs/${second.id}`, {
      body: { ...second, isDefault: true, mappings: [EVERY_TRANSFORM[0]] },
    });
    expect(made.status, made.text).toBe(200);
    expect(body<Config>(made).data).toMatchObject({
      isDefault: true,
      mappings: [expect.objectContaining(EVERY_TRANSFORM[0])],
    });
    expect((await get<Config>(`${F}/configs/${first.id}`)).data.isDefault).toBe(false);
    expect(
      (await api.call('PUT', `${F}/configs/${first.id}`, { body: { name: second.name.toUpperCase() } }))
        .status,
    ).toBe(409);
    expect((await api.call('DELETE', `${F}/configs/${first.id}`)).status).toBe(200);
    expect((await api.call('GET', `${F}/configs/${first.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `${F}/configs/${second.id}`)).status).toBe(200);
  });

  it('writes exactly what the mapping says, item by item, on a 100-item tree with every transform', async () => {
    const config = body<Config>(await create({ mappings: EVERY_TRANSFORM })).data;
    const prefix = unique('fm').replace(/\s/g, '');
    const tree = hundredItemTree(prefix);
    const before = { requests: ado.stats.requests, creates: ado.stats.creates };
    const syncId = await api.system.startSync(PROJECT, { ...tree, fieldMappingConfigId: config.id });
    const done = await api.system.waitForTerminal(syncId, 90_000);
    expect(done).toMatchObject({ status: 'completed', items_created: 100 });
    // One create per item; the prepare step's few reads (project, types, fields) are all the rest.
    expect(ado.stats.creates - before.creates).toBe(100);
    expect(ado.stats.requests - before.requests - 100).toBeLessThanOrEqual(6);
    expect(done.field_mapping).toEqual({
      kind: 'config',
      id: config.id,
      name: config.name,
      processTemplateName: 'Agile',
    });

    const byTitle = new Map(ado.workItems(PROJECT).map((w) => [String(w.fields['System.Title']), w]));
    const nodes = tree.epics.flatMap((e) => [e, ...e.children.flatMap((f) => [f, ...f.children])]);
    expect(nodes).toHaveLength(100);
    for (const node of nodes) {
      const i = Number(node._id.split('-').at(-1));
      const expected = expectedFields(node as never, i);
      const item = byTitle.get(node.name);
      expect(item, node.name).toBeDefined();
      const written = writtenFields(item as SimWorkItem, Object.keys(expected));
      expect({ ...written, tags: [...(written.tags as string[])].sort() }, node.name).toEqual({
        ...expected,
        tags: [...expected.tags].sort(),
      });
    }
  }, 120_000);

  it('a value the mapping cannot write fails that item, named by its field; the sync goes on', async () => {
    const config = body<Config>(
      await create({
        mappings: [
          {
            ardoqField: 'priority',
            azureDevOpsField: 'Microsoft.VSTS.Common.Priority',
            workItemType: 'epic',
          },
        ],
      }),
    ).data;
    const id = unique('bad').replace(/\s/g, '');
    const syncId = await api.system.startSync(PROJECT, {
      fieldMappingConfigId: config.id,
      epics: [
        { _id: `${id}-ok`, name: `${id} fine`, type: 'Epic', priority: 'High' },
        {
          _id: `${id}-bad`,
          name: `${id} urgent`,
          type: 'Epic',
          priority: 'urgent',
          children: [{ _id: `${id}-f`, name: `${id} child`, type: 'Feature' }],
        },
      ],
    });
    const done = await api.system.waitForTerminal(syncId);
    expect(done).toMatchObject({ status: 'completed', items_created: 1, items_failed: 1, items_skipped: 1 });
    const items = await get<Array<{ ardoq_id: string; status: string; error_message?: string }>>(
      `/api/sync-history/${syncId}/items`,
    );
    expect(items.data.find((i) => i.ardoq_id === `${id}-bad`)?.error_message).toMatch(
      /^Field Microsoft\.VSTS\.Common\.Priority: 'urgent' is not a priority/,
    );
  });

  it('a sync with a template alone uses that template; with nothing, the project’s process template', async () => {
    // The Agile template writes a story's risk, the Scrum template does not: which one ran shows.
    const story = (tag: string) => ({
      _id: unique(tag).replace(/\s/g, ''),
      name: unique(`${tag} story`),
      type: 'Epic',
      description: 'Epic text',
      children: [
        {
          _id: unique(`${tag}f`).replace(/\s/g, ''),
          name: unique(`${tag} feature`),
          type: 'Feature',
          children: [
            {
              _id: unique(`${tag}s`).replace(/\s/g, ''),
              name: unique(`${tag} story`),
              type: 'User Story',
              description: 'Story text',
              risk: 1,
            },
          ],
        },
      ],
    });
    const storyOf = (epic: ReturnType<typeof story>) => {
      const name = epic.children[0]?.children[0]?.name;
      return ado.workItems(PROJECT).find((w) => w.fields['System.Title'] === name);
    };

    const scrumEpic = story('tpl');
    const withTemplate = await api.system.startSync(PROJECT, {
      processTemplateTemplateName: 'Scrum',
      epics: [scrumEpic],
    });
    expect(await api.system.waitForTerminal(withTemplate)).toMatchObject({
      status: 'completed',
      items_created: 3,
      field_mapping: { kind: 'template', id: 'template-scrum-default', processTemplateName: 'Scrum' },
    });
    expect(storyOf(scrumEpic)?.fields['System.Description']).toBe('Story text');
    expect(storyOf(scrumEpic)?.fields['Microsoft.VSTS.Common.Risk']).toBeUndefined();

    const plainEpic = story('def');
    const plain = await api.system.startSync(PROJECT, { epics: [plainEpic] });
    expect(await api.system.waitForTerminal(plain)).toMatchObject({
      status: 'completed',
      field_mapping: { kind: 'default', id: 'template-agile-default', processTemplateName: 'Agile' },
    });
    expect(storyOf(plainEpic)?.fields['Microsoft.VSTS.Common.Risk']).toBe('1 - High');
    // At accept time only the kind was known: the history row names the template the prepare step chose.
    const started = body(
      await api.call('GET', `/api/audit-logs?action_type=sync_started&entity_id=${plain}`),
    ) as unknown as { data: { details: Record<string, unknown> }[] };
    expect(started.data[0]?.details.field_mapping).toEqual({ kind: 'default' });

    const scrumProject = await api.system.startSync('Scrum Project', {
      epics: [{ _id: unique('def').replace(/\s/g, ''), name: unique('Default epic'), type: 'Epic' }],
    });
    expect((await api.system.waitForTerminal(scrumProject)).field_mapping).toMatchObject({
      kind: 'default',
      processTemplateName: 'Scrum',
    });
    const unknown = await api.call(
      'POST',
      `/api/azure-devops/projects/${encodeURIComponent(PROJECT)}/workitems`,
      { body: { processTemplateTemplateName: 'Waterfall', epics: [story('none')] } },
    );
    expect(unknown.status, unknown.text).toBe(400);
    expect(body(unknown).details?.map((d) => d.path)).toContain('processTemplateTemplateName');
  });

  it('freezes the mapping with the sync: editing or deleting the configuration changes nothing of it', async () => {
    const config = body<Config>(await create({ mappings: [EVERY_TRANSFORM[0]] })).data;
    const syncId = await api.system.startSync(PROJECT, {
      fieldMappingConfigId: config.id,
      epics: [{ _id: unique('frz').replace(/\s/g, ''), name: unique('Frozen epic'), type: 'Epic' }],
    });
    await api.call('PUT', `${F}/configs/${config.id}`, { body: { name: 'Renamed later' } });
    await api.call('DELETE', `${F}/configs/${config.id}`);
    const done = await api.system.waitForTerminal(syncId);
    expect(done).toMatchObject({
      status: 'completed',
      field_mapping: { kind: 'config', id: config.id, name: config.name },
    });
    // The start's audit entry names the configuration chosen by the request, as it was then.
    const audit = body(
      await api.call('GET', `/api/audit-logs?action_type=sync_started&entity_id=${syncId}`),
    ) as unknown as { data: { details: Record<string, unknown> }[] };
    expect(audit.data).toHaveLength(1);
    expect(audit.data[0]?.details.field_mapping).toEqual({
      kind: 'config',
      id: config.id,
      name: config.name,
      processTemplateName: 'Agile',
    });
  });

  it('refuses an unknown configuration (404) and another project’s (409) before writing the sync', async () => {
    const total = async () =>
      (
        body(await api.call('GET', '/api/sync-history?limit=1')) as unknown as {
          pagination: { total: number };
        }
      ).pagination.total;
    const before = await total();
    const epics = [{ _id: unique('no').replace(/\s/g, ''), name: 'Never', type: 'Epic' }];
    const unknown = await api.call(
      'POST',
      `/api/azure-devops/projects/${encodeURIComponent(PROJECT)}/workitems`,
      {
        body: { fieldMappingConfigId: 'no-such-mapping', epics },
      },
    );
    expect(unknown.status).toBe(404);
    const scrum = body<Config>(await create({ projectId: 'Scrum Project' })).data;
    const other = await api.call(
      'POST',
      `/api/azure-devops/projects/${encodeURIComponent(PROJECT)}/workitems`,
      {
        body: { fieldMappingConfigId: scrum.id, epics },
      },
    );
    expect(other.status).toBe(409);
    expect(await total()).toBe(before);
  });

  it('finds a project’s syncs by its GUID in the history filter', async () => {
    const syncId = await api.system.startSync(PROJECT, {
      epics: [{ _id: unique('guid').replace(/\s/g, ''), name: unique('Guid epic'), type: 'Epic' }],
    });
    await api.system.waitForTerminal(syncId);
    const found = await get<Array<{ id: string; project_id?: string }>>(
      `/api/sync-history?project_name=${projectGuid}&limit=100`,
    );
    expect(found.data.map((s) => s.id)).toContain(syncId);
    expect(found.data.every((s) => s.project_id === projectGuid.toLowerCase())).toBe(true);
  });
});
