import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUuid } from '#store/database.ts';
import {
  captureLog,
  expectAdoConsistent,
  startTestSystem,
  type TestSystem,
  tree,
} from '#test/support/e2e.ts';
import { createScratchDatabase, postgresAvailable } from '#test/support/postgres.ts';

describe('the sync pipeline over HTTP (local runtime + ADO simulator)', () => {
  let system: TestSystem;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const logs = captureLog();

  beforeAll(async () => {
    scratch = postgresAvailable ? await createScratchDatabase() : undefined;
    system = await startTestSystem({ ...(scratch ? { databaseUrl: scratch.url } : {}), log: logs.log });
  });
  afterAll(async () => {
    await system?.close();
    await scratch?.drop();
  });

  const count = async (sql: string, params = {}) =>
    (await system.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]?.n;

  it.each([
    ['Agile Project', ['Epic', 'Feature', 'User Story']],
    ['Scrum Project', ['Epic', 'Feature', 'Product Backlog Item']],
    ['Basic Project', ['Epic', 'Issue', 'Task']],
  ])('creates the hierarchy in %s with the process types %j', async (project, types) => {
    const prefix = project.split(' ')[0]!.toLowerCase();
    const id = await system.startSync(project, tree(2, 2, 2, prefix));
    const done = await system.waitForTerminal(id);
    expect(done).toMatchObject({
      status: 'completed',
      total_items: 14,
      items_created: 14,
      items_failed: 0,
      items_skipped: 0,
    });
    expect(done).toMatchObject({ epics_created: 2, features_created: 4, user_stories_created: 8 });
    const created = system
      .simulator!.workItems(project)
      .filter((w) => String(w.fields['System.Title']).startsWith(prefix));
    expect(new Set(created.map((w) => w.type))).toEqual(new Set(types));
    const story = created.find((w) => w.fields['System.Title'] === `${prefix} Story 0.0.0`);
    expect(String(story?.fields['System.Tags'])).toContain('ardoq-sync');
    expect(story?.fields['System.Description']).toBe('As a user<br>I want &lt;things&gt;');
    const epic = created.find((w) => w.fields['System.Title'] === `${prefix} Epic 0`);
    expect(String(epic?.fields['System.Tags'])).toContain(`${prefix.toUpperCase()}-0`);
    await expectAdoConsistent(system, system.db, id);

    const { rows } = await system.db.query<{
      azure_devops_url: string;
      changed_by_user: Record<string, unknown>;
    }>(
      `SELECT azure_devops_url, changed_by_user FROM sync_history_items WHERE sync_history_id = CAST(:id AS uuid) LIMIT 1`,
      { id: sqlUuid(id) },
    );
    expect(rows[0]?.azure_devops_url).toMatch(
      new RegExp(`/${encodeURIComponent(project)}/_workitems/edit/\\d+$`),
    );
    expect(rows[0]?.changed_by_user).toMatchObject({ displayName: expect.any(String) });
  });

  it('syncs a 500-item tree with exact counters', async () => {
    const id = await system.startSync('Agile Project', tree(5, 9, 10, 'big'));
    const done = await system.waitForTerminal(id, 120_000);
    expect(done).toMatchObject({ status: 'completed', total_items: 500, items_created: 500 });
    await expectAdoConsistent(system, system.db, id);
  });

  it('fails a rejected item and skips its whole subtree, still completing the sync', async () => {
    system.simulator!.rejectTitles(['rej Feature 0.1', 'rej Epic 1']);
    const id = await system.startSync('Agile Project', tree(2, 2, 3, 'rej'));
    const done = await system.waitForTerminal(id);
    // Epic 1 fails (its 2 features and 6 stories skipped); Feature 0.1 fails (its 3 stories skipped).
    expect(done).toMatchObject({
      status: 'completed',
      total_items: 18,
      items_created: 5,
      items_failed: 2,
      items_skipped: 11,
      epics_failed: 1,
      // Per type, every node not created: Feature 0.1 failed, Epic 1's two features skipped.
      features_failed: 3,
      features_skipped: 2,
      user_stories_failed: 9,
      user_stories_skipped: 9,
    });
    const { rows } = await system.db.query<{ error_message: string }>(
      `SELECT error_message FROM sync_history_items WHERE sync_history_id = CAST(:id AS uuid) AND ardoq_id = 'rej-e0-f1-s0'`,
      { id: sqlUuid(id) },
    );
    expect(rows[0]?.error_message).toBe('Not created: its parent "rej Feature 0.1" was not created');
    await expectAdoConsistent(system, system.db, id);
  });

  it('overwrite sends only managed work items to the recycle bin and counts them exactly', async () => {
    const project = 'Overwrite Project';
    system.simulator!.addProject(project, 'Agile');
    const first = await system.startSync(project, tree(1, 2, 2, 'old'));
    expect((await system.waitForTerminal(first)).items_created).toBe(7);
    const manual = system.simulator!.seedWorkItem(project, 'User Story', {
      'System.Title': 'Written by a human',
    });
    const taggedTask = system.simulator!.seedWorkItem(project, 'Task', {
      'System.Title': 'A task someone tagged',
      'System.Tags': 'ardoq-sync',
    });

    const id = await system.startSync(project, tree(1, 1, 1, 'new'), '?overwrite=true');
    const done = await system.waitForTerminal(id);
    expect(done).toMatchObject({
      status: 'completed',
      overwrite_mode: true,
      deletion_count: 7,
      items_created: 3,
    });
    const bin = system.simulator!.recycleBin(project).map((w) => String(w.fields['System.Title']));
    expect(bin.sort()).toEqual([
      'old Epic 0',
      'old Feature 0.0',
      'old Feature 0.1',
      'old Story 0.0.0',
      'old Story 0.0.1',
      'old Story 0.1.0',
      'old Story 0.1.1',
    ]);
    const alive = system.simulator!.workItems(project).map((w) => w.id);
    expect(alive).toContain(manual.id);
    expect(alive).toContain(taggedTask.id);
    const { rows } = await system.db.query<{ event: string }>(
      'SELECT event FROM sync_events WHERE sync_history_id = CAST(:id AS uuid) ORDER BY seq',
      { id: sqlUuid(id) },
    );
    expect(rows.map((r) => r.event).slice(0, 6)).toEqual([
      'sync:accepted',
      'overwrite:started',
      'overwrite:deleting',
      'overwrite:progress',
      'overwrite:deleted',
      'sync:started',
    ]);
    await expectAdoConsistent(system, system.db, id);
  });

  it('cancels a slow sync in the middle: nothing left behind, in-flight items recorded', async () => {
    system.simulator!.setFaults({ latencyMs: 150 });
    try {
      const id = await system.startSync('Agile Project', tree(3, 4, 5, 'cxl'));
      await expect
        .poll(
          async () =>
            (await system.request<{ data: { items_created: number } }>('GET', `/api/sync-history/${id}`)).body
              .data.items_created,
          { timeout: 20_000 },
        )
        .toBeGreaterThan(3);
      const cancel = await system.request<{ data: { status: string } }>(
        'POST',
        `/api/sync-history/${id}/cancel`,
      );
      expect(cancel.status).toBe(200);
      expect(cancel.body.data.status).toBe('cancelled');
      const again = await system.request('POST', `/api/sync-history/${id}/cancel`);
      expect(again.status).toBe(409);
      // In-flight items finish; then every node has exactly one outcome.
      await expect
        .poll(
          async () =>
            count("sync_plan_items WHERE sync_history_id = CAST(:id AS uuid) AND state <> 'done'", {
              id: sqlUuid(id),
            }),
          { timeout: 20_000 },
        )
        .toBe(0);
      const final = (
        await system.request<{
          data: { status: string; items_skipped: number; items_created: number; total_items: number };
        }>('GET', `/api/sync-history/${id}`)
      ).body.data;
      expect(final.status).toBe('cancelled');
      expect(final.items_skipped).toBeGreaterThan(0);
      expect(final.items_created + final.items_skipped).toBe(final.total_items);
      await expectAdoConsistent(system, system.db, id);
    } finally {
      system.simulator!.setFaults({});
    }
  });

  it('fails quickly with a clear error when Azure DevOps refuses the PAT, attempting no item', async () => {
    const created = await system.request<{
      data: { configuration: { id: string }; testResult: { success: boolean } };
    }>('POST', '/api/azure-devops/configurations', {
      name: 'Wrong PAT',
      organization: system.simulator!.url,
      patToken: 'not-the-pat',
    });
    expect(created.status).toBe(201);
    expect(created.body.data.testResult.success).toBe(false);
    const before = system.simulator!.stats.creates;
    const started = Date.now();
    const id = await system.startSync(
      'Agile Project',
      tree(2, 2, 2, 'pat'),
      `?configId=${created.body.data.configuration.id}`,
    );
    const done = await system.waitForTerminal(id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(done.status).toBe('failed');
    expect(done.error_message).toMatch(/refused the credentials.*Wrong PAT.*PAT is wrong, expired/);
    expect(done).toMatchObject({ items_created: 0, items_failed: 0, items_skipped: 14 });
    expect(system.simulator!.stats.creates).toBe(before);
    expect(JSON.stringify(done)).not.toContain('not-the-pat');
    await expectSyncInvariantsOnly(id);
  });

  async function expectSyncInvariantsOnly(id: string) {
    const { expectSyncInvariants } = await import('#test/support/invariants.ts');
    await expectSyncInvariants(system.db, id);
  }

  it.each([
    ['a missing epics array', {}, 'epics'],
    ['an empty epics array', { epics: [] }, 'epics'],
    ['a feature at the epic level', { epics: [{ _id: 'x', name: 'x', type: 'Feature' }] }, 'epics[0].type'],
    [
      'a story at the feature level',
      {
        epics: [
          { _id: 'e', name: 'e', type: 'Epic', children: [{ _id: 's', name: 's', type: 'User Story' }] },
        ],
      },
      'epics[0].children[0].type',
    ],
    [
      'a duplicate _id',
      {
        epics: [
          { _id: 'd', name: 'a', type: 'Epic' },
          { _id: 'd', name: 'b', type: 'Epic' },
        ],
      },
      'epics[1]._id',
    ],
    ['an empty name', { epics: [{ _id: 'n', name: ' ', type: 'Epic' }] }, 'epics[0].name'],
    [
      'an unknown process template',
      { epics: [{ _id: 'p', name: 'p', type: 'Epic' }], processTemplateTemplateName: 'Kanban' },
      'processTemplateTemplateName',
    ],
  ])('rejects %s with 400 and the path, writing nothing', async (_name, body, path) => {
    const before = await count('sync_history');
    const audits = await count('audit_logs');
    const res = await system.request<{ success: boolean; error: string; details: Array<{ path: string }> }>(
      'POST',
      '/api/azure-devops/projects/Agile%20Project/workitems',
      body,
    );
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.details.map((d) => d.path)).toContain(path);
    expect(await count('sync_history')).toBe(before);
    expect(await count('audit_logs')).toBe(audits);
  });

  it('answers invalid JSON with 400 and unknown syncs with 404', async () => {
    const res = await system.request(
      'POST',
      '/api/azure-devops/projects/Agile%20Project/workitems',
      '{"epics": [',
    );
    expect(res.status).toBe(400);
    expect(
      (await system.request('GET', '/api/sync-history/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
    expect((await system.request('GET', '/api/sync-history/not-a-uuid')).status).toBe(404);
    expect(
      (await system.request('POST', '/api/sync-history/00000000-0000-4000-8000-000000000000/cancel')).status,
    ).toBe(404);
  });

  // Runs last (tests in a file run in order): every line logged over the whole file.
  it('never logs a PAT, neither the good one nor a rejected one', async () => {
    const pat = await system.deps.secrets.get('local:local-ado-simulator');
    expect(pat.length).toBeGreaterThan(10);
    expect(logs.lines.length).toBeGreaterThan(20);
    const all = logs.lines.join('\n');
    for (const secret of [pat, 'not-the-pat', Buffer.from(`:${pat}`).toString('base64')]) {
      expect(all.includes(secret), 'a PAT in the logs').toBe(false);
    }
  });
});
