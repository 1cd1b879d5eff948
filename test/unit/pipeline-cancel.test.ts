import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import { cancelSync, sweep } from '#core/pipeline/finalize.ts';
import { processItem } from '#core/pipeline/process-item.ts';
import { sqlUuid } from '#core/ports/database.ts';
import { AdoThrottledError } from '#core/ports/work-item-tracker.ts';
import { getSync } from '#core/sync/sync-history-repository.ts';
import { uniqueProject } from '#test/support/factories.ts';
import type { FakeWorkItemTracker } from '#test/support/fake-work-item-tracker.ts';
import { crashAfterCreate } from '#test/support/faults.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  ACTOR,
  age,
  createHarness,
  drain,
  eventNames,
  isItem,
  node,
  nodes,
  prefixOf,
  start,
  startAndPrepare,
  tree,
  usePipelineDatabase,
} from '#test/support/pipeline-harness.ts';

// cancelSync, and the reconciliation of nodes whose attempt ends after their sync was cancelled (each
// still ends with exactly one outcome). Harness: test/support/pipeline-harness.ts.

const db = usePipelineDatabase();

describe('cancelSync', () => {
  it('mid-run: cancelled, every node not started skipped, nothing created afterwards', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Cancel');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await start(h, project, tree(prefix, 2, 2, 0));
    await drain(h, { stopAt: isItem(`${prefix}-e1`) });

    const view = await cancelSync(syncId, { userId: 'canceller' }, h.deps);
    await drain(h);

    expect(view).toMatchObject({ status: 'cancelled', items_created: 1, items_skipped: 5 });
    const all = await nodes(db, syncId);
    expect(all.filter((n) => n.status === 'created').map((n) => n.ardoq_id)).toEqual([`${prefix}-e0`]);
    expect(
      all
        .filter((n) => n.status === 'skipped')
        .every((n) => n.error_message === 'Not created: the sync was cancelled before this item ran'),
    ).toBe(true);
    expect(h.fake.calls.createWorkItem).toBe(1);
    const { rows } = await db.query<{ user_id: string }>(
      `SELECT user_id FROM audit_logs WHERE action_type = 'sync_cancelled' AND entity_id = :id`,
      { id: syncId },
    );
    expect(rows).toEqual([{ user_id: 'canceller' }]);
    expect((await eventNames(db, syncId)).at(-1)).toBe('sync:cancelled');
    await expectSyncInvariants(db, syncId);
  });

  it('a pending sync (not prepared yet) can be cancelled; its prepare then does nothing', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('CancelEarly');
    h.fake.addProject(project, 'Agile');
    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0));

    await cancelSync(syncId, ACTOR, h.deps);
    await drain(h);

    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'cancelled', items_skipped: 2 });
    expect(h.fake.calls.listWorkItemTypes).toBe(0);
    await expectSyncInvariants(db, syncId);
  });

  it('a finished sync cannot be cancelled (ConflictError, 409); an unknown one is NotFoundError (404)', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Done');
    h.fake.addProject(project, 'Agile');
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    await drain(h);

    const conflict = await cancelSync(syncId, ACTOR, h.deps).catch((e: unknown) => e);
    const missing = await cancelSync(randomUUID(), ACTOR, h.deps).catch((e: unknown) => e);

    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as Error).message).toContain('completed');
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it('an item in flight at cancel time still records its outcome afterwards', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('InFlight');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 2, 1, 0));
    h.queue.pending.length = 0;
    const hold = h.fake.holdNextCreate();
    const inFlight = processItem(syncId, `${prefix}-e0`, h.deps);
    await hold.started;

    const view = await cancelSync(syncId, ACTOR, h.deps);
    hold.release();
    await inFlight;

    expect(view).toMatchObject({ status: 'cancelled', items_created: 0, items_skipped: 3 });
    const sync = await getSync(db, syncId);
    expect(sync.view).toMatchObject({ status: 'cancelled', items_created: 1, items_skipped: 3 });
    expect(await node(db, syncId, `${prefix}-e0`)).toMatchObject({ status: 'created', state: 'done' });
    expect(h.queue.pending).toEqual([]); // its children were skipped, not queued
    const names = await eventNames(db, syncId);
    expect(names.slice(-2)).toEqual(['sync:cancelled', 'epic:created']);
    await expectSyncInvariants(db, syncId);
  });

  // A node whose attempt ends after its sync was cancelled keeps its `processing` claim (releaseItem only
  // gives claims of a running sync back), so the sweep re-sends it once stale and its reconciliation
  // records its one outcome: DESIGN.md §4.1 and §4.2 (created + failed + skipped = total_items) hold,
  // and a work item whose answer was lost is recorded as created.
  it.each([
    [
      'throttled',
      'skipped',
      (fake: FakeWorkItemTracker) =>
        fake.failNext('createWorkItem', new AdoThrottledError('TF400733: Request was blocked', 1000, 429)),
    ],
    ['answered with a lost response', 'created', (fake: FakeWorkItemTracker) => fake.dropNextCreate()],
  ])(
    'a create %s after its sync was cancelled still ends with exactly one outcome (%s)',
    async (_, outcome, arm) => {
      const h = await createHarness(db);
      const project = uniqueProject('LateFailure');
      h.fake.addProject(project, 'Agile');
      const prefix = prefixOf();
      const syncId = await startAndPrepare(h, project, tree(prefix, 2, 0, 0));
      h.queue.pending.length = 0;
      const hold = h.fake.holdNextCreate();
      arm(h.fake);
      const inFlight = processItem(syncId, `${prefix}-e0`, h.deps);
      await hold.started;

      await cancelSync(syncId, ACTOR, h.deps);
      hold.release();
      await inFlight;
      await drain(h);
      // Whatever claim is left goes stale, so that the sweep may repair it.
      await age(
        db,
        'sync_plan_items',
        'claimed_at',
        'sync_history_id = CAST(:id AS uuid)',
        { id: sqlUuid(syncId) },
        31,
      );
      await sweep(h.deps);
      await drain(h);

      expect(await node(db, syncId, `${prefix}-e0`)).toMatchObject({ state: 'done', status: outcome });
      expect(h.fake.workItems(project)).toHaveLength(outcome === 'created' ? 1 : 0);
      await expectSyncInvariants(db, syncId);
    },
  );

  it('a stale claim of a cancelled sync whose reconciliation meets a revoked PAT ends with one failed outcome', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('RevokedAfterCancel');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const epic = `${prefix}-e0`;
    const syncId = await startAndPrepare(h, project, tree(prefix, 2, 0, 0));
    h.queue.pending.length = 0;
    // The processor creates the work item, then dies before recording it: its claim is left behind.
    await expect(processItem(syncId, epic, { ...h.deps, db: crashAfterCreate(db, 1) })).rejects.toThrow(
      /simulated crash/,
    );
    expect(await node(db, syncId, epic)).toMatchObject({ state: 'processing', attempts: 1, status: null });
    await cancelSync(syncId, ACTOR, h.deps);
    h.access.pat = 'rotated-by-an-admin';
    expect(
      await age(
        db,
        'sync_plan_items',
        'claimed_at',
        'sync_history_id = CAST(:id AS uuid) AND ardoq_id = :epic',
        { id: sqlUuid(syncId), epic },
        31,
      ),
    ).toBe(1);

    const report = await sweep(h.deps);
    await drain(h);

    expect(report.itemsResent).toBeGreaterThanOrEqual(1);
    const message =
      'Unknown: an earlier attempt may have created a work item, but Azure DevOps could not be checked (AdoAuthError)';
    const { rows } = await db.query<{ status: string; error_message: string | null }>(
      `SELECT status, error_message FROM sync_history_items
       WHERE sync_history_id = CAST(:id AS uuid) AND ardoq_id = :epic`,
      { id: sqlUuid(syncId), epic },
    );
    expect(rows).toEqual([{ status: 'failed', error_message: message }]);
    expect(await node(db, syncId, epic)).toMatchObject({ state: 'done', status: 'failed' });
    expect(h.fake.authFailures).toBe(1);
    expect(h.fake.calls.createWorkItem).toBe(1);
    expect((await getSync(db, syncId)).view).toMatchObject({
      status: 'cancelled',
      items_created: 0,
      items_failed: 1,
      items_skipped: 1,
    });
    await expectSyncInvariants(db, syncId);
  });
});
