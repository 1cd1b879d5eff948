import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '#lambdas/api/deps.ts';
import type { RouteDef } from '#lambdas/api/route.ts';
import { ROUTES } from '#lambdas/api/route-table.ts';
import type { Database } from '#store/database.ts';
import { createSync } from '#store/sync/sync-rows.ts';
import {
  AuditLogShape,
  ErrorBody,
  expectShape,
  okBody,
  pageBody,
  StartAcceptedBody,
  SyncHistoryShape,
} from '#test/support/contract-schemas.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';
import { captureLog, tree } from '#test/support/e2e.ts';
import { buildPlan, newSync } from '#test/support/factories.ts';
import { openStream } from '#test/support/sse-client.ts';

const BOOM = 'boom-500';
/** Fails the one query that carries the sentinel, with an error full of internals (a database outage). */
const failOnSentinel = (db: Database): Database => ({
  query: (sql, params) =>
    params && Object.values(params).includes(BOOM)
      ? Promise.reject(
          new Error(
            'connect ECONNREFUSED at Client._connect (/srv/node_modules/pg/lib/client.js:132:9) query.ts:7',
          ),
        )
      : db.query(sql, params),
  transaction: (fn) => db.transaction(fn),
  close: () => db.close(),
});

/** CONTRACT.md §1, §7.14: authentication, CORS, injection, spoofing, limits, and what errors may reveal. */
describe('API security (LOCAL_AUTH_TOKEN set)', () => {
  let api: ContractSystem;
  let routes: readonly RouteDef<ApiDeps>[];
  const logs = captureLog();
  const token = randomBytes(24).toString('base64url').slice(0, 32);
  const configPat = `sec-pat-${randomBytes(12).toString('hex')}`;
  const trapPat = `trap-pat-${randomBytes(12).toString('hex')}`;
  const readerToken = randomBytes(24).toString('base64url').slice(0, 32);
  const auth = { authorization: `Bearer ${token}` };
  const reader = { authorization: `Bearer ${readerToken}` };
  const UNKNOWN = '00000000-0000-4000-8000-000000000000';

  beforeAll(async () => {
    api = await startContractSystem({
      authTokens: { admin: token, reader: readerToken },
      log: logs.log,
      wrapDb: failOnSentinel,
    });
    routes = ROUTES;
  });
  afterAll(async () => {
    await api?.close();
  });

  const samplePath = (route: RouteDef<ApiDeps>) =>
    route.path
      .replace(':project', 'Agile%20Project')
      .replace(':id', route.path.startsWith('/api/sync-history') ? UNKNOWN : 'no-such-config');
  /** The routes the table marks public: only `/api/health` (issue 4: every other route needs a caller). */
  const isPublic = (route: RouteDef<ApiDeps>) => route.permission === 'public';

  describe('authentication', () => {
    it('covers a route table with every route of the contract', () => {
      expect(routes.length).toBeGreaterThanOrEqual(20);
      expect(routes.filter(isPublic).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/health']);
    });

    it.each([
      ['no credentials', {}],
      ['a wrong token', { authorization: `Bearer ${'x'.repeat(32)}` }],
      ['a token of another length', { authorization: `Bearer ${token}x` }],
      ['the token without the Bearer scheme', { authorization: token }],
      ['Basic credentials', { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` }],
    ])('refuses every non-public route with %s: 401 JSON', async (_label, headers) => {
      for (const route of routes) {
        const res = await api.call(route.method, samplePath(route), { headers });
        if (isPublic(route)) {
          expect(res.status, `${route.method} ${route.path}`).toBe(200);
          continue;
        }
        expect(res.status, `${route.method} ${route.path}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(expectShape(ErrorBody, res.json)).toEqual({
          success: false,
          error: 'Authentication required',
        });
      }
    });

    it('lets the right token through on every route', async () => {
      for (const route of routes) {
        const res = await api.call(route.method, samplePath(route), { headers: auth });
        expect(res.status, `${route.method} ${route.path}: ${res.text}`).not.toBe(401);
        expect(res.status, `${route.method} ${route.path}: ${res.text}`).toBeLessThan(500);
      }
    });

    it("writes the plain user's user_id (local-user) on the sync and its audit logs, and the socket address as source_ip", async () => {
      const res = await api.call('POST', '/api/azure-devops/projects/Agile%20Project/workitems', {
        body: tree(1, 1, 0, 'auth'),
        headers: { ...reader, 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6' },
      });
      expect(res.status, res.text).toBe(202);
      const id = expectShape(StartAcceptedBody, res.json).data.sync_history_id;
      await expect
        .poll(async () => (await api.call('GET', `/api/sync-history/${id}`, { headers: auth })).json, {
          timeout: 30_000,
        })
        .toMatchObject({ data: { status: 'completed' } });
      const sync = expectShape(
        okBody(SyncHistoryShape),
        (await api.call('GET', `/api/sync-history/${id}`, { headers: auth })).json,
      );
      expect(sync.data.user_id).toBe('local-user');
      const trail = await api.call('GET', `/api/audit-logs?entity_id=${id}`, { headers: auth });
      const entries = expectShape(pageBody(AuditLogShape), trail.json).data;
      expect(entries.map((e) => [e.action_type, e.user_id])).toEqual([
        ['sync_completed', 'local-user'],
        ['sync_started', 'local-user'],
      ]);
      expect(entries[1]?.source_ip).toBe('127.0.0.1');
    });
  });

  describe('permissions (issue 15)', () => {
    const C = '/api/azure-devops/configurations';
    const adminRoutes = () =>
      routes.filter((r) => r.permission === 'admin').map((r) => `${r.method} ${r.path}`);

    it('asks admin membership for exactly the configuration writes (Azure DevOps, Ardoq, field mapping)', () => {
      const A = '/api/ardoq/configurations';
      const M = '/api/field-mapping/configs';
      expect(adminRoutes().sort()).toEqual(
        [
          `POST ${C}`,
          `PUT ${C}/:id`,
          `DELETE ${C}/:id`,
          `POST ${C}/:id/activate`,
          `POST ${A}`,
          `PUT ${A}/:id`,
          `DELETE ${A}/:id`,
          `POST ${A}/:id/activate`,
          `POST ${M}`,
          `PUT ${M}/:id`,
          `DELETE ${M}/:id`,
        ].sort(),
      );
    });

    it('refuses a plain user’s field-mapping writes with a 403, changes nothing; the admin may', async () => {
      const M = '/api/field-mapping/configs';
      const projectId = unique('Perm Mapping Project');
      const body = {
        name: unique('Perm mapping'),
        projectId,
        processTemplateName: 'Agile',
        mappings: [
          { ardoqField: 'description', azureDevOpsField: 'System.Description', workItemType: 'epic' },
        ],
      };
      const refused = await api.call('POST', M, { body, headers: reader });
      expect(refused.status, refused.text).toBe(403);
      expect(expectShape(ErrorBody, refused.json).error).toMatch(/admins group.*administrator/);
      const none = await api.call('GET', `${M}?projectId=${encodeURIComponent(projectId)}`, {
        headers: reader,
      });
      expect(none.json).toMatchObject({ success: true, data: [] });

      const created = await api.call('POST', M, { body, headers: auth });
      expect(created.status, created.text).toBe(201);
      const id = (created.json as { data: { id: string } }).data.id;
      for (const [method, change] of [
        ['PUT', { name: 'renamed by a plain user' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await api.call(method, `${M}/${id}`, { body: change, headers: reader });
        expect(res.status, `${method}: ${res.text}`).toBe(403);
      }
      const kept = await api.call('GET', `${M}/${id}`, { headers: reader });
      expect(kept.json).toMatchObject({ success: true, data: { id, name: body.name } });
      const removed = await api.call('DELETE', `${M}/${id}`, { headers: auth });
      expect(removed.status, removed.text).toBe(200);
    });

    it('lets a plain user read every user route', async () => {
      for (const route of routes.filter((r) => r.permission === 'user')) {
        const res = await api.call(route.method, samplePath(route), { headers: reader });
        expect(res.status, `${route.method} ${route.path}: ${res.text}`).not.toBe(401);
        expect(res.status, `${route.method} ${route.path}: ${res.text}`).not.toBe(403);
        expect(res.status, `${route.method} ${route.path}: ${res.text}`).toBeLessThan(500);
      }
    });

    it('refuses every configuration write of a plain user with a 403 sentence, changes nothing and audits the attempt', async () => {
      const created = await api.call('POST', C, {
        body: { name: unique('Perm'), organization: 'perm-org', patToken: configPat },
        headers: auth,
      });
      expect(created.status, created.text).toBe(201);
      const id = (created.json as { data: { configuration: { id: string } } }).data.configuration.id;
      const before = await api.call('GET', C, { headers: auth });

      const attempts: Array<[string, string, unknown]> = [
        ['POST', C, { name: unique('Perm2'), organization: 'perm-org', patToken: configPat }],
        ['PUT', `${C}/${id}`, { name: 'renamed by a plain user' }],
        ['DELETE', `${C}/${id}`, undefined],
        ['POST', `${C}/${id}/activate`, undefined],
      ];
      for (const [method, path, body] of attempts) {
        const res = await api.call(method, path, { body, headers: reader });
        expect(res.status, `${method} ${path}: ${res.text}`).toBe(403);
        expect(expectShape(ErrorBody, res.json).error).toMatch(/admins group.*administrator/);
      }

      const after = await api.call('GET', C, { headers: auth });
      expect(after.json).toEqual(before.json);
      const trail = await api.call('GET', '/api/audit-logs?action_type=access_denied&limit=100', {
        headers: auth,
      });
      const denied = expectShape(pageBody(AuditLogShape), trail.json).data.filter(
        (e) => e.user_id === 'local-user',
      );
      expect(denied.map((e) => [e.entity_type, e.details])).toEqual(
        expect.arrayContaining(
          attempts.map(([method, path]) => [
            'configuration',
            expect.objectContaining({ method, path, permission: 'admin' }),
          ]),
        ),
      );
      expect(denied.filter((e) => e.entity_id === id)).toHaveLength(3);
      expect(JSON.stringify(trail.json)).not.toContain(configPat);
      expect(JSON.stringify(trail.json)).not.toContain(readerToken);
    });

    it('lets the admin token make the same writes', async () => {
      const created = await api.call('POST', C, {
        body: { name: unique('PermAdmin'), organization: 'perm-org', patToken: configPat },
        headers: auth,
      });
      expect(created.status, created.text).toBe(201);
      const id = (created.json as { data: { configuration: { id: string } } }).data.configuration.id;
      const removed = await api.call('DELETE', `${C}/${id}`, { headers: auth });
      expect(removed.status, removed.text).toBe(200);
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      api.call('OPTIONS', '/api/sync-history', {
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'content-type, authorization, last-event-id',
        },
      });

    it.each(['http://localhost:5173', 'http://127.0.0.1:3000'])(
      'answers a preflight from %s without credentials',
      async (origin) => {
        const res = await preflight(origin);
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        const methods = (res.headers.get('access-control-allow-methods') ?? '').split(/,\s*/);
        expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE']));
        const headers = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
        expect(headers).toEqual(expect.arrayContaining(['content-type', 'authorization', 'last-event-id']));
      },
    );

    it.each([
      'https://evil.example',
      'http://localhost.evil.example:5173',
      'http://localhost:5173.evil.example',
    ])('gives no allow-origin to %s', async (origin) => {
      expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBeNull();
      const res = await api.call('GET', '/api/sync-history', { headers: { ...auth, origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('adds allow-origin to normal answers, errors and streams for an allowed origin', async () => {
      const origin = 'http://localhost:5173';
      const okAnswer = await api.call('GET', '/api/sync-history', { headers: { ...auth, origin } });
      expect(okAnswer.headers.get('access-control-allow-origin')).toBe(origin);
      const denied = await api.call('GET', '/api/sync-history', { headers: { origin } });
      expect(denied.status).toBe(401);
      expect(denied.headers.get('access-control-allow-origin')).toBe(origin);
      const [sync] = expectShape(pageBody(SyncHistoryShape), okAnswer.json).data;
      const stream = await openStream(`${api.system.url}/api/sync-history/${sync?.id}/events`, {
        headers: { ...auth, origin },
      });
      expect(stream.headers.get('access-control-allow-origin')).toBe(origin);
      await stream.readToEnd();
    });
  });

  describe('injection', () => {
    const ATTACKS = [`' OR 1=1 --`, `%'; DROP TABLE sync_history; --`, '\\', '_', '%', `a_b`, `O'Brien`];
    const tag = unique('sqli');

    beforeAll(async () => {
      for (const name of ['a_b', 'axb', "O'Brien"]) {
        const res = await api.call(
          'POST',
          `/api/azure-devops/projects/${encodeURIComponent(`${tag} ${name}`)}/workitems`,
          {
            body: tree(1, 0, 0, 'sq'),
            headers: auth,
          },
        );
        expect(res.status, res.text).toBe(202);
      }
      // Azure DevOps project names cannot hold `%` or `\` (the API refuses them, 400), but rows with
      // them may exist from before: written directly, so the filters still meet them.
      for (const name of ['a%b', 'a\\b']) {
        await createSync(api.system.db, newSync(buildPlan(1), { projectName: `${tag} ${name}` }));
      }
    });
    const q = (value: string) => encodeURIComponent(value);

    it.each(ATTACKS)('treats %j as a literal in every free-text filter', async (attack) => {
      const { rows } = await api.system.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sync_history WHERE strpos(lower(project_name), lower(:attack)) > 0',
        { attack },
      );
      const byProject = await api.call('GET', `/api/sync-history?project_name=${q(attack)}`, {
        headers: auth,
      });
      expect(byProject.status, byProject.text).toBe(200);
      expect(expectShape(pageBody(SyncHistoryShape), byProject.json).pagination.total).toBe(rows[0]?.n);
      const byEntity = await api.call('GET', `/api/audit-logs?entity_id=${q(attack)}`, { headers: auth });
      expect(byEntity.status, byEntity.text).toBe(200);
      expect(expectShape(pageBody(AuditLogShape), byEntity.json).pagination.total).toBe(0);
    });

    it('matches _ % and \\ literally, not as wildcards', async () => {
      const names = async (text: string) => {
        const res = await api.call('GET', `/api/sync-history?project_name=${q(`${tag} ${text}`)}`, {
          headers: auth,
        });
        return expectShape(pageBody(SyncHistoryShape), res.json).data.map((s) => s.project_name);
      };
      expect(await names('a_b')).toEqual([`${tag} a_b`]);
      expect(await names('a%b')).toEqual([`${tag} a%b`]);
      expect(await names('a\\b')).toEqual([`${tag} a\\b`]);
      expect(await names("o'brien")).toEqual([`${tag} O'Brien`]);
    });

    it.each(ATTACKS)('rejects %j in enum and date filters with 400 naming the parameter', async (attack) => {
      const cases: Array<[string, string]> = [
        ['/api/sync-history', 'status'],
        ['/api/sync-history', 'source_type'],
        ['/api/sync-history', 'target_type'],
        ['/api/sync-history', 'start_date'],
        ['/api/sync-history', 'end_date'],
        ['/api/sync-history/stats', 'start_date'],
        ['/api/sync-history/stats', 'end_date'],
        [`/api/sync-history/${UNKNOWN}/items`, 'status'],
        [`/api/sync-history/${UNKNOWN}/items`, 'item_type'],
        ['/api/audit-logs', 'action_type'],
        ['/api/audit-logs', 'entity_type'],
        ['/api/audit-logs', 'end_date'],
        ['/api/audit-logs/stats', 'start_date'],
      ];
      for (const [path, param] of cases) {
        const res = await api.call('GET', `${path}?${param}=${q(attack)}`, { headers: auth });
        expect(res.status, `${path}?${param}: ${res.text}`).toBe(400);
        expect(expectShape(ErrorBody, res.json).details?.map((d) => d.path)).toContain(param);
      }
    });

    it.each(ATTACKS)('answers %j as an id or configId with 404, never 5xx', async (attack) => {
      for (const path of [
        `/api/sync-history/${q(attack)}`,
        `/api/sync-history/${q(attack)}/items`,
        `/api/azure-devops/configurations/${q(attack)}`,
        `/api/azure-devops/test-connection?configId=${q(attack)}`,
        `/api/azure-devops/projects/Agile%20Project/workitems/check?configId=${q(attack)}`,
      ]) {
        const res = await api.call('GET', path, { headers: auth });
        expect(res.status, `${path}: ${res.text}`).toBe(404);
      }
    });

    it('stores an injected sourceConfigId verbatim, and every table is still there', async () => {
      const attack = `%'; DROP TABLE sync_history; --`;
      const res = await api.call(
        'POST',
        `/api/azure-devops/projects/Agile%20Project/workitems?sourceConfigId=${q(attack)}`,
        {
          body: tree(1, 0, 0, 'sqsrc'),
          headers: auth,
        },
      );
      expect(res.status, res.text).toBe(202);
      const id = expectShape(StartAcceptedBody, res.json).data.sync_history_id;
      const sync = await api.call('GET', `/api/sync-history/${id}`, { headers: auth });
      expect(expectShape(okBody(SyncHistoryShape), sync.json).data.source_config_id).toBe(attack);
      for (const table of [
        'sync_history',
        'sync_history_items',
        'sync_plan_items',
        'sync_events',
        'audit_logs',
      ]) {
        const { rows } = await api.system.db.query<{ t: string | null }>(
          'SELECT to_regclass(:table)::text AS t',
          {
            table,
          },
        );
        expect(rows[0]?.t, table).toBe(table);
      }
    });
  });

  describe('the PAT never reaches a host it was not entered for', () => {
    /** A listening socket on loopback, not in the allowed origins: it must never see a connection. */
    let trap: Server;
    let trapUrl = '';
    let connections = 0;
    const configurations = '/api/azure-devops/configurations';
    const send = (method: string, path: string, body?: unknown) =>
      api.call(method, path, { body, headers: auth });
    const simulatorUrl = () => api.system.simulator?.url ?? '';
    const createGood = async () => {
      const res = await send('POST', configurations, {
        name: unique('Bound'),
        organization: simulatorUrl(),
        patToken: api.simulatorPat,
      });
      expect(res.status, res.text).toBe(201);
      return (res.json as { data: { configuration: { id: string } } }).data.configuration.id;
    };
    const runSync = async (configId: string, prefix: string) => {
      const res = await send(
        'POST',
        `/api/azure-devops/projects/Agile%20Project/workitems?configId=${encodeURIComponent(configId)}`,
        tree(1, 1, 1, prefix),
      );
      expect(res.status, res.text).toBe(202);
      const id = expectShape(StartAcceptedBody, res.json).data.sync_history_id;
      await expect
        .poll(async () => (await send('GET', `/api/sync-history/${id}`)).json, { timeout: 30_000 })
        .toMatchObject({ data: { status: expect.stringMatching(/^(completed|failed|cancelled)$/) } });
      const done = await send('GET', `/api/sync-history/${id}`);
      return (done.json as { data: { status: string; items_created: number } }).data;
    };

    beforeAll(async () => {
      trap = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
      trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    });

    it('refuses every way of pointing a configuration at it; test-connection and a sync reach only Azure DevOps', async () => {
      const id = await createGood();
      const attacks: Array<[string, string, Record<string, unknown>]> = [
        ['PUT', `${configurations}/${id}`, { organization: trapUrl }],
        ['PUT', `${configurations}/${id}`, { organization: `${trapUrl}/org`, patToken: trapPat }],
        [
          'PUT',
          `${configurations}/${id}`,
          { organization: `${trapUrl}/#${simulatorUrl()}`, patToken: trapPat },
        ],
        ['PUT', `${configurations}/${id}`, { organization: `https://dev.azure.com@${trapUrl.slice(7)}` }],
        ['POST', configurations, { name: unique('Trap'), organization: trapUrl, patToken: trapPat }],
        ['POST', configurations, { name: unique('Trap'), organization: `${trapUrl}?x=1`, patToken: trapPat }],
      ];

      for (const [method, path, body] of attacks) {
        const res = await send(method, path, body);
        expect(res.status, `${method} ${JSON.stringify(body)}: ${res.text}`).toBe(400);
        expect(expectShape(ErrorBody, res.json).details?.map((d) => d.path)).toEqual(['organization']);
      }

      const tested = await send('GET', `/api/azure-devops/test-connection?configId=${id}`);
      expect(tested.status, tested.text).toBe(200);
      expect(tested.json).toMatchObject({ success: true, configuration: { organization: simulatorUrl() } });
      expect((await runSync(id, 'bound')).status).toBe('completed');
      expect(connections).toBe(0);
    });

    it('a stored organization that is not allowed any more gets no request: test-connection and a sync', async () => {
      const id = await createGood();
      // A row written before the rule (or an origin since removed from ADO_ALLOWED_ORIGINS).
      await api.system.db.query('UPDATE azure_devops_configurations SET organization = :o WHERE id = :id', {
        o: trapUrl,
        id,
      });

      const tested = await send('GET', `/api/azure-devops/test-connection?configId=${id}`);
      expect(tested.status, tested.text).toBe(200);
      const message = `No request was sent: organization origin ${trapUrl} is not allowed`;
      expect(tested.json).toMatchObject({
        success: false,
        message: expect.stringContaining(message),
        configuration: { testPassed: false, testError: expect.stringContaining(message) },
      });
      const sync = await runSync(id, 'stale');
      expect(sync).toMatchObject({ status: 'failed', items_created: 0 });
      expect(connections).toBe(0);
    });
  });

  describe('limits and error answers', () => {
    it('answers a body over 10 MB with 413 JSON and writes nothing', async () => {
      const before = await api.call('GET', '/api/sync-history?limit=1', { headers: auth });
      const total = expectShape(pageBody(SyncHistoryShape), before.json).pagination.total;
      const big = JSON.stringify({
        epics: [{ _id: 'big', name: 'x'.repeat(10 * 1024 * 1024), type: 'Epic' }],
      });
      const res = await api.call('POST', '/api/azure-devops/projects/Agile%20Project/workitems', {
        body: big,
        headers: auth,
      });
      expect(res.status).toBe(413);
      expectShape(ErrorBody, res.json);
      const after = await api.call('GET', '/api/sync-history?limit=1', { headers: auth });
      expect(expectShape(pageBody(SyncHistoryShape), after.json).pagination.total).toBe(total);
    });

    it('answers our own faults with a fixed 500 message; the details go to the logs only', async () => {
      const res = await api.call('GET', `/api/audit-logs?entity_id=${BOOM}`, { headers: auth });
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ success: false, error: 'Internal server error' });
      expect(logs.lines.some((line) => line.includes('ECONNREFUSED'))).toBe(true);
    });

    it('creates a configuration with a PAT (for the secret checks below)', async () => {
      const res = await api.call('POST', '/api/azure-devops/configurations', {
        body: { name: unique('Sec'), organization: api.system.simulator?.url, patToken: configPat },
        headers: auth,
      });
      expect(res.status, res.text).toBe(201);
      const list = await api.call('GET', '/api/azure-devops/configurations', { headers: auth });
      expect(list.status).toBe(200);
      await api.call('GET', '/api/audit-logs?limit=100', { headers: auth });
    });

    // Runs last: every answer and log line of the whole file.
    it('never reveals a stack trace, internals, a PAT or the token in any answer or log line', () => {
      expect(api.transcript.length).toBeGreaterThan(200);
      for (const body of api.transcript) {
        expect(body, 'a stack frame').not.toMatch(
          /\n\s+at |\bat \S+ \(|node_modules|\.ts:\d|\.js:\d|ECONNREFUSED/,
        );
      }
      const answers = api.transcript.join('\n');
      const logged = logs.lines.join('\n');
      expect(logs.lines.length).toBeGreaterThan(10);
      for (const secret of [api.simulatorPat, configPat, trapPat, token]) {
        const encoded = Buffer.from(`:${secret}`).toString('base64');
        expect(answers.includes(secret) || answers.includes(encoded), 'a secret in an answer').toBe(false);
        expect(logged.includes(secret) || logged.includes(encoded), 'a secret in the logs').toBe(false);
      }
    });
  });
});
