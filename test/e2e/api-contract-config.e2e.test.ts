import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  AuditLogShape,
  ConfigurationShape,
  ErrorBody,
  expectShape,
  IsoUtc,
  okBody,
  pageBody,
  TestResultShape,
} from '#test/support/contract-schemas.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';

const CreatedBody = z
  .object({
    success: z.literal(true),
    message: z.string().min(1),
    data: z.object({ configuration: ConfigurationShape, testResult: TestResultShape }).strict(),
  })
  .strict();
const ListBody = z
  .object({ success: z.literal(true), data: z.array(ConfigurationShape), count: z.number().int() })
  .strict();
const ConnectionBody = z
  .object({
    success: z.boolean(),
    message: z.string().min(1),
    data: z
      .object({ projects: z.array(z.string()), projectCount: z.number().int(), timestamp: IsoUtc })
      .strict(),
    configuration: ConfigurationShape,
  })
  .strict();
const OneBody = okBody(ConfigurationShape);

/** CONTRACT.md §6: Azure DevOps configurations. The PAT goes in and never comes out. */
describe('API contract: Azure DevOps configurations', () => {
  let api: ContractSystem;
  const SIMULATOR_ID = 'local-ado-simulator';
  const wrongPat = `wrong-pat-${unique('x').slice(2)}`;
  const otherPat = `other-pat-${unique('x').slice(2)}`;

  beforeAll(async () => {
    api = await startContractSystem();
  });
  afterAll(async () => {
    await api?.close();
  });

  const base = '/api/azure-devops';
  const org = () => api.system.simulator?.url ?? '';
  const create = async (body: Record<string, unknown>) => {
    const res = await api.call('POST', `${base}/configurations`, { body });
    expect(res.status, res.text).toBe(201);
    return expectShape(CreatedBody, res.json);
  };
  const one = async (method: string, path: string, body?: unknown) => {
    const res = await api.call(method, `${base}${path}`, { body });
    expect(res.status, res.text).toBe(200);
    return expectShape(OneBody, res.json).data;
  };
  const testConnection = async (query = '') => {
    const res = await api.call('GET', `${base}/test-connection${query}`);
    expect(res.status, res.text).toBe(200);
    return expectShape(ConnectionBody, res.json);
  };
  const auditTrail = async (id: string) => {
    const res = await api.call('GET', `/api/audit-logs?entity_type=configuration&entity_id=${id}`);
    return expectShape(pageBody(AuditLogShape), res.json).data;
  };

  it('POST creates (201), tests the connection and audits config_created', async () => {
    const created = await create({ name: unique('Good'), organization: org(), patToken: api.simulatorPat });
    expect(created.message).toBe('Configuration created');
    const { configuration, testResult } = created.data;
    expect(testResult).toEqual({ success: true, message: expect.any(String), projectCount: 4 });
    expect(configuration).toMatchObject({
      isActive: false,
      isTested: true,
      testPassed: true,
      organization: org(),
    });
    expect(configuration).not.toHaveProperty('testError');
    const [audit] = await auditTrail(configuration.id);
    expect(audit).toMatchObject({
      action_type: 'config_created',
      details: { name: configuration.name, organization: org(), test_passed: true },
    });
  });

  it('POST with a PAT Azure DevOps refuses still creates, with the failed test result', async () => {
    const created = await create({ name: unique('Refused'), organization: org(), patToken: wrongPat });
    expect(created.data.testResult.success).toBe(false);
    expect(created.data.testResult).not.toHaveProperty('projectCount');
    expect(created.data.configuration).toMatchObject({ isTested: true, testPassed: false, isActive: false });
    expect(created.data.configuration.testError).toBeDefined();
  });

  it.each([
    [{}, ['name', 'organization', 'patToken']],
    [{ name: ' ', organization: 'acme', patToken: 'p' }, ['name']],
    [{ name: 'n', organization: 'http://example.com', patToken: 'p' }, ['organization']],
    [{ name: 'n', organization: 'not a name!', patToken: 'p' }, ['organization']],
    [{ name: 'n', organization: 'acme', patToken: '' }, ['patToken']],
    [{ name: 'n', organization: 'acme', patToken: 'p', setActive: 'yes' }, ['setActive']],
  ])('POST %j → 400 naming %j, writing nothing', async (body, paths) => {
    const before = expectShape(ListBody, (await api.call('GET', `${base}/configurations`)).json).count;
    const res = await api.call('POST', `${base}/configurations`, { body });
    expect(res.status, res.text).toBe(400);
    expect(expectShape(ErrorBody, res.json).details?.map((d) => d.path)).toEqual(paths);
    expect(expectShape(ListBody, (await api.call('GET', `${base}/configurations`)).json).count).toBe(before);
  });

  it('GET /configurations → { success, data, count }; /active; /:id; 404 for an unknown id', async () => {
    const list = expectShape(ListBody, (await api.call('GET', `${base}/configurations`)).json);
    expect(list.count).toBe(list.data.length);
    expect(list.data.filter((c) => c.isActive).map((c) => c.id)).toEqual([SIMULATOR_ID]);
    expect(await one('GET', '/configurations/active')).toEqual(list.data.find((c) => c.id === SIMULATOR_ID));
    for (const configuration of list.data) {
      expect(await one('GET', `/configurations/${encodeURIComponent(configuration.id)}`)).toEqual(
        configuration,
      );
    }
    const missing = await api.call('GET', `${base}/configurations/no-such-id`);
    expect(missing.status).toBe(404);
    expectShape(ErrorBody, missing.json);
  });

  it('PUT changes the name; a new PAT resets the test result; each change is audited', async () => {
    const { configuration } = (
      await create({ name: unique('Put'), organization: org(), patToken: api.simulatorPat })
    ).data;
    const renamed = await one('PUT', `/configurations/${configuration.id}`, { name: 'Renamed' });
    expect(renamed).toMatchObject({ name: 'Renamed', isTested: true, testPassed: true });
    const newPat = await one('PUT', `/configurations/${configuration.id}`, { patToken: wrongPat });
    expect(newPat).toMatchObject({ name: 'Renamed', isTested: false, testPassed: false });
    expect(newPat).not.toHaveProperty('testError');
    const trail = await auditTrail(configuration.id);
    expect(trail.map((a) => [a.action_type, a.details])).toEqual([
      ['config_updated', { fields: ['pat'] }],
      ['config_updated', { fields: ['name'] }],
      ['config_created', expect.any(Object)],
    ]);
    expect((await api.call('PUT', `${base}/configurations/no-such-id`, { body: { name: 'x' } })).status).toBe(
      404,
    );
    const invalid = await api.call('PUT', `${base}/configurations/${configuration.id}`, {
      body: { name: '' },
    });
    expect(invalid.status).toBe(400);
    expect(expectShape(ErrorBody, invalid.json).details?.map((d) => d.path)).toEqual(['name']);
  });

  it('activate is 400 until the connection test passed; test-connection stores the result', async () => {
    const { configuration } = (await create({ name: unique('Act'), organization: org(), patToken: wrongPat }))
      .data;
    const refused = await api.call('POST', `${base}/configurations/${configuration.id}/activate`);
    expect(refused.status, refused.text).toBe(400);
    expect(expectShape(ErrorBody, refused.json).details?.map((d) => d.path)).toEqual(['id']);

    const failedTest = await testConnection(`?configId=${configuration.id}`);
    expect(failedTest).toMatchObject({ success: false, data: { projects: [], projectCount: 0 } });
    expect(failedTest.configuration).toMatchObject({
      id: configuration.id,
      isTested: true,
      testPassed: false,
    });

    await one('PUT', `/configurations/${configuration.id}`, { patToken: api.simulatorPat });
    const passed = await testConnection(`?configId=${configuration.id}`);
    expect(passed.success).toBe(true);
    expect(passed.data.projects).toContain('Agile Project');
    expect(passed.data.projectCount).toBe(passed.data.projects.length);
    expect(passed.configuration).toMatchObject({ isTested: true, testPassed: true });
    expect(passed.configuration).not.toHaveProperty('testError');

    try {
      const active = await one('POST', `/configurations/${configuration.id}/activate`);
      expect(active).toMatchObject({ id: configuration.id, isActive: true });
      expect((await one('GET', '/configurations/active')).id).toBe(configuration.id);
      expect((await one('GET', `/configurations/${SIMULATOR_ID}`)).isActive).toBe(false);
      expect((await testConnection()).configuration.id).toBe(configuration.id); // the active one by default
    } finally {
      await one('POST', `/configurations/${SIMULATOR_ID}/activate`);
    }
    expect((await auditTrail(configuration.id)).map((a) => a.action_type)).toEqual([
      'connection_tested',
      'config_activated',
      'connection_tested',
      'config_updated',
      'connection_tested',
      'config_created',
    ]);
    expect((await api.call('POST', `${base}/configurations/no-such-id/activate`)).status).toBe(404);
    expect((await api.call('GET', `${base}/test-connection?configId=no-such-id`)).status).toBe(404);
  });

  it('POST with setActive activates a configuration whose test passed (and audits both)', async () => {
    try {
      const created = await create({
        name: unique('SetActive'),
        organization: org(),
        patToken: api.simulatorPat,
        setActive: true,
      });
      expect(created.data.configuration.isActive).toBe(true);
      const trail = await auditTrail(created.data.configuration.id);
      expect(trail.map((a) => a.action_type).sort()).toEqual(['config_activated', 'config_created']);
      const refused = await create({
        name: unique('NotActive'),
        organization: org(),
        patToken: wrongPat,
        setActive: true,
      });
      expect(refused.data.configuration.isActive).toBe(false);
    } finally {
      await one('POST', `/configurations/${SIMULATOR_ID}/activate`);
    }
  });

  it('DELETE removes a configuration (200 + it), then 404; audited as config_deleted', async () => {
    const { configuration } = (await create({ name: unique('Del'), organization: org(), patToken: wrongPat }))
      .data;
    const deleted = await one('DELETE', `/configurations/${configuration.id}`);
    expect(deleted).toMatchObject({ id: configuration.id, name: configuration.name });
    expect((await api.call('GET', `${base}/configurations/${configuration.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `${base}/configurations/${configuration.id}`)).status).toBe(404);
    const [last] = await auditTrail(configuration.id);
    expect(last).toMatchObject({ action_type: 'config_deleted', details: { name: configuration.name } });
  });

  describe('a stored PAT stays bound to the organization it was entered for', () => {
    /** The configuration row and the audit table, to prove a refused request wrote nothing. */
    const snapshot = async (id: string) => {
      const row = await api.system.db.query('SELECT * FROM azure_devops_configurations WHERE id = :id', {
        id,
      });
      const audit = await api.system.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs');
      const configurations = await api.system.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM azure_devops_configurations',
      );
      return { row: row.rows[0], audits: audit.rows[0]?.n, configurations: configurations.rows[0]?.n };
    };
    const expectOrganizationRefused = (res: { status: number; json: unknown; text: string }) => {
      expect(res.status, res.text).toBe(400);
      const body = expectShape(ErrorBody, res.json);
      expect(body.details?.map((d) => d.path)).toEqual(['organization']);
      expect(body.error).toMatch(/^Invalid request: organization: /);
    };
    const goodConfiguration = async () =>
      (await create({ name: unique('Bound'), organization: org(), patToken: api.simulatorPat })).data
        .configuration;

    it('PUT changing only the organization is 400 naming organization and writes nothing', async () => {
      const { id } = await goodConfiguration();
      const before = await snapshot(id);

      // A valid, allowed organization: what is refused is moving the stored PAT to it.
      const res = await api.call('PUT', `${base}/configurations/${id}`, {
        body: { organization: 'another-org' },
      });

      expectOrganizationRefused(res);
      expect(expectShape(ErrorBody, res.json).details?.[0]?.message).toMatch(/patToken/);
      expect(await snapshot(id)).toEqual(before);
      const row = before.row as { secret_ref: string };
      expect(await api.system.deps.secrets.get(row.secret_ref)).toBe(api.simulatorPat);
      expect((await testConnection(`?configId=${id}`)).success).toBe(true);
    });

    it.each([
      ['a # fragment', () => `${org()}#https://dev.azure.com/acme`],
      ['the instance metadata service over http', () => 'http://169.254.169.254/latest/meta-data'],
      ['the instance metadata service over https', () => 'https://169.254.169.254/latest/meta-data'],
      [
        'a loopback http origin not in the allowed list (a Lambda runtime API)',
        () => 'http://127.0.0.1:9001',
      ],
      ['an https host not allowed', () => 'https://evil.example/acme'],
      ['userinfo hiding the real host', () => 'https://dev.azure.com@evil.example'],
      ['a query string', () => 'https://dev.azure.com/acme?api-version=7.1'],
      ['a dev.azure.com URL with an extra path', () => 'https://dev.azure.com/acme/_apis'],
    ])(
      '%s: POST and PUT (even with a PAT) are 400 naming organization, writing nothing',
      async (_l, target) => {
        const { id } = await goodConfiguration();
        const before = await snapshot(id);

        const post = await api.call('POST', `${base}/configurations`, {
          body: { name: unique('Attack'), organization: target(), patToken: otherPat },
        });
        const put = await api.call('PUT', `${base}/configurations/${id}`, {
          body: { organization: target(), patToken: otherPat },
        });
        const putAlone = await api.call('PUT', `${base}/configurations/${id}`, {
          body: { organization: target() },
        });

        for (const res of [post, put, putAlone]) expectOrganizationRefused(res);
        expect(await snapshot(id)).toEqual(before);
        const row = before.row as { secret_ref: string };
        expect(await api.system.deps.secrets.get(row.secret_ref)).toBe(api.simulatorPat);
      },
    );

    it('PUT with a new organization and its PAT is accepted and audited with from and to', async () => {
      const { id } = await goodConfiguration();

      const moved = await one('PUT', `/configurations/${id}`, {
        organization: 'another-org',
        patToken: otherPat,
      });

      expect(moved).toMatchObject({ organization: 'another-org', isTested: false, testPassed: false });
      const [audit] = await auditTrail(id);
      expect(audit).toMatchObject({
        action_type: 'config_updated',
        details: { fields: ['organization', 'pat'], organization: { from: org(), to: 'another-org' } },
      });
    });

    it('PUT spelling the same base URL differently needs no PAT and is audited with from and to', async () => {
      const { id } = await goodConfiguration();

      const renamed = await one('PUT', `/configurations/${id}`, { organization: `${org()}/` });

      expect(renamed.organization).toBe(`${org()}/`);
      const [audit] = await auditTrail(id);
      expect(audit?.details).toEqual({
        fields: ['organization'],
        organization: { from: org(), to: `${org()}/` },
      });
      expect((await testConnection(`?configId=${id}`)).success).toBe(true);
    });
  });

  // Runs last: every body this file received.
  it('never returns a PAT in any response', async () => {
    await api.call('GET', '/api/audit-logs?limit=100');
    await api.call('GET', `${base}/configurations`);
    expect(api.transcript.length).toBeGreaterThan(30);
    const all = api.transcript.join('\n');
    for (const secret of [api.simulatorPat, wrongPat, otherPat]) {
      expect(all.includes(secret), 'a PAT in a response').toBe(false);
      expect(all.includes(Buffer.from(`:${secret}`).toString('base64')), 'an encoded PAT').toBe(false);
    }
    expect(/secret_?ref/i.test(all), 'a secret reference in a response').toBe(false);
  });
});
