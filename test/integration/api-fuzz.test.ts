import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '#lambdas/api/deps.ts';
import type { RouteDef } from '#lambdas/api/route.ts';
import {
  FOCUSES,
  type Focus,
  hostileJson,
  hostileSegment,
  hostileText,
  inject,
  QUERY_VALUES,
  queryNames,
  RAW,
} from '#test/support/hostile-input.ts';
import {
  type ApiAnswer,
  type ApiCall,
  ErrorEnvelope,
  type InProcessApi,
  startInProcessApi,
} from '#test/support/in-process-api.ts';

// Property-based fuzzing of EVERY route of the route table (read from the table, so a new route is
// fuzzed without touching this file): random and hostile path parameters, query strings, headers and
// bodies, sent to the API app in-process over a real database. Each case makes one part of an
// otherwise valid request hostile (or several, for `chaos`), so that every check is reached. For
// every answer: never a 5xx; a 4xx carries the JSON error envelope, wrote no row of any table and
// logged no error. FUZZ_RUNS and FUZZ_SEED deepen or replay a run (a failure prints its seed).

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe('fuzzing every route of the route table', () => {
  let api: InProcessApi;
  /** Valid bodies of the routes that take one (`METHOD /path`); other body routes get any JSON. */
  let validBodies: Record<string, (k: number) => unknown>;
  let ids: { syncs: string[]; configs: string[] };

  beforeAll(async () => {
    api = await startInProcessApi();
    const tree = (k: number) => ({
      epics: [
        {
          _id: `fz-${k}-e`,
          name: `Fuzz epic ${k}`,
          type: 'Epic',
          customFields: { risk: 'high', score: k },
          tags: ['fuzz'],
          children: [
            {
              _id: `fz-${k}-f`,
              name: `Fuzz feature ${k}`,
              type: 'Feature',
              children: [{ _id: `fz-${k}-s`, name: `Fuzz story ${k}`, type: 'User Story', priority: 2 }],
            },
          ],
        },
      ],
    });
    const mappingRows = (k: number) => [
      { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: 'epic' },
      {
        ardoqField: `customFields.score_${k}`,
        azureDevOpsField: 'Microsoft.VSTS.Common.Priority',
        workItemType: 'user_story',
        transform: 'priority',
      },
      { ardoqField: 'tags', azureDevOpsField: 'System.Tags', workItemType: 'feature', transform: 'tags' },
    ];
    validBodies = {
      'POST /api/azure-devops/projects/:project/workitems': tree,
      'POST /api/azure-devops/configurations': (k) => ({
        name: `Fuzz config ${k}`,
        organization: `fuzz-org-${k}`,
        patToken: `pat-${k}`,
      }),
      'PUT /api/azure-devops/configurations/:id': (k) => ({ name: `Renamed ${k}` }),
      'POST /api/azure-devops/projects': (k) => ({ name: `Fuzz project ${k}`, visibility: 'private' }),
      'POST /api/ardoq/configurations': (k) => ({
        name: `Fuzz ardoq ${k}`,
        apiToken: `token-${k}`,
        apiHost: api.system.ardoqSimulator?.url,
      }),
      'PUT /api/ardoq/configurations/:id': (k) => ({ name: `Ardoq renamed ${k}`, isActive: false }),
      'POST /api/field-mapping/configs': (k) => ({
        name: `Fuzz mapping ${k}`,
        projectId: k % 2 === 0 ? 'Agile Project' : `Future project ${k}`,
        processTemplateName: 'Agile',
        isDefault: k % 3 === 0,
        mappings: mappingRows(k),
      }),
      'PUT /api/field-mapping/configs/:id': (k) => ({
        name: `Mapping renamed ${k}`,
        isDefault: k % 2 === 0,
        mappings: mappingRows(k + 1),
      }),
    };
    const json = { 'content-type': 'application/json' };
    const started = await api.call({
      method: 'POST',
      path: '/api/azure-devops/projects/Agile%20Project/workitems',
      headers: json,
      body: JSON.stringify(tree(0)),
    });
    const created = await api.call({
      method: 'POST',
      path: '/api/azure-devops/configurations',
      headers: json,
      body: JSON.stringify({ name: 'Fuzz target', organization: 'fuzz-org', patToken: 'pat' }),
    });
    const mapping = await api.call({
      method: 'POST',
      path: '/api/field-mapping/configs',
      headers: json,
      body: JSON.stringify(validBodies['POST /api/field-mapping/configs']?.(0)),
    });
    expect(started.status, started.text).toBe(202);
    expect(created.status, created.text).toBe(201);
    expect(mapping.status, mapping.text).toBe(201);
    ids = {
      syncs: [(started.json as { data: { sync_history_id: string } }).data.sync_history_id],
      configs: [
        (created.json as { data: { configuration: { id: string } } }).data.configuration.id,
        (mapping.json as { data: { id: string } }).data.id,
      ],
    };
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  /** A request to `route` whose `focus` part is hostile and whose other parts are valid. */
  function requestFor(route: RouteDef<ApiDeps>, focus: Focus) {
    const pick = <T>(part: Focus, valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
      focus === part ? hostile : focus === 'chaos' ? fc.oneof(valid, hostile) : valid;
    const sim = api.system.ardoqSimulator;
    const demo = sim ? sim.components(sim.demoWorkspace.id) : [];
    const idsOf = (type: string) => demo.filter((c) => c.type === type).map((c) => c._id);
    const validSegments: Record<string, string[]> = {
      project: ['Agile%20Project', "O'Brien%20Team", 'Scrum'],
      id: [
        ...ids.syncs,
        ...ids.configs,
        '00000000-0000-4000-8000-000000000000',
        'no-such-config',
        'local-ardoq-simulator',
      ],
      workspaceId: [...(sim ? [sim.demoWorkspace.id, sim.edgeCases.id] : []), '0123456789abcdef01234567'],
      domainId: idsOf('Domain'),
      initiativeId: [...idsOf('Initiative'), ...idsOf('Epic').slice(0, 2)],
    };
    const names = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
    const params = fc.record(
      Object.fromEntries(
        names.map((name) => [
          name,
          pick('path', fc.constantFrom(...(validSegments[name] ?? ['x'])), hostileSegment),
        ]),
      ),
    );

    const documented = queryNames(route);
    const validQuery = fc
      .subarray(documented, { maxLength: Math.min(2, documented.length) })
      .chain((chosen) =>
        fc.record(
          Object.fromEntries(
            chosen.map((name) => [
              name,
              fc.constantFrom(...(QUERY_VALUES[name] ?? ['1']), ...(name === 'configId' ? ids.configs : [])),
            ]),
          ),
        ),
      );
    const hostileQuery = fc
      .array(
        fc.oneof(
          fc.tuple(fc.constantFrom(...documented, 'q'), hostileText),
          fc.tuple(hostileText, fc.constantFrom('1', 'true')),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((pairs) => Object.fromEntries(pairs));

    const validHeaders = fc.record(
      {
        'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8'),
        accept: fc.constantFrom('application/json', 'text/event-stream', '*/*'),
        'user-agent': fc.constant('fuzz/1.0'),
        'last-event-id': fc.constantFrom('0', '3'),
      },
      { requiredKeys: ['content-type'] },
    );
    const hostileHeaders = fc
      .tuple(
        validHeaders,
        // Content-Type most often: a body route must then answer 415.
        fc.constantFrom(
          'content-type',
          'content-type',
          'content-type',
          'content-type',
          'accept',
          'user-agent',
          'last-event-id',
          'authorization',
          'x-fuzz',
        ),
        fc.oneof(
          hostileText,
          fc.constantFrom('text/plain', 'application/json; charset=latin1', 'application/jsonx', ''),
        ),
        fc.option(hostileText, { nil: undefined }),
      )
      .map(
        ([headers, name, value, badName]): Record<string, string> => ({
          ...headers,
          [name]: value,
          ...(badName === undefined ? {} : { [badName]: 'x' }),
        }),
      );

    const template = validBodies[`${route.method} ${route.path}`];
    const validBody: fc.Arbitrary<string | undefined> = route.body
      ? fc.nat().map((k) => JSON.stringify(template ? template(k) : { value: k }))
      : fc.constant(undefined);
    const hostileBody = fc.oneof(
      {
        arbitrary: fc
          .tuple(
            fc.nat(),
            fc.nat(),
            hostileText,
            fc.boolean(),
            fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, hostileJson),
          )
          .map(([k, at, text, asKey, raw]) => {
            const valid = template ? template(k) : { value: k };
            const out = JSON.stringify(inject(valid, at, raw === undefined ? text : RAW, asKey));
            return raw === undefined ? out : out.replace(`"${RAW}"`, raw);
          }),
        weight: 6,
      },
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      hostileJson,
      fc.constantFrom('{"epics":[', 'not json', '\u0000', '{"a":1}garbage', ''),
    );

    const otherMethod = fc
      .constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH')
      .filter((m) => m !== route.method);
    return fc.record({
      route: fc.constant(route),
      focus: fc.constant(focus),
      method: pick('method', fc.constant(route.method), otherMethod),
      params,
      query: pick('query', fc.oneof(fc.constant({}), validQuery), hostileQuery),
      headers: pick<Record<string, string>>('headers', validHeaders, hostileHeaders),
      body: pick('body', validBody, hostileBody),
    });
  }

  it(`answers ${RUNS} random and hostile requests without a 5xx; every 4xx is an envelope and writes nothing`, async () => {
    const routes = api.routes;
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const perRoute = new Map<string, number>();
    const statuses = new Map<number, number>();
    const cases = fc
      .tuple(fc.constantFrom(...routes), fc.constantFrom(...FOCUSES))
      .chain(([route, focus]) => requestFor(route, focus));

    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const call: ApiCall = {
          method: c.method,
          path: c.route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => c.params[name] ?? 'x'),
          query: c.query,
          headers: c.headers,
          body: c.body ?? null,
        };
        const route = `${c.route.method} ${c.route.path}`;
        const label = `${route} (hostile: ${c.focus})`;
        perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
        const before = await api.tables();
        const errorsBefore = api.errorLines().length;
        let answer: ApiAnswer;
        try {
          answer = await api.call(call);
        } catch (error) {
          throw new Error(`the app threw instead of answering ${label}: ${(error as Error).message}`);
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status, `${label} → ${answer.text.slice(0, 300)}`).toBeLessThan(500);
        if (answer.status >= 400) {
          expect(answer.headers['content-type'], label).toMatch(/^application\/json/);
          const parsed = ErrorEnvelope.safeParse(answer.json);
          expect(parsed.success, `${label} envelope: ${answer.text.slice(0, 300)}`).toBe(true);
          expect(await api.tables(), `${label} ${answer.status} wrote rows`).toEqual(before);
          expect(api.errorLines().slice(errorsBefore), `${label} ${answer.status} logged an error`).toEqual(
            [],
          );
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );

    if (process.env.FUZZ_VERBOSE) console.info({ statuses, perRoute });
    const total = [...perRoute.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(RUNS);
    // The table drives the fuzz: every route was exercised, and the answers span the whole range.
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      expect(perRoute.get(key) ?? 0, key).toBeGreaterThan(0);
    }
    // Hundreds of each expected: a generator that stopped reaching them would show here.
    const seen = [...statuses.keys()];
    for (const status of [200, 400, 404, 405]) expect(seen, `a ${status} among ${seen}`).toContain(status);
    expect((statuses.get(201) ?? 0) + (statuses.get(202) ?? 0), 'created or accepted').toBeGreaterThan(0);
  }, 120_000);
});
