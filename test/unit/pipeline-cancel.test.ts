import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import { cancelSync } from '#core/pipeline/cancel.ts';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import { processItem, processItems } from '#core/pipeline/process-item.ts';
import { sweep } from '#core/pipeline/sweep.ts';
import { AdoThrottledError } from '#core/ports/work-item-tracker.ts';
import { sqlUuid } from '#store/database.ts';
import { getSync, listEvents } from '#store/sync/sync-rows.ts';
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
  withDb,
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

    const { view, final } = await cancelSync(syncId, { userId: 'canceller' }, h.deps);
    await drain(h);

    // Nothing was in flight: cancelled at once, with the final numbers.
    expect(final).toBe(true);
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

  it('an item in flight at cancel time is recorded before the sync becomes cancelled, with the final numbers', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('InFlight');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 2, 1, 0));
    h.queue.pending.length = 0;
    const hold = h.fake.holdNextCreate();
    const inFlight = processItem(syncId, `${prefix}-e0`, h.deps);
    await hold.started;

    const answer = await cancelSync(syncId, ACTOR, h.deps);
    const sendsBefore = h.queue.sends.length;

    // Not final yet: the answer says so instead of claiming `cancelled` early.
    expect(answer.final).toBe(false);
    expect(answer.view).toMatchObject({ status: 'in_progress', items_created: 0, items_skipped: 3 });
    expect(answer.view.cancel_requested_at).toEqual(expect.any(String));
    expect(await eventNames(db, syncId)).not.toContain('sync:cancelled');
    hold.release();
    await inFlight;
    await drain(h); // the finalize message of the last outcome

    const sync = await getSync(db, syncId);
    expect(sync.view).toMatchObject({ status: 'cancelled', items_created: 1, items_skipped: 3 });
    expect(await node(db, syncId, `${prefix}-e0`)).toMatchObject({ status: 'created', state: 'done' });
    const later = h.queue.sends.slice(sendsBefore).flatMap((send) => send.messages);
    expect(later.filter((m) => m.kind === 'item')).toEqual([]); // no child queued
    const events = await listEvents(db, syncId);
    expect(events.slice(-2).map((e) => e.event)).toEqual(['epic:created', 'sync:cancelled']);
    expect(events.at(-1)?.data).toMatchObject({ summary: { total: 4, created: 1, failed: 3, skipped: 3 } });
    const { rows } = await db.query<{ details: unknown }>(
      `SELECT details FROM audit_logs WHERE action_type = 'sync_cancelled' AND entity_id = :id`,
      { id: syncId },
    );
    expect(rows).toEqual([{ details: { items_created: 1, items_failed: 0, items_skipped: 3 } }]);
    await expectSyncInvariants(db, syncId);
  });

  it('no create starts after the cancel: a batch that waited checks again before each send', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('CheckBeforeSend');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 3, 0, 0));
    h.queue.pending.length = 0;
    // The batch is claimed, then waits (a slow secret store) while the user cancels.
    let release = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const secrets = {
      ...h.secrets,
      get: async (ref: string) => {
        await slow;
        return h.secrets.get(ref);
      },
      put: h.secrets.put.bind(h.secrets),
      delete: h.secrets.delete.bind(h.secrets),
    };
    const batch = processItems(syncId, [`${prefix}-e0`, `${prefix}-e1`, `${prefix}-e2`], {
      ...h.deps,
      secrets,
      connections: new ConnectionCache(), // a fresh processor: it reads the PAT (slowly)
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const answer = await cancelSync(syncId, ACTOR, h.deps);
    expect(answer.final).toBe(false); // three nodes were claimed: they are in flight
    release();
    expect((await batch).size).toBe(0);
    await drain(h);

    expect(h.fake.workItems(project), 'the check before each send stopped all three').toEqual([]);
    expect((await getSync(db, syncId)).view).toMatchObject({
      status: 'cancelled',
      items_created: 0,
      items_skipped: 3,
    });
    const all = await nodes(db, syncId);
    expect(all.map((n) => n.error_message)).toEqual(
      Array(3).fill('Not created: the sync was cancelled before this item ran'),
    );
    await expectSyncInvariants(db, syncId);
  });

  it('a second cancel while creates finish is answered with the closing sync; after the end it is a 409', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('CancelTwice');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 1, 0, 0));
    h.queue.pending.length = 0;
    const hold = h.fake.holdNextCreate();
    const inFlight = processItem(syncId, `${prefix}-e0`, h.deps);
    await hold.started;

    await cancelSync(syncId, ACTOR, h.deps);
    const second = await cancelSync(syncId, ACTOR, h.deps);
    hold.release();
    await inFlight;
    await drain(h);
    const third = await cancelSync(syncId, ACTOR, h.deps).catch((e: unknown) => e);

    expect(second).toMatchObject({ final: false, view: { status: 'in_progress' } });
    expect(third).toBeInstanceOf(ConflictError);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'cancelled', items_created: 1 });
    await expectSyncInvariants(db, syncId);
  });

  it('waits for the creates in flight (up to cancelWaitMs) and answers with the cancelled sync', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('CancelWaits');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 2, 0, 0));
    h.queue.pending.length = 0;
    const hold = h.fake.holdNextCreate();
    const inFlight = processItem(syncId, `${prefix}-e0`, h.deps);
    await hold.started;
    // The finalize message of the last outcome goes straight to the finalizer.
    const deps = {
      ...h.deps,
      settings: { ...h.deps.settings, cancelWaitMs: 5_000 },
    };
    setTimeout(() => hold.release(), 200);
    const finishing = inFlight.then(() => drain(h));

    const answer = await cancelSync(syncId, ACTOR, deps);
    await finishing;

    expect(answer.final).toBe(true);
    expect(answer.view).toMatchObject({ status: 'cancelled', items_created: 1, items_skipped: 1 });
    await expectSyncInvariants(db, syncId);
  });

  // A node whose create ends badly after its sync was asked to cancel still ends with one outcome before
  // the sync closes: throttled (nothing was created) → skipped at once; a lost answer (it may exist) →
  // released, and its retry reconciles it (adopted, never created again). DESIGN.md §4.1 and §4.2 hold.
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

      expect(await node(db, syncId, `${prefix}-e0`)).toMatchObject({ state: 'done', status: outcome });
      expect(h.fake.workItems(project)).toHaveLength(outcome === 'created' ? 1 : 0);
      expect(h.fake.calls.createWorkItem).toBe(1);
      expect((await getSync(db, syncId)).status).toBe('cancelled');
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
    await expect(processItem(syncId, epic, withDb(h.deps, crashAfterCreate(db, 1)))).rejects.toThrow(
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
