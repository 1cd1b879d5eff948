import { describe, expect, it } from 'vitest';
import { prepareSync } from '#core/pipeline/prepare-sync.ts';
import { sqlUuid } from '#core/ports/database.ts';
import { AdoRejectedError, AdoThrottledError, AdoTransientError } from '#core/ports/work-item-tracker.ts';
import { getSync, listEvents } from '#core/sync/sync-history-repository.ts';
import { uniqueProject } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  createHarness,
  drain,
  eventNames,
  prefixOf,
  start,
  tree,
  usePipelineDatabase,
} from '#test/support/pipeline-harness.ts';

// prepareSync: checking the PAT and the project, discovering the work item types, the overwrite
// deletions, retries, concurrent prepares. Harness: test/support/pipeline-harness.ts.

const db = usePipelineDatabase();

describe('prepareSync', () => {
  it('a wrong PAT fails the sync before any create, saying so', async () => {
    const h = await createHarness(db, { storedPat: 'an-expired-pat' });
    const project = uniqueProject('BadPat');
    h.fake.addProject(project, 'Agile');

    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 1));
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toMatch(/^Azure DevOps refused the credentials \(configuration "Config /);
    expect(sync.view).toMatchObject({ items_created: 0, items_skipped: 3 });
    expect(Object.values(h.fake.calls).reduce((a, b) => a + b, 0)).toBe(0);
    expect(h.fake.authFailures).toBe(1);
    expect(h.queue.sent(syncId).filter((m) => m.kind === 'item')).toEqual([]);
    expect(JSON.stringify(h.log.entries)).not.toContain('an-expired-pat');
    await expectSyncInvariants(db, syncId);
  });

  it.each([
    ['carries them: one call', true, 0],
    ['lacks them: the fields of each hierarchy type are read', false, 3],
  ])('types and their fields are discovered from the types list; when it %s', async (_, carries, reads) => {
    const h = await createHarness(db);
    const project = uniqueProject('Types');
    h.fake.addProject(project, 'Agile');
    h.fake.typesListCarriesFields = carries;

    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 1));
    await prepareSync(syncId, h.deps);

    expect(h.fake.calls).toMatchObject({ listWorkItemTypes: 1, listFields: reads });
    const types = (await getSync(db, syncId)).workItemTypes as Record<
      string,
      { name: string; fields: string[] }
    >;
    expect(types.user_story?.name).toBe('User Story');
    expect(types.user_story?.fields).toEqual(await h.fake.listFields(project, 'User Story'));
    expect(types.user_story?.fields).toContain('Microsoft.VSTS.Common.AcceptanceCriteria');
    expect(types.epic?.fields).toEqual(await h.fake.listFields(project, 'Epic'));
    expect(types.epic?.fields).not.toContain('Microsoft.VSTS.Common.AcceptanceCriteria');
  });

  it('a missing project fails the sync with a message naming the project', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Nowhere');

    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toContain(`Azure DevOps project "${project}" does not exist`);
    expect(h.fake.calls.createWorkItem).toBe(0);
    await expectSyncInvariants(db, syncId);
  });

  it('overwrite deletes only managed work items, in chunks of ≤ 200, counting and reporting each', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Overwrite');
    const elsewhere = uniqueProject('Elsewhere');
    h.fake.addProject(project, 'Agile');
    h.fake.addProject(elsewhere, 'Agile');
    const managed: number[] = [];
    for (let i = 0; i < 450; i++) {
      const type = ['Epic', 'Feature', 'User Story'][i % 3] ?? 'Epic';
      managed.push(h.fake.seedWorkItem(project, type, { title: `old ${i}`, tags: ['ardoq-sync', 'OLD-1'] }));
    }
    const unmanaged = [
      ...Array.from({ length: 5 }, (_, i) =>
        h.fake.seedWorkItem(project, 'User Story', { title: `mine ${i}` }),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        h.fake.seedWorkItem(project, 'Bug', { title: `bug ${i}`, tags: ['ardoq-sync'] }),
      ),
      h.fake.seedWorkItem(project, 'Task', { title: 'task', tags: ['ardoq-sync'] }),
    ];
    const otherProject = h.fake.seedWorkItem(elsewhere, 'Epic', { title: 'theirs', tags: ['ardoq-sync'] });

    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0), { overwrite: 'true' });
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.view).toMatchObject({ status: 'completed', deletion_count: 450, items_created: 2 });
    expect(h.fake.deleteLog.map((ids) => ids.length)).toEqual([200, 200, 50]);
    expect(h.fake.recycleBin().map((w) => w.id)).toEqual(managed);
    expect(
      h.fake
        .workItems()
        .map((w) => w.id)
        .filter((id) => id <= otherProject),
    ).toEqual([...unmanaged, otherProject]);
    const events = await listEvents(db, syncId);
    const overwrite = events.filter((e) => e.event.startsWith('overwrite:'));
    expect(overwrite.map((e) => e.event)).toEqual([
      'overwrite:started',
      'overwrite:deleting',
      'overwrite:progress',
      'overwrite:progress',
      'overwrite:progress',
      'overwrite:deleted',
    ]);
    const progress = overwrite.filter((e) => e.event === 'overwrite:progress').map((e) => e.data);
    expect(progress.map((d) => [d.deleted, d.total, d.currentChunk, d.totalChunks])).toEqual([
      [200, 450, 1, 3],
      [400, 450, 2, 3],
      [450, 450, 3, 3],
    ]);
    expect(progress.flatMap((d) => d.deletedIds as number[])).toEqual(managed);
    expect(overwrite[1]?.data.count).toBe(450);
    expect(overwrite[5]?.data.count).toBe(450);
    const names = events.map((e) => e.event);
    expect(names.indexOf('sync:started')).toBeGreaterThan(names.indexOf('overwrite:deleted'));
    await expectSyncInvariants(db, syncId);
  });

  it('overwrite with nothing to delete says so and goes on', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Empty');
    h.fake.addProject(project, 'Scrum');

    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0), { overwrite: 'true' });
    await drain(h);

    expect((await eventNames(db, syncId)).filter((e) => e.startsWith('overwrite:'))).toEqual([
      'overwrite:started',
      'overwrite:no-items',
    ]);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', deletion_count: 0 });
  });

  it('a failed overwrite deletion: exactly one overwrite:error, then the sync fails (sync:error last)', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('DeleteFails');
    h.fake.addProject(project, 'Agile');
    for (let i = 0; i < 250; i++)
      h.fake.seedWorkItem(project, 'Epic', { title: `old ${i}`, tags: ['ardoq-sync'] });
    h.fake.failNext(
      'deleteWorkItems',
      new AdoRejectedError('TF401213: You do not have permission to delete work items', 403, 'TF401213'),
    );

    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0), { overwrite: 'true' });
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toBe(
      'Overwrite failed: TF401213: You do not have permission to delete work items',
    );
    expect(sync.view).toMatchObject({ deletion_count: 0, items_created: 0, items_skipped: 2 });
    const names = await eventNames(db, syncId);
    expect(names.filter((e) => e.startsWith('overwrite:'))).toEqual([
      'overwrite:started',
      'overwrite:deleting',
      'overwrite:error',
    ]);
    expect(names.indexOf('overwrite:error')).toBeLessThan(names.indexOf('sync:error'));
    expect(names.at(-1)).toBe('sync:error');
    expect(h.fake.calls.createWorkItem).toBe(0);
    expect(h.fake.recycleBin(project)).toEqual([]);
    await expectSyncInvariants(db, syncId);
  });

  it.each([
    ['throttled', () => new AdoThrottledError('TF400733: Request was blocked', 2500, 429), 3],
    ['transient', () => new AdoTransientError('Azure DevOps failed with HTTP 502', 502), 5],
  ])('%s: the claim is released and prepare is re-queued with a delay', async (_, error, delaySeconds) => {
    const h = await createHarness(db);
    const project = uniqueProject('PrepareLater');
    h.fake.addProject(project, 'CMMI');
    h.fake.failNext('listWorkItemTypes', error());
    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 1));

    await drain(h, { stopAt: (m) => m.kind === 'prepare' && h.fake.calls.listWorkItemTypes > 0 });

    const { rows } = await db.query<{ status: string; prepare_claimed_at: Date | null }>(
      'SELECT status, prepare_claimed_at FROM sync_history WHERE id = CAST(:id AS uuid)',
      { id: sqlUuid(syncId) },
    );
    expect(rows[0]).toEqual({ status: 'pending', prepare_claimed_at: null });
    expect(h.queue.sends.at(-1)).toEqual({ messages: [{ kind: 'prepare', syncId }], delaySeconds });

    await drain(h);

    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 3 });
    await expectSyncInvariants(db, syncId);
  });

  it('two prepares at once: types discovered once, deletions done and counted once, epics queued once', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Twice');
    h.fake.addProject(project, 'Agile');
    for (let i = 0; i < 30; i++)
      h.fake.seedWorkItem(project, 'Feature', { title: `old ${i}`, tags: ['ardoq-sync'] });
    const prefix = prefixOf();
    const syncId = await start(h, project, tree(prefix, 2, 0, 0), { overwrite: 'true' });
    h.queue.pending.length = 0;

    await Promise.all([prepareSync(syncId, h.deps), prepareSync(syncId, h.deps)]);
    await prepareSync(syncId, h.deps);

    expect(h.fake.calls.listWorkItemTypes).toBe(1);
    expect(h.fake.deleteLog).toHaveLength(1);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'in_progress', deletion_count: 30 });
    const names = await eventNames(db, syncId);
    expect(names.filter((e) => e === 'overwrite:started' || e === 'sync:started')).toEqual([
      'overwrite:started',
      'sync:started',
    ]);
    expect(h.queue.pending).toEqual([
      { kind: 'item', syncId, ardoqId: `${prefix}-e0` },
      { kind: 'item', syncId, ardoqId: `${prefix}-e1` },
    ]);
    await drain(h);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });
});
