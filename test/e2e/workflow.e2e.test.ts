import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdoSimulator } from '#sim/ado/index.ts';
import type { ArdoqSimulator } from '#sim/ardoq/index.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';
import { openStream } from '#test/support/sse-client.ts';

interface Envelope<T = unknown> {
  success: boolean;
  data: T;
  error?: string;
}
interface Configuration {
  id: string;
  isActive: boolean;
  isTested: boolean;
  testPassed: boolean;
}
interface Node {
  _id: string;
  name: string;
  type: string;
  componentKey?: string;
  description?: string;
  parent?: string;
  children?: Node[];
  [key: string]: unknown;
}
interface TypeInfo {
  name: string;
  referenceName: string;
  fields: Array<{ referenceName: string; name: string }>;
}

/** The frontend's sync-helpers: each selected node with its Ardoq keys, without its parent link. */
const toSyncNode = ({ parent: _parent, children, ...node }: Node): Node => ({
  ...node,
  ...(children?.length ? { children: children.map(toSyncNode) } : {}),
});

/**
 * WORKFLOW.md §2, every step in the frontend's order, through our API alone: Ardoq and Azure DevOps
 * connections, a new project, a mapping saved on the Field Mapping page (by the project's GUID) and
 * chosen in the workflow (by its name), the hierarchy, then the sync over SSE, and its history.
 */
describe('the whole workflow, as the frontend walks it', () => {
  let api: ContractSystem;
  let ardoq: ArdoqSimulator;
  let ado: AdoSimulator;
  const get = async <T>(path: string): Promise<T> => {
    const answer = await api.call('GET', path);
    expect(answer.status, `GET ${path}: ${answer.text}`).toBe(200);
    return (answer.json as Envelope<T>).data;
  };
  const send = async <T>(method: string, path: string, body?: unknown, status = 200): Promise<T> => {
    const answer = await api.call(method, path, { body });
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(status);
    return (answer.json as Envelope<T>).data;
  };

  /** The frontend judges a connection test by `configuration.testPassed` (beside `data`). */
  const testPassed = async (path: string) => {
    const answer = await api.call('GET', path);
    expect(answer.status, `GET ${path}: ${answer.text}`).toBe(200);
    return (answer.json as { configuration?: Configuration }).configuration?.testPassed;
  };

  beforeAll(async () => {
    api = await startContractSystem();
    if (!api.system.ardoqSimulator || !api.system.simulator)
      throw new Error('the local system runs without its simulators');
    ardoq = api.system.ardoqSimulator;
    ado = api.system.simulator;
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  it('goes from the Ardoq connection to a completed sync with a saved mapping, shown in the history', async () => {
    // 2. Ardoq: the active configuration, the tested ones, a connection test.
    const source = await get<Configuration>('/api/ardoq/configurations/active');
    const tested = await get<Configuration[]>('/api/ardoq/configurations');
    expect(tested.filter((c) => c.isTested && c.testPassed).map((c) => c.id)).toContain(source.id);
    expect(await testPassed(`/api/ardoq/test-connection?configId=${source.id}`)).toBe(true);

    // 4. Azure DevOps: the same pattern.
    const target = await get<Configuration>('/api/azure-devops/configurations/active');
    await get<Configuration[]>('/api/azure-devops/configurations');
    expect(await testPassed(`/api/azure-devops/test-connection?configId=${target.id}`)).toBe(true);
    const withTarget = `configId=${encodeURIComponent(target.id)}`;

    // 5. Project: the list, the processes, a new project (Agile), the overwrite check.
    await get<unknown[]>(`/api/azure-devops/projects?${withTarget}`);
    const processes = await get<Array<{ typeId: string; name: string }>>(
      `/api/azure-devops/processes?${withTarget}`,
    );
    const agile = processes.find((p) => p.name === 'Agile');
    expect(agile).toBeDefined();
    const projectName = unique('Walkthrough').replace(/\s/g, '-');
    const created = await send<{ id: string; status: string }>(
      'POST',
      `/api/azure-devops/projects?${withTarget}`,
      { name: projectName, capabilities: { processTemplate: { templateTypeId: agile?.typeId } } },
      202,
    );
    expect(created.status).toBe('succeeded');
    const check = await get<{ hasWorkItems: boolean }>(
      `/api/azure-devops/projects/${encodeURIComponent(projectName)}/workitems/check?${withTarget}`,
    );
    expect(check.hasWorkItems).toBe(false);

    // The Field Mapping page: the project by its GUID, its types, a configuration saved for it.
    const projects = await get<Array<{ id: string; name: string }>>(
      `/api/azure-devops/projects?${withTarget}`,
    );
    const guid = projects.find((p) => p.name === projectName)?.id ?? '';
    expect(guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await get<unknown[]>(`/api/field-mapping/configs?projectId=${guid}`)).toEqual([]);
    const templates = await get<Array<{ processTemplateName: string }>>('/api/field-mapping/templates');
    expect(templates.map((t) => t.processTemplateName)).toEqual(['Agile', 'Basic', 'CMMI', 'Scrum']);
    const types = await get<TypeInfo[]>(`/api/field-mapping/work-item-types?projectId=${guid}&${withTarget}`);
    // The editor offers the fields of the first type whose reference name contains the level's word.
    const offered = (word: string) =>
      types.find((t) => t.referenceName.toLowerCase().includes(word))?.fields.map((f) => f.referenceName) ??
      [];
    const levels = { epic: 'epic', feature: 'feature', user_story: 'userstory' } as const;
    const rows = Object.entries(levels).flatMap(([level, word]) => {
      const fields = offered(word);
      expect(fields, level).toEqual(
        expect.arrayContaining(['System.Description', 'System.Tags', 'Microsoft.VSTS.Common.Priority']),
      );
      return [
        { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: level },
        { ardoqField: 'componentKey', azureDevOpsField: 'System.Tags', workItemType: level },
        { ardoqField: 'tags', azureDevOpsField: 'System.Tags', workItemType: level, transform: 'tags' },
        { ardoqField: 'priority', azureDevOpsField: 'Microsoft.VSTS.Common.Priority', workItemType: level },
      ];
    });
    const mapping = await send<{ id: string; name: string; projectId: string }>(
      'POST',
      '/api/field-mapping/configs',
      { name: unique('Walkthrough mapping'), projectId: guid, isDefault: false, mappings: rows },
      201,
    );
    expect(mapping.projectId).toBe(guid); // what the page sent: it refreshes its list by it

    // 6. The workflow's field-mapping step asks by the project's name and finds the same configuration.
    const choices = await get<Array<{ id: string }>>(
      `/api/field-mapping/configs?projectId=${encodeURIComponent(projectName)}`,
    );
    expect(choices.map((c) => c.id)).toEqual([mapping.id]);
    await get<unknown[]>('/api/field-mapping/templates');

    // 7. The hierarchy: workspace → domain → initiative → its epics, features and user stories.
    const withSource = `configId=${encodeURIComponent(source.id)}`;
    const workspaces = await get<{ values: Array<{ _id: string; name: string }> }>(
      `/api/ardoq/workspaces?${withSource}`,
    );
    const ws = workspaces.values.find((w) => w._id === ardoq.demoWorkspace.id)?._id;
    const domains = await get<Array<{ id: string }>>(`/api/ardoq/workspaces/${ws}/domains?${withSource}`);
    const initiatives = await get<Array<{ id: string }>>(
      `/api/ardoq/workspaces/${ws}/domains/${domains[0]?.id}/initiatives?${withSource}`,
    );
    const hierarchy = await get<Node>(
      `/api/ardoq/workspaces/${ws}/initiatives/${initiatives[0]?.id}/hierarchy?${withSource}`,
    );
    const epics = (hierarchy.children ?? []).map(toSyncNode);
    const nodes = epics.flatMap(function all(n: Node): Node[] {
      return [n, ...(n.children ?? []).flatMap(all)];
    });
    expect(nodes.length).toBeGreaterThan(3);

    // 8. The sync, as the sync panel starts it: SSE, with the chosen configuration.
    const stream = await openStream(
      `${api.system.url}/api/azure-devops/projects/${encodeURIComponent(projectName)}/workitems?${withTarget}`,
      { method: 'POST', body: JSON.stringify({ epics, fieldMappingConfigId: mapping.id }) },
    );
    const frames = await stream.readToEnd(90_000);
    const last = frames.at(-1);
    expect(last?.event, JSON.stringify(last)).toBe('sync:complete');
    // One epic:created, feature:created or userstory:created event per node, none failed.
    expect(frames.filter((f) => f.event.endsWith(':created'))).toHaveLength(nodes.length);
    expect(frames.filter((f) => f.event.endsWith(':failed'))).toEqual([]);

    // The history: the sync with its numbers and the mapping it applied.
    const [sync] = await get<Array<Record<string, unknown>>>(
      `/api/sync-history?project_name=${encodeURIComponent(projectName)}&limit=1`,
    );
    expect(sync).toMatchObject({
      status: 'completed',
      items_created: nodes.length,
      items_failed: 0,
      project_id: guid,
      field_mapping: { kind: 'config', id: mapping.id, name: mapping.name, processTemplateName: 'Agile' },
    });
    const audit = await get<Array<{ action_type: string; details: Record<string, unknown> }>>(
      `/api/audit-logs?entity_id=${sync?.id}`,
    );
    expect(audit.find((e) => e.action_type === 'sync_started')?.details.field_mapping).toMatchObject({
      kind: 'config',
      id: mapping.id,
    });

    // In Azure DevOps, every item carries what the mapping says.
    const items = new Map(ado.workItems(projectName).map((w) => [String(w.fields['System.Title']), w]));
    for (const node of nodes) {
      const item = items.get(node.name);
      expect(item, node.name).toBeDefined();
      const tags = String(item?.fields['System.Tags'] ?? '').split('; ');
      if (node.componentKey) expect(tags, node.name).toContain(node.componentKey);
      expect(tags).toContain('ardoq-sync');
      if (node.description) expect(String(item?.fields['System.Description'] ?? ''), node.name).not.toBe('');
    }
  }, 180_000);
});
