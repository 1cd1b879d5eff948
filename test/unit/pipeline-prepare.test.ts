import { describe, expect, it } from 'vitest';
import { cancelSync } from '#core/pipeline/cancel.ts';
import { prepareSync } from '#core/pipeline/prepare-sync.ts';
import {
  AdoAuthError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
} from '#core/ports/work-item-tracker.ts';
import { RetryLaterError } from '#core/ports/work-queue.ts';
import { sqlUuid } from '#store/database.ts';
import { getSync, listEvents } from '#store/sync/sync-rows.ts';
import { uniqueProject } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  ACTOR,
  age,
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
    expect(sync.view.error_message).toMatch(
      /^Azure DevOps refused the credentials \(HTTP 203\) \(configuration "Config /,
    );
    expect(sync.view).toMatchObject({ items_created: 0, items_skipped: 3 });
    expect(Object.values(h.fake.calls).reduce((a, b) => a + b, 0)).toBe(0);
    // The discovery's three requests go out together (one round trip); nothing after them.
    expect(h.fake.authFailures).toBe(3);
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
    const types = (await getSync(db, syncId)).workItemTypes;
    expect(types?.user_story?.name).toBe('User Story');
    expect(types?.user_story?.fields).toEqual(await h.fake.listFields(project, 'User Story'));
    expect(types?.user_story?.fields).toContain('Microsoft.VSTS.Common.AcceptanceCriteria');
    expect(types?.epic?.fields).toEqual(await h.fake.listFields(project, 'Epic'));
    expect(types?.epic?.fields).not.toContain('Microsoft.VSTS.Common.AcceptanceCriteria');
  });

  it("asks for the project's types, fields' types and id together, and reuses them for the connection's next sync", async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Discovery');
    h.fake.addProject(project, 'Agile');
    const first = await start(h, project, tree(prefixOf(), 1, 1, 1));
    await drain(h);
    expect(h.fake.calls).toMatchObject({ listWorkItemTypes: 1, listFieldDefinitions: 1, getProject: 1 });
    // The next sync of the same project on this cold start: no discovery round trip at all.
    const second = await start(h, project, tree(prefixOf(), 1, 1, 1));
    await drain(h);
    expect(h.fake.calls).toMatchObject({ listWorkItemTypes: 1, listFieldDefinitions: 1, getProject: 1 });
    for (const id of [first, second]) {
      expect((await getSync(db, id)).status).toBe('completed');
      expect((await getSync(db, id)).workItemTypes).toEqual((await getSync(db, first)).workItemTypes);
    }
    // Another project is discovered on its own.
    const other = uniqueProject('Discovery');
    h.fake.addProject(other, 'Scrum');
    await start(h, other, tree(prefixOf(), 1, 0, 0));
    await drain(h);
    expect(h.fake.calls.listWorkItemTypes).toBe(2);
  });

  it('a missing project is looked for again (4, 8, 16, 32 s), then fails the sync with a message naming it', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Nowhere');

    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toContain(`Azure DevOps project "${project}" does not exist`);
    expect(h.queue.postponed.map((p) => p.delaySeconds)).toEqual([4, 8, 16, 32]);
    expect(h.fake.calls.listWorkItemTypes).toBe(5);
    expect(h.fake.calls.createWorkItem).toBe(0);
    await expectSyncInvariants(db, syncId);
  });

  it('a project Azure DevOps finishes creating while the sync waits is found, and the sync runs', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Arriving');
    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0));

    await drain(h, { stopAt: () => h.queue.postponed.length === 1 });
    expect((await getSync(db, syncId)).status).toBe('pending');
    h.fake.addProject(project, 'Agile'); // the creation's operation succeeded meanwhile
    await drain(h);

    expect(await getSync(db, syncId)).toMatchObject({ status: 'completed' });
    expect(h.queue.postponed.map((p) => p.delaySeconds)).toEqual([4]);
    await expectSyncInvariants(db, syncId);
  });

  it('a sync older than two minutes does not wait for its project', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('LongGone');
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    h.clock.offsetMs = 121_000;

    await drain(h);

    expect((await getSync(db, syncId)).status).toBe('failed');
    expect(h.queue.postponed).toEqual([]);
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
    expect(sync.view.error_message).toMatch(
      /^Overwrite failed: deleting the managed work items of .+ \(0 deleted so far\): .*TF401213/,
    );
    expect(h.fake.calls.deleteWorkItems, 'a permanent failure is not retried').toBe(1);
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
    ['throttled', () => new AdoThrottledError('TF400733: Request was blocked', 2500, 429)],
    ['transient', () => new AdoTransientError('Azure DevOps failed with HTTP 502', 502)],
  ])(
    '%s: the claim is released and the same prepare message comes back later (never a new one)',
    async (_, error) => {
      const h = await createHarness(db);
      const project = uniqueProject('PrepareLater');
      h.fake.addProject(project, 'CMMI');
      h.fake.failNext('listWorkItemTypes', error());
      const syncId = await start(h, project, tree(prefixOf(), 1, 1, 1));

      await drain(h, { stopAt: (m) => m.kind === 'prepare' && h.fake.calls.listWorkItemTypes > 0 });

      const { rows } = await db.query<{
        status: string;
        prepare_claimed_at: Date | null;
        prepare_attempts: number;
      }>(
        'SELECT status, prepare_claimed_at, prepare_attempts FROM sync_history WHERE id = CAST(:id AS uuid)',
        { id: sqlUuid(syncId) },
      );
      expect(rows[0]).toEqual({ status: 'pending', prepare_claimed_at: null, prepare_attempts: 1 });
      // The first of about four waits spread over the 10-minute window (10 × 60 / 15 = 40 s).
      expect(h.queue.postponed).toEqual([{ receiptHandle: expect.any(String), delaySeconds: 40 }]);
      expect(h.queue.sent(syncId).filter((m) => m.kind === 'prepare')).toHaveLength(1);

      await drain(h);

      expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 3 });
      await expectSyncInvariants(db, syncId);
    },
  );

  /** Lets the database clock of one sync's retry window run `seconds` ahead (its times move back). */
  const letTimePass = async (syncId: string, seconds: number) => {
    for (const column of ['prepare_retry_until', 'prepare_next_at'] as const) {
      await age(db, 'sync_history', column, 'id = CAST(:id AS uuid)', { id: sqlUuid(syncId) }, seconds);
    }
  };

  it('overwrite: transient deletion failures are retried with backoff, one overwrite:retrying per wait, then it goes on', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('DeleteRetries');
    h.fake.addProject(project, 'Agile');
    for (let i = 0; i < 450; i++)
      h.fake.seedWorkItem(project, 'Epic', { title: `old ${i}`, tags: ['ardoq-sync'] });
    // The first chunk goes through, then Azure DevOps fails twice (a 503 and a timeout).
    let deletes = 0;
    const real = h.fake.deleteWorkItems.bind(h.fake);
    h.fake.deleteWorkItems = async (p, ids) => {
      deletes += 1;
      if (deletes === 2) throw new AdoThrottledError('Azure DevOps is throttling (HTTP 503)', 1000, 503);
      if (deletes === 3) {
        throw new AdoTransientError('Azure DevOps did not answer within 20000 ms', undefined, {
          kind: 'timeout',
        });
      }
      return real(p, ids);
    };

    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0), { overwrite: 'true' });
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.view).toMatchObject({ status: 'completed', deletion_count: 450, items_created: 1 });
    const events = (await listEvents(db, syncId)).filter((e) => e.event.startsWith('overwrite:'));
    expect(events.map((e) => e.event)).toEqual([
      'overwrite:started',
      'overwrite:deleting',
      'overwrite:progress',
      'overwrite:retrying',
      'overwrite:retrying',
      'overwrite:progress',
      'overwrite:progress',
      'overwrite:deleted',
    ]);
    const retrying = events.filter((e) => e.event === 'overwrite:retrying').map((e) => e.data);
    expect(retrying).toEqual([
      expect.objectContaining({
        attempt: 1,
        nextTryInSeconds: 40,
        reason: 'Azure DevOps is throttling requests (HTTP 503): retry in 1 s',
      }),
      expect.objectContaining({
        attempt: 2,
        nextTryInSeconds: 80,
        reason: 'Azure DevOps did not answer in time',
        message: 'Azure DevOps did not complete the request (attempt 2); trying again in 80 s',
      }),
    ]);
    // Progress counts on from the first attempt: one total, chunks numbered 1..3.
    const progress = events.filter((e) => e.event === 'overwrite:progress').map((e) => e.data);
    expect(progress.map((p) => [p.deleted, p.total, p.currentChunk, p.totalChunks])).toEqual([
      [200, 450, 1, 3],
      [400, 450, 2, 3],
      [450, 450, 3, 3],
    ]);
    expect(h.queue.postponed.map((p) => p.delaySeconds)).toEqual([40, 80]);
    expect(
      h.queue.sent(syncId).filter((m) => m.kind === 'prepare'),
      'never a new prepare message',
    ).toHaveLength(1);
    await expectSyncInvariants(db, syncId);
  });

  it('overwrite: failures that never stop end the sync after OVERWRITE_RETRY_MINUTES (overwrite:error, then sync:error)', async () => {
    const h = await createHarness(db);
    h.deps.settings = { ...h.deps.settings, overwriteRetryMinutes: 1 };
    const project = uniqueProject('DeleteNeverWorks');
    h.fake.addProject(project, 'Agile');
    for (let i = 0; i < 5; i++)
      h.fake.seedWorkItem(project, 'Epic', { title: `old ${i}`, tags: ['ardoq-sync'] });
    h.fake.failNext('deleteWorkItems', () => new AdoTransientError('Azure DevOps failed with HTTP 500'), 100);
    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0), { overwrite: 'true' });

    // Each postponed prepare comes back once its wait has passed (the window's clock runs ahead).
    await drain(h, { stopAt: (m) => m.kind === 'prepare' });
    for (let round = 0; round < 10 && (await getSync(db, syncId)).status === 'pending'; round++) {
      await prepareSync(syncId, h.deps).catch(async (error: unknown) => {
        if (!(error instanceof RetryLaterError)) throw error;
        h.queue.postponed.push({ receiptHandle: 'prepare', delaySeconds: error.delaySeconds });
        await letTimePass(syncId, error.delaySeconds);
      });
    }

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toMatch(/^Overwrite failed: Azure DevOps kept failing for 1 minutes/);
    expect(sync.view).toMatchObject({ items_created: 0, items_skipped: 2, deletion_count: 0 });
    // 1 + 2 + 4 + 8 = 15 base delays of 4 s fill the minute: five attempts in all.
    expect(h.fake.calls.deleteWorkItems).toBe(5);
    expect(h.queue.postponed.map((p) => p.delaySeconds)).toEqual([4, 8, 16, 32]);
    const names = await eventNames(db, syncId);
    expect(names.filter((e) => e === 'overwrite:retrying')).toHaveLength(4);
    expect(names.filter((e) => e === 'overwrite:started' || e === 'overwrite:deleting')).toEqual([
      'overwrite:started',
      'overwrite:deleting',
    ]);
    expect(names.filter((e) => e === 'overwrite:error')).toHaveLength(1);
    expect(names.indexOf('overwrite:error')).toBeLessThan(names.indexOf('sync:error'));
    expect(names.at(-1)).toBe('sync:error');
    expect(h.fake.calls.createWorkItem).toBe(0);
    await expectSyncInvariants(db, syncId);
  });

  it.each([
    ['a refused PAT (401)', () => new AdoAuthError('Azure DevOps refused the credentials (HTTP 401)', 401)],
    ['a missing permission (403, TF400813)', () => new AdoAuthError('TF400813: not authorized', 403)],
    [
      'a work item not found (404)',
      () => new AdoRejectedError('TF401232: Work item 7 does not exist', 404, 'TF401232'),
    ],
  ])('overwrite: %s when deleting fails the sync at once, naming the deletion', async (_, error) => {
    const h = await createHarness(db);
    const project = uniqueProject('DeletePermanent');
    h.fake.addProject(project, 'Agile');
    for (let i = 0; i < 3; i++)
      h.fake.seedWorkItem(project, 'Epic', { title: `old ${i}`, tags: ['ardoq-sync'] });
    h.fake.failNext('deleteWorkItems', error());

    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0), { overwrite: 'true' });
    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toMatch(/^Overwrite failed: deleting the managed work items of /);
    expect(h.fake.calls.deleteWorkItems).toBe(1);
    expect(h.queue.postponed).toEqual([]);
    expect(h.fake.calls.createWorkItem).toBe(0);
    const names = await eventNames(db, syncId);
    expect(names.filter((e) => e === 'overwrite:error')).toHaveLength(1);
    expect(names.at(-1)).toBe('sync:error');
    await expectSyncInvariants(db, syncId);
  });

  it('a cancel during the overwrite deletion stops it before the next chunk; the chunk in flight is counted', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('CancelDuringDelete');
    h.fake.addProject(project, 'Agile');
    for (let i = 0; i < 450; i++)
      h.fake.seedWorkItem(project, 'Epic', { title: `old ${i}`, tags: ['ardoq-sync'] });
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0), { overwrite: 'true' });
    const real = h.fake.deleteWorkItems.bind(h.fake);
    let deletes = 0;
    h.fake.deleteWorkItems = async (p, ids) => {
      // The user cancels while the first chunk is being deleted.
      deletes += 1;
      if (deletes === 1) {
        const answer = await cancelSync(syncId, ACTOR, h.deps);
        expect(answer.final, 'the prepare step is at work: not cancelled yet').toBe(false);
      }
      return real(p, ids);
    };

    await drain(h);

    const sync = await getSync(db, syncId);
    expect(sync.view).toMatchObject({ status: 'cancelled', deletion_count: 200, items_skipped: 1 });
    expect(deletes).toBe(1);
    expect(h.fake.calls.listWorkItemTypes).toBe(1);
    const names = await eventNames(db, syncId);
    expect(names.slice(-2)).toEqual(['overwrite:progress', 'sync:cancelled']);
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
