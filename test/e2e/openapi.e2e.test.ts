import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '#lambdas/api/deps.ts';
import { JSON_LIMITS } from '#lambdas/api/input-checks.ts';
import type { AnswerDoc, RouteDef } from '#lambdas/api/route.ts';
import { ROUTES } from '#lambdas/api/route-table.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';
import { tree } from '#test/support/e2e.ts';

type Json = Record<string, unknown>;
interface Operation {
  parameters?: Array<{ name: string; in: string; description?: string }>;
  requestBody?: { required?: boolean; description?: string; content?: Record<string, { schema?: Json }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Json }> }>;
}

/** CONTRACT.md §5: GET /api/openapi.json documents every route, and its schemas fit real answers. */
describe('GET /api/openapi.json', () => {
  let api: ContractSystem;
  let routes: readonly RouteDef<ApiDeps>[];
  let doc: {
    openapi: string;
    info: { description: string };
    paths: Record<string, Record<string, Operation>>;
  };
  /** `METHOD /doc/path STATUS` → real JSON answers collected from the running system. */
  const answers = new Map<string, unknown[]>();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);

  const docPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');
  const operation = (method: string, path: string) => doc.paths[path]?.[method.toLowerCase()];
  /** Calls the API and files the answer under its documented operation. */
  const collect = async (
    method: string,
    path: string,
    documented: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => {
    const res = await api.call(method, path, { body, ...(headers ? { headers } : {}) });
    const key = `${method} ${documented} ${res.status}`;
    answers.set(key, [...(answers.get(key) ?? []), res.json]);
    return res;
  };

  beforeAll(async () => {
    api = await startContractSystem();
    routes = ROUTES;
    const res = await api.call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    doc = res.json as typeof doc;
    await collectRealAnswers();
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  async function collectRealAnswers() {
    const sim = api.system.simulator;
    if (!sim) throw new Error('the local system runs without its simulator');
    const project = unique('OpenAPI');
    sim.addProject(project, 'Agile');
    sim.rejectTitles(['oa Story 0.0.1']);
    const workitems = `/api/azure-devops/projects/${encodeURIComponent(project)}/workitems`;
    const W = '/api/azure-devops/projects/{project}/workitems';
    const started = await collect('POST', `${workitems}?sourceConfigId=ardoq-1`, W, tree(1, 1, 2, 'oa'));
    const id = (started.json as { data: { sync_history_id: string } }).data.sync_history_id;
    await collect('GET', `/api/sync-history/${id}`, '/api/sync-history/{id}'); // pending or running
    await api.system.waitForTerminal(id);
    await collect('GET', `/api/sync-history/${id}`, '/api/sync-history/{id}');
    await collect('GET', `/api/sync-history/${id}/items`, '/api/sync-history/{id}/items');
    await collect('GET', '/api/sync-history', '/api/sync-history');
    await collect('GET', '/api/sync-history?limit=abc', '/api/sync-history');
    await collect('GET', '/api/sync-history/stats', '/api/sync-history/stats');
    await collect('GET', '/api/audit-logs', '/api/audit-logs');
    await collect('GET', '/api/audit-logs/stats', '/api/audit-logs/stats');
    await collect('GET', `${workitems}/check`, `${W}/check`);
    await collect('GET', '/api/health', '/api/health');
    await collect('GET', '/api/openapi.json', '/api/openapi.json');

    sim.setFaults({ latencyMs: 300 });
    try {
      const slow = await api.system.startSync(project, tree(1, 1, 1, 'oaslow'));
      await collect('POST', `/api/sync-history/${slow}/cancel`, '/api/sync-history/{id}/cancel');
      await collect('POST', `/api/sync-history/${slow}/cancel`, '/api/sync-history/{id}/cancel'); // 409
    } finally {
      sim.setFaults({});
    }

    const C = '/api/azure-devops/configurations';
    const created = await collect('POST', C, C, {
      name: unique('Doc'),
      organization: sim.url,
      patToken: api.simulatorPat,
    });
    const configId = (created.json as { data: { configuration: { id: string } } }).data.configuration.id;
    await collect('POST', C, C, {}); // 400
    await collect('GET', C, C);
    await collect('GET', `${C}/active`, `${C}/active`);
    await collect('GET', `${C}/${configId}`, `${C}/{id}`);
    await collect('GET', `${C}/nope`, `${C}/{id}`); // 404
    await collect('PUT', `${C}/${configId}`, `${C}/{id}`, { name: unique('Renamed') });
    await collect(
      'GET',
      `/api/azure-devops/test-connection?configId=${configId}`,
      '/api/azure-devops/test-connection',
    );
    await collect('POST', `${C}/${configId}/activate`, `${C}/{id}/activate`);
    // The router's own answers: 415, and 400s for hostile input that never reaches a route.
    await collect('POST', C, C, '{"name":"x"}', { 'content-type': 'text/plain' }); // 415
    await collect('POST', C, C, '{"name":"x\\u0000"}'); // 400
    await collect('GET', '/api/sync-history?project_name=%00', '/api/sync-history'); // 400
    await collect('GET', `${workitems.replace(encodeURIComponent(project), 'a%2Fb')}/check`, `${W}/check`); // 400
    await collect('GET', '/api/health?probe=%00', '/api/health'); // 400
    await collect('POST', `${C}/local-ado-simulator/activate`, `${C}/{id}/activate`);
    await collect('DELETE', `${C}/${configId}`, `${C}/{id}`);
    await collectWorkflowAnswers();
  }

  /** The Ardoq and project routes (WORKFLOW.md §3–§5), their failures included. */
  async function collectWorkflowAnswers() {
    const ardoq = api.system.ardoqSimulator;
    if (!ardoq) throw new Error('the local system runs without its Ardoq simulator');
    const P = '/api/azure-devops/projects';
    await collect('GET', P, P);
    await collect('GET', '/api/azure-devops/processes', '/api/azure-devops/processes');
    await collect('POST', P, P, { name: unique('OpenAPI project') });
    await collect('POST', P, P, { name: 'Agile Project' }); // 409
    await collect('GET', `${P}?configId=nope`, P); // 404

    const A = '/api/ardoq/configurations';
    const made = await collect('POST', A, A, {
      name: unique('Ardoq'),
      apiToken: ardoq.token,
      apiHost: ardoq.url,
      orgLabel: ardoq.orgLabel,
    });
    const ardoqId = (made.json as { data: { configuration: { id: string } } }).data.configuration.id;
    await collect('POST', A, A, { name: 'x', apiToken: 't', apiHost: 'https://evil.example.com' }); // 400
    await collect('GET', A, A);
    await collect('GET', `${A}/active`, `${A}/active`);
    await collect('GET', `${A}/${ardoqId}`, `${A}/{id}`);
    await collect('PUT', `${A}/${ardoqId}`, `${A}/{id}`, { name: unique('Ardoq renamed') });
    await collect('POST', `${A}/${ardoqId}/activate`, `${A}/{id}/activate`);
    await collect('GET', '/api/ardoq/test-connection', '/api/ardoq/test-connection');
    await collect('POST', `${A}/local-ardoq-simulator/activate`, `${A}/{id}/activate`);
    await collect('DELETE', `${A}/${ardoqId}`, `${A}/{id}`);

    const W = '/api/ardoq/workspaces';
    const ws = ardoq.demoWorkspace.id;
    const all = ardoq.components(ws);
    const domain = all.find((c) => c.type === 'Domain')?._id;
    const initiative = all.find((c) => c.type === 'Initiative' && c.parent === domain)?._id;
    await collect('GET', W, W);
    await collect('GET', `${W}/${ws}`, `${W}/{workspaceId}`);
    await collect('GET', `${W}/0123456789abcdef01234567`, `${W}/{workspaceId}`); // 404
    await collect('GET', `${W}/${ws}/context`, `${W}/{workspaceId}/context`);
    await collect('GET', `${W}/${ws}/components`, `${W}/{workspaceId}/components`);
    await collect('GET', `${W}/${ws}/domains`, `${W}/{workspaceId}/domains`);
    await collect(
      'GET',
      `${W}/${ws}/domains/${domain}/initiatives`,
      `${W}/{workspaceId}/domains/{domainId}/initiatives`,
    );
    const H = `${W}/{workspaceId}/initiatives/{initiativeId}/hierarchy`;
    await collect('GET', `${W}/${ws}/initiatives/${initiative}/hierarchy`, H);
    await collect(
      'GET',
      `${W}/${ardoq.edgeCases.id}/initiatives/${ardoq.edgeCases.ids.initiative}/hierarchy`,
      H,
    ); // _skipped
    ardoq.failNext('unauthorized');
    await collect('GET', W, W); // 502
    ardoq.failNext('throttle', 4);
    await collect('GET', W, W); // 503
    await collectFieldMappingAnswers();
  }

  /** The field-mapping routes (WORKFLOW.md §6.4), their failures included. */
  async function collectFieldMappingAnswers() {
    const F = '/api/field-mapping';
    const project = 'Agile Project';
    await collect('GET', `${F}/templates`, `${F}/templates`);
    await collect('GET', `${F}/templates?processTemplateName=Scrum`, `${F}/templates`);
    await collect('GET', `${F}/configs?projectId=${encodeURIComponent(project)}`, `${F}/configs`);
    await collect('GET', `${F}/configs`, `${F}/configs`); // 400
    const made = await collect('POST', `${F}/configs`, `${F}/configs`, {
      name: unique('OpenAPI mapping'),
      projectId: project,
      mappings: [
        { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: 'epic' },
        {
          ardoqField: 'priority',
          azureDevOpsField: 'Microsoft.VSTS.Common.Priority',
          workItemType: 'user_story',
          transform: 'priority',
        },
      ],
    });
    const id = (made.json as { data: { id: string } }).data.id;
    await collect('POST', `${F}/configs`, `${F}/configs`, {
      name: unique('OpenAPI bad mapping'),
      projectId: project,
      mappings: [{ ardoqField: 'name', azureDevOpsField: 'System.ChangedBy', workItemType: 'epic' }],
    }); // 400
    await collect('GET', `${F}/configs/${id}`, `${F}/configs/{id}`);
    await collect('GET', `${F}/configs/nope`, `${F}/configs/{id}`); // 404
    await collect('PUT', `${F}/configs/${id}`, `${F}/configs/{id}`, { isDefault: true });
    const ofProject = `projectId=${encodeURIComponent(project)}`;
    await collect('GET', `${F}/work-item-types?${ofProject}`, `${F}/work-item-types`);
    await collect('GET', `${F}/work-item-types?projectId=No%20such%20project`, `${F}/work-item-types`); // 404
    await collect('GET', `${F}/fields?${ofProject}&workItemType=User%20Story`, `${F}/fields`);
    await collect('GET', `${F}/fields?${ofProject}&workItemType=Nope`, `${F}/fields`); // 404
    await collect('DELETE', `${F}/configs/${id}`, `${F}/configs/{id}`);
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.valid, JSON.stringify(result.errors)).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it('documents every route of the route table under its full /api path with its method', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const route of routes) {
      expect(operation(route.method, docPath(route.path)), `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it('documents only routes the router serves', async () => {
    const table = new Set(routes.map((r) => `${r.method} ${docPath(r.path)}`));
    for (const [path, methods] of Object.entries(doc.paths)) {
      expect(path.startsWith('/api/'), path).toBe(true);
      for (const method of Object.keys(methods)) {
        expect(table.has(`${method.toUpperCase()} ${path}`), `${method} ${path} in the route table`).toBe(
          true,
        );
        const sample = path
          .replace('{project}', 'Agile%20Project')
          .replace('{id}', '00000000-0000-4000-8000-000000000000');
        const res = await api.call(method.toUpperCase(), sample, { headers: { accept: 'application/json' } });
        expect(res.status, `${method} ${path}`).not.toBe(405);
        expect(String((res.json as { error?: string } | undefined)?.error), `${method} ${path}`).not.toMatch(
          /^No route/,
        );
      }
    }
  });

  it('documents the request bodies of the POST and PUT routes', () => {
    const body = (method: string, path: string) => {
      const op = operation(method, path);
      expect(op?.requestBody?.required, `${method} ${path}`).toBe(true);
      return op?.requestBody?.content?.['application/json']?.schema as {
        required?: string[];
        properties?: Json;
      };
    };
    const start = body('POST', '/api/azure-devops/projects/{project}/workitems');
    expect(start.required).toContain('epics');
    expect(Object.keys(start.properties ?? {})).toEqual(
      expect.arrayContaining(['epics', 'fieldMappingConfigId', 'processTemplateTemplateName']),
    );
    const create = body('POST', '/api/azure-devops/configurations');
    expect(create.required).toEqual(expect.arrayContaining(['name', 'organization', 'patToken']));
    expect(Object.keys(body('PUT', '/api/azure-devops/configurations/{id}').properties ?? {})).toContain(
      'patToken',
    );
    const params = operation('GET', '/api/sync-history')?.parameters?.map((p) => `${p.in}:${p.name}`);
    expect(params).toEqual(
      expect.arrayContaining([
        'query:limit',
        'query:offset',
        'query:status',
        'query:project_name',
        'query:end_date',
      ]),
    );
  });

  it('documents 400 and 405 on every operation, 413 and 415 on every operation with a body', () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const documented = Object.keys(op.responses);
        const expected = op.requestBody ? ['400', '405', '413', '415'] : ['400', '405'];
        expect(documented, `${method} ${path}`).toEqual(expect.arrayContaining(expected));
        for (const status of expected) {
          expect(
            op.responses[status]?.content?.['application/json']?.schema,
            `${method} ${path} ${status}`,
          ).toEqual(op.responses['400']?.content?.['application/json']?.schema);
        }
      }
    }
    expect(operation('GET', '/api/sync-history')?.responses['413']).toBeUndefined();
  });

  it('describes every parameter: path, query and header', () => {
    let count = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const parameter of op.parameters ?? []) {
          count++;
          expect(
            parameter.description?.trim(),
            `${method} ${path} ${parameter.in}:${parameter.name}`,
          ).toBeTruthy();
        }
      }
    }
    expect(count).toBeGreaterThan(30);
    const header = operation('GET', '/api/sync-history/{id}/events')?.parameters?.find(
      (p) => p.in === 'header',
    );
    expect(header?.name).toBe('Last-Event-ID');
  });

  it('documents the input limits, overwrite and the project naming rules', () => {
    const rules = doc.info.description;
    for (const fact of [
      '10 MB',
      'application/json',
      `${JSON_LIMITS.maxDepth} levels`,
      JSON_LIMITS.maxKeys.toLocaleString('en-US'),
      JSON_LIMITS.maxItems.toLocaleString('en-US'),
      'NUL (U+0000)',
      'lone surrogate',
    ]) {
      expect(rules, fact).toContain(fact);
    }
    const start = operation('POST', '/api/azure-devops/projects/{project}/workitems');
    expect(start?.requestBody?.description).toContain('10 MB');
    const param = (name: string) => start?.parameters?.find((p) => p.name === name)?.description ?? '';
    expect(param('overwrite')).toMatch(/`true` or `false`.*lowercase/);
    expect(param('overwrite')).toContain('TRUE');
    expect(param('project')).toMatch(/64 characters/);
    expect(param('project')).toMatch(/apostrophes allowed/);
  });

  it('documents throttled_ms and eta_seconds on every sync answer: required, integers ≥ 0, eta_seconds nullable', () => {
    const W = '/api/azure-devops/projects/{project}/workitems';
    const syncSchemas: Array<[string, Json | undefined]> = [
      [
        'GET /api/sync-history',
        operation('GET', '/api/sync-history')?.responses['200']?.content?.['application/json']?.schema,
      ],
      [
        'GET /api/sync-history/{id}',
        operation('GET', '/api/sync-history/{id}')?.responses['200']?.content?.['application/json']?.schema,
      ],
      [
        'POST /api/sync-history/{id}/cancel',
        operation('POST', '/api/sync-history/{id}/cancel')?.responses['200']?.content?.['application/json']
          ?.schema,
      ],
    ];
    for (const [name, schema] of syncSchemas) {
      const data = (schema?.properties as Record<string, Json> | undefined)?.data;
      const row = (data?.type === 'array' ? data.items : data) as
        | { properties: Record<string, Json>; required: string[] }
        | undefined;
      expect(row?.required, name).toEqual(expect.arrayContaining(['throttled_ms', 'eta_seconds']));
      expect(row?.properties.throttled_ms, name).toMatchObject({
        type: 'integer',
        minimum: 0,
        description: expect.stringMatching(/throttled/),
      });
      expect(row?.properties.eta_seconds, name).toMatchObject({
        anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }],
        description: expect.stringMatching(/null while the sync is pending.*0 once it is terminal/),
      });
    }
    for (const [method, path] of [
      ['POST', W],
      ['GET', '/api/sync-history/{id}/events'],
    ] as const) {
      expect(operation(method, path)?.responses['200']?.description).toMatch(/throttled_ms.*eta_seconds/);
    }
  });

  it('documents the SSE routes as text/event-stream', () => {
    for (const path of ['/api/azure-devops/projects/{project}/workitems', '/api/sync-history/{id}/events']) {
      const method = path.endsWith('events') ? 'GET' : 'POST';
      expect(Object.keys(operation(method, path)?.responses['200']?.content ?? {})).toEqual([
        'text/event-stream',
      ]);
    }
  });

  it("accepts every real answer collected with its route's documented schema", () => {
    expect(answers.size).toBeGreaterThanOrEqual(20);
    for (const [key, bodies] of answers) {
      const [method = '', path = '', status = ''] = key.split(' ');
      const schema = operation(method, path)?.responses[status]?.content?.['application/json']?.schema;
      expect(schema, `${key} is documented with a JSON schema`).toBeDefined();
      const validate = ajv.compile(schema ?? {});
      for (const body of bodies) {
        expect(validate(body), `${key}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`).toBe(
          true,
        );
      }
    }
  });

  it('has a real answer for every documented JSON success response', () => {
    for (const route of routes) {
      const documented: Record<number, AnswerDoc> = {
        [route.answer.status]: route.answer,
        ...route.responses,
      };
      for (const [status, response] of Object.entries(documented)) {
        if (Number(status) >= 300 || !response.schema || response.contentType) continue;
        const key = `${route.method} ${docPath(route.path)} ${status}`;
        expect(answers.get(key)?.length ?? 0, `a real answer for ${key}`).toBeGreaterThan(0);
      }
    }
  });

  it('documents strict schemas: an extra key or a null optional value is refused', () => {
    const key = 'GET /api/sync-history/{id} 200';
    const schema = operation('GET', '/api/sync-history/{id}')?.responses['200']?.content?.['application/json']
      ?.schema;
    const validate = ajv.compile(schema ?? {});
    const real = answers.get(key)?.at(-1) as { success: true; data: Json };
    expect(validate(real)).toBe(true);
    expect(validate({ ...real, data: { ...real.data, extra: 1 } })).toBe(false);
    expect(validate({ ...real, data: { ...real.data, completed_at: null } })).toBe(false);
    const { project_name: _dropped, ...missing } = real.data;
    expect(validate({ ...real, data: missing })).toBe(false);
  });
});
