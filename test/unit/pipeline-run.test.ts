import { describe, expect, it } from 'vitest';
import { processItem } from '#core/pipeline/process-item.ts';
import { AdoThrottledError } from '#core/ports/work-item-tracker.ts';
import { sqlUuid } from '#store/database.ts';
import { getSync } from '#store/sync/sync-rows.ts';
import { uniqueProject } from '#test/support/factories.ts';
import type { FakeProcess } from '#test/support/fake-work-item-tracker.ts';
import { crashAfterCreate } from '#test/support/faults.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  age,
  createHarness,
  drain,
  eventNames,
  isItem,
  node,
  nodes,
  PAT,
  prefixOf,
  rejected,
  SETTINGS,
  start,
  startAndPrepare,
  tree,
  usePipelineDatabase,
  withDb,
} from '#test/support/pipeline-harness.ts';

// Running a sync: whole runs per process, then processItem on its own (duplicate deliveries, claims,
// throttled, transient, rejected, a revoked PAT). Harness: test/support/pipeline-harness.ts.

const ACCEPTANCE = 'Microsoft.VSTS.Common.AcceptanceCriteria';
const PRIORITY = 'Microsoft.VSTS.Common.Priority';

const db = usePipelineDatabase();

describe('a whole run, per process', () => {
  const LEVELS: Record<FakeProcess, [string, string, string]> = {
    Agile: ['Epic', 'Feature', 'User Story'],
    Scrum: ['Epic', 'Feature', 'Product Backlog Item'],
    CMMI: ['Epic', 'Feature', 'Requirement'],
    Basic: ['Epic', 'Issue', 'Task'],
  };

  it.each(Object.keys(LEVELS) as FakeProcess[])(
    '%s: the process types, parents before children, counters, completed',
    async (process) => {
      const h = await createHarness(db);
      const project = uniqueProject(process);
      h.fake.addProject(project, process);
      const prefix = prefixOf();

      const syncId = await start(h, project, tree(prefix, 2, 2, 2));
      await drain(h);

      const sync = await getSync(db, syncId);
      expect(sync.view).toMatchObject({
        status: 'completed',
        total_items: 14,
        items_created: 14,
        items_failed: 0,
        items_skipped: 0,
        epics_created: 2,
        features_created: 4,
        user_stories_created: 8,
      });
      expect(sync.view.error_message).toBeUndefined();
      const [epicType, featureType, storyType] = LEVELS[process];
      const items = h.fake.workItems(project);
      const countOf = (type: string) => items.filter((w) => w.type === type).length;
      expect([countOf(epicType), countOf(featureType), countOf(storyType)]).toEqual([2, 4, 8]);
      expect(items).toHaveLength(14);

      // Every child's create named its parent's work item, which existed already.
      const all = await nodes(db, syncId);
      const adoIdOf = new Map(all.map((n) => [n.ardoq_id, n.azure_devops_id]));
      const log = h.fake.createLog.filter((c) => c.project === project);
      for (const n of all) {
        const create = log.find((c) => c.id === n.azure_devops_id);
        expect(create, `${n.ardoq_id} was created`).toBeDefined();
        const parentAdoId = n.parent_ardoq_id === null ? undefined : adoIdOf.get(n.parent_ardoq_id);
        expect(create?.parentId).toBe(parentAdoId ?? undefined);
        if (parentAdoId)
          expect(log.findIndex((c) => c.id === parentAdoId)).toBeLessThan(log.indexOf(create!));
      }
      for (const item of items) {
        const ardoqId = all.find((n) => n.azure_devops_id === item.id)?.ardoq_id;
        expect(item.tags).toContain('ardoq-sync');
        expect(item.hyperlinks).toEqual([
          {
            url: `${SETTINGS.ardoqBaseUrl}/app/view/component/${ardoqId}`,
            comment: `ardoq-sync:${syncId}:${ardoqId}`,
          },
        ]);
      }
      // No mapping was chosen: the template of the project's process applies (Basic's maps no priority),
      // and fields are written only where the type has them.
      const stories = items.filter((w) => w.type === storyType);
      expect(stories.every((w) => PRIORITY in w.fields)).toBe(process !== 'Basic');
      expect(stories.every((w) => ACCEPTANCE in w.fields)).toBe(process !== 'Basic');
      expect(h.queue.sent(syncId).filter((m) => m.kind === 'finalize')).toHaveLength(1);
      expect((await eventNames(db, syncId)).at(-1)).toBe('sync:complete');
      expect(h.metrics.counts).toMatchObject({ SyncsStarted: 1, ItemsCreated: 14, SyncsFinished: 1 });
      await expectSyncInvariants(db, syncId);
    },
  );
});

describe('processItem', () => {
  it('the same item message delivered three times (two at once) creates one work item', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Dup');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 1, 1, 0));
    const epic = `${prefix}-e0`;
    h.queue.pending.length = 0;

    await Promise.all([processItem(syncId, epic, h.deps), processItem(syncId, epic, h.deps)]);
    await processItem(syncId, epic, h.deps);

    expect(h.fake.calls.createWorkItem).toBe(1);
    expect(await node(db, syncId, epic)).toMatchObject({ state: 'done', status: 'created', attempts: 1 });
    expect(h.queue.pending).toEqual([{ kind: 'item', syncId, ardoqId: `${prefix}-e0-f0` }]);
    await drain(h);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 2 });
    expect(h.fake.workItems(project)).toHaveLength(2);
    await expectSyncInvariants(db, syncId);
  });

  it('a fresh claim held by another processor: no create; once stale, the retry adopts the work item it made', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Claim');
    h.fake.addProject(project, 'Scrum');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 1, 1, 0));
    const epic = `${prefix}-e0`;
    h.queue.pending.length = 0;
    // The first processor creates the work item, then dies before recording it (and never releases).
    const dying = withDb(h.deps, crashAfterCreate(db, 1));
    await expect(processItem(syncId, epic, dying)).rejects.toThrow(/simulated crash/);
    const [made] = h.fake.workItems(project);
    expect(await node(db, syncId, epic)).toMatchObject({ state: 'processing', attempts: 1, status: null });

    await processItem(syncId, epic, h.deps);

    expect(h.fake.calls.createWorkItem).toBe(1);
    expect(await node(db, syncId, epic)).toMatchObject({ state: 'processing', attempts: 1, status: null });

    expect(
      await age(
        db,
        'sync_plan_items',
        'claimed_at',
        'sync_history_id = CAST(:id AS uuid)',
        { id: sqlUuid(syncId) },
        31,
      ),
    ).toBeGreaterThan(0);
    await processItem(syncId, epic, h.deps);

    expect(await node(db, syncId, epic)).toMatchObject({
      status: 'created',
      azure_devops_id: made?.id,
      attempts: 2,
    });
    expect(h.fake.calls.createWorkItem).toBe(1);
    expect(h.fake.calls.searchWorkItems).toBeGreaterThan(0);
    await drain(h);
    expect((await getSync(db, syncId)).status).toBe('completed');
    expect(h.fake.workItems(project)).toHaveLength(2);
    await expectSyncInvariants(db, syncId);
  });

  it('throttled: the claim and the attempt are given back, the item is re-queued after Retry-After', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Throttle');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 1, 0, 0));
    const epic = `${prefix}-e0`;
    h.queue.pending.length = 0;
    h.fake.failNext('createWorkItem', new AdoThrottledError('TF400733: Request was blocked', 3500, 429));
    // The queue's delays are not waited here: the sync has been processing for a minute, so the 3.5 s
    // fit in its time (throttled_ms never exceeds it).
    await db.query(
      `UPDATE sync_history SET in_progress_at = now() - interval '60 seconds' WHERE id = CAST(:id AS uuid)`,
      { id: sqlUuid(syncId) },
    );

    await processItem(syncId, epic, h.deps);

    expect(await node(db, syncId, epic)).toMatchObject({
      state: 'pending',
      attempts: 0,
      claimed_at: null,
      status: null,
    });
    expect(h.queue.sends.at(-1)).toEqual({
      messages: [{ kind: 'item', syncId, ardoqId: epic }],
      delaySeconds: 4,
    });
    expect(h.metrics.counts.ItemsThrottled).toBe(1);
    expect(h.fake.workItems(project)).toEqual([]);

    await drain(h);

    // The retry was a first attempt again: it created without looking for an earlier work item.
    expect(h.fake.calls.searchWorkItems).toBe(0);
    expect(h.fake.workItems(project)).toHaveLength(1);
    const done = await getSync(db, syncId);
    expect(done.status).toBe('completed');
    // The delay Azure DevOps asked for is the sync's throttled time, in the view and the final log line
    // (with the final rate; no ETA there, it is 0).
    expect(done.view).toMatchObject({ throttled_ms: 3500, eta_seconds: 0 });
    const finished = h.log.entries.filter((e) => e.message === 'sync finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]?.attributes).toMatchObject({ syncId, total: 1, created: 1, throttledMs: 3500 });
    // 1 item over the minute since processing started (in_progress_at was set a minute back above).
    expect(finished[0]?.attributes?.itemsPerSecond).toBe(0.02);
    expect(finished[0]?.attributes).not.toHaveProperty('etaSeconds');
    await expectSyncInvariants(db, syncId);
  });

  it('transient (answer lost after the create): re-queued, and the retry adopts the created work item', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Dropped');
    h.fake.addProject(project, 'Basic');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 1, 1, 0));
    const epic = `${prefix}-e0`;
    h.queue.pending.length = 0;
    h.fake.dropNextCreate();

    await processItem(syncId, epic, h.deps);

    const [dropped] = h.fake.workItems(project);
    expect(dropped).toBeDefined();
    expect(await node(db, syncId, epic)).toMatchObject({ state: 'pending', attempts: 1, status: null });
    expect(h.queue.sends.at(-1)).toEqual({
      messages: [{ kind: 'item', syncId, ardoqId: epic }],
      delaySeconds: 5,
    });

    await drain(h);

    expect(await node(db, syncId, epic)).toMatchObject({ status: 'created', azure_devops_id: dropped?.id });
    expect(h.fake.workItems(project).filter((w) => w.type === 'Epic')).toHaveLength(1);
    expect(h.fake.calls.createWorkItem).toBe(2); // the epic once, its Issue once
    expect(h.fake.workItems(project).find((w) => w.type === 'Issue')?.parentId).toBe(dropped?.id);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it('rejected: a failed outcome, the whole subtree skipped, and finalize asked for when it was the last', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Reject');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const body = {
      epics: [
        {
          _id: `${prefix}-a`,
          name: 'Epic A',
          type: 'Epic',
          children: [
            {
              _id: `${prefix}-a1`,
              name: 'Bad Feature',
              type: 'Feature',
              children: [
                { _id: `${prefix}-a1x`, name: 'Story X', type: 'User Story' },
                { _id: `${prefix}-a1y`, name: 'Story Y', type: 'User Story' },
              ],
            },
          ],
        },
        { _id: `${prefix}-b`, name: 'Epic B', type: 'Epic' },
      ],
    };
    const syncId = await start(h, project, body);
    let sendsBeforeReject = -1;

    const handled = await drain(h, {
      before: (m) => {
        if (isItem(`${prefix}-a1`)(m)) {
          h.fake.failNext('createWorkItem', rejected());
          sendsBeforeReject = h.queue.sends.length;
        }
      },
    });

    expect(handled.filter((m) => m.kind === 'item').map((m) => (m.kind === 'item' ? m.ardoqId : ''))).toEqual(
      [`${prefix}-a`, `${prefix}-b`, `${prefix}-a1`],
    );
    expect(h.queue.sends.slice(sendsBeforeReject)[0]).toEqual({
      messages: [{ kind: 'finalize', syncId }],
      delaySeconds: undefined,
    });
    const byId = new Map((await nodes(db, syncId)).map((n) => [n.ardoq_id, n]));
    expect(byId.get(`${prefix}-a1`)).toMatchObject({
      status: 'failed',
      error_message: expect.stringMatching(/^TF401320/),
    });
    for (const story of [`${prefix}-a1x`, `${prefix}-a1y`]) {
      expect(byId.get(story)).toMatchObject({
        status: 'skipped',
        error_message: 'Not created: its parent "Bad Feature" was not created',
      });
    }
    expect(h.fake.createLog.map((c) => c.title)).toEqual(['Epic A', 'Epic B']);
    expect((await getSync(db, syncId)).view).toMatchObject({
      status: 'completed',
      items_created: 2,
      items_failed: 1,
      items_skipped: 2,
    });
    expect(h.metrics.counts.ItemsFailed).toBe(1);
    await expectSyncInvariants(db, syncId);
  });

  it('an authentication error mid-sync fails the sync clearly and skips every node not yet created', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Revoked');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await start(h, project, tree(prefix, 1, 3, 2));
    let items = 0;

    await drain(h, {
      before: (m) => {
        if (m.kind === 'item' && ++items === 3) h.access.pat = 'rotated-by-an-admin';
      },
    });

    const sync = await getSync(db, syncId);
    expect(sync.status).toBe('failed');
    expect(sync.view.error_message).toContain('Azure DevOps refused the credentials');
    expect(sync.view.error_message).toContain(h.configName);
    expect(sync.view).toMatchObject({ items_created: 2, items_failed: 0, items_skipped: 8 });
    const all = await nodes(db, syncId);
    expect(all.every((n) => n.state === 'done')).toBe(true);
    expect(
      all
        .filter((n) => n.status === 'skipped')
        .every((n) => n.error_message?.startsWith('Not attempted: the sync failed')),
    ).toBe(true);
    expect(h.fake.calls.createWorkItem).toBe(2);
    expect(h.fake.authFailures).toBe(1);
    expect((await eventNames(db, syncId)).at(-1)).toBe('sync:error');
    expect(JSON.stringify(h.log.entries)).not.toContain(PAT);
    await expectSyncInvariants(db, syncId);
  });
});
