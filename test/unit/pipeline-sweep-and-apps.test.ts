import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type SweepDeps } from '#core/pipeline/deps.ts';
import { processItem } from '#core/pipeline/process-item.ts';
import { sweep } from '#core/pipeline/sweep.ts';
import { AdoTransientError } from '#core/ports/work-item-tracker.ts';
import type { WorkMessage } from '#core/ports/work-queue.ts';
import { createFinalizerApp } from '#lambdas/finalizer/app.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';
import { insertConfiguration } from '#store/configuration-store.ts';
import { sqlUuid } from '#store/database.ts';
import { getSync } from '#store/sync/sync-rows.ts';
import { uniqueProject } from '#test/support/factories.ts';
import { crashAfterCreate } from '#test/support/faults.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  age,
  createHarness,
  drain,
  failingOnce,
  isItem,
  node,
  nodes,
  prefixOf,
  RecordingLog,
  RecordingMetrics,
  rejected,
  start,
  startAndPrepare,
  startRequest,
  tree,
  usePipelineDatabase,
  withDb,
} from '#test/support/pipeline-harness.ts';
import { sqsEvent, sqsRecord } from '#test/support/sqs-events.ts';

// The periodic sweep (lost messages, dead claims, deadlines, half-written skips) and the Lambda apps
// that run the pipeline: the processor's SQS batch (partial failures) and the finalizer (the scheduled
// sweep, finalize messages). Harness: test/support/pipeline-harness.ts.

const db = usePipelineDatabase();

describe('sweep', () => {
  it('finalizes a sync whose every node has its outcome but whose finalize message was lost', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('LostFinalize');
    h.fake.addProject(project, 'Agile');
    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 1));
    await drain(h, { drop: (m) => m.kind === 'finalize' });
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'in_progress', items_created: 3 });

    const report = await sweep(h.deps);

    expect(report.finalized).toBeGreaterThanOrEqual(1);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it.each(['pending', 'in_progress'])(
    'fails a sync past its deadline (while %s) with a clear message, skipping what is left',
    async (status) => {
      const h = await createHarness(db);
      const project = uniqueProject('Late');
      h.fake.addProject(project, 'Agile');
      h.clock.offsetMs = -3 * 60 * 60_000; // started three hours ago: the 2 h deadline has passed
      const prefix = prefixOf();
      const syncId = await start(h, project, tree(prefix, 1, 1, 0));
      h.clock.offsetMs = 0;
      if (status === 'in_progress') await drain(h, { stopAt: (m) => m.kind === 'item' });
      expect((await getSync(db, syncId)).status).toBe(status);

      const report = await sweep(h.deps);
      await drain(h);

      expect(report.failedPastDeadline).toBeGreaterThanOrEqual(1);
      expect(h.metrics.counts.SyncsPastDeadline).toBe(report.failedPastDeadline);
      const sync = await getSync(db, syncId);
      expect(sync.status).toBe('failed');
      expect(sync.view.error_message).toBe('The sync did not finish before its deadline (120 minutes)');
      expect(sync.view).toMatchObject({ items_created: 0, items_skipped: 2 });
      expect(h.fake.calls.createWorkItem).toBe(0);
      await expectSyncInvariants(db, syncId);
    },
  );

  it('re-sends prepare for a pending sync whose prepare message was lost, once it is stale', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('LostPrepare');
    h.fake.addProject(project, 'Scrum');
    const syncId = await start(h, project, tree(prefixOf(), 1, 1, 0));
    h.queue.pending.length = 0; // the prepare message is lost

    await sweep(h.deps);
    expect(h.queue.pending.filter((m) => m.syncId === syncId)).toEqual([]);

    expect(
      await age(db, 'sync_history', 'updated_at', 'id = CAST(:id AS uuid)', { id: sqlUuid(syncId) }, 31),
    ).toBeGreaterThan(0);
    const countedBefore = h.metrics.counts.PreparesResent ?? 0;
    const report = await sweep(h.deps);

    expect(report.preparesResent).toBeGreaterThanOrEqual(1);
    expect(h.metrics.counts.PreparesResent).toBe(countedBefore + report.preparesResent);
    expect(h.queue.pending.filter((m) => m.syncId === syncId)).toEqual([{ kind: 'prepare', syncId }]);
    await drain(h);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it('accepts a sync whose prepare send failed (202, no retry by the client) and the sweep sends it', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('SendFails');
    h.fake.addProject(project, 'Agile');
    const failing = {
      ...h.deps,
      queue: { send: () => Promise.reject(new Error('SQS unavailable')), retryLater: async () => undefined },
    };

    const result = await startRequest(failing, {
      project,
      query: { configId: h.configId },
      body: tree(prefixOf(), 1, 1, 1),
    });
    h.syncIds.add(result.sync_history_id);

    expect(result.status).toBe('pending');
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'prepare not sent: the sweep will send it' }),
    );
    const id = { id: sqlUuid(result.sync_history_id) };
    expect(await age(db, 'sync_history', 'updated_at', 'id = CAST(:id AS uuid)', id, 31)).toBe(1);
    await sweep(h.deps);
    await drain(h);
    expect((await getSync(db, result.sync_history_id)).view).toMatchObject({
      status: 'completed',
      items_created: 3,
    });
    await expectSyncInvariants(db, result.sync_history_id);
  });

  it('re-queues a pending node under a created parent once it has been untouched for staleSeconds', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Stranded');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const features = [`${prefix}-e0-f0`, `${prefix}-e0-f1`];
    const syncId = await start(h, project, tree(prefix, 1, 2, 0));
    await drain(h, { drop: (m) => m.kind === 'item' && features.includes(m.ardoqId) });
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'in_progress', items_created: 1 });

    await sweep(h.deps);
    expect(h.queue.pending.filter((m) => m.syncId === syncId)).toEqual([]);

    expect(
      await age(
        db,
        'sync_plan_items',
        'updated_at',
        'sync_history_id = CAST(:id AS uuid) AND ardoq_id = :epic',
        { id: sqlUuid(syncId), epic: `${prefix}-e0` },
        31,
      ),
    ).toBe(1);
    const report = await sweep(h.deps);

    expect(report.itemsResent).toBeGreaterThanOrEqual(2);
    expect(
      h.queue.pending
        .filter((m) => m.syncId === syncId)
        .map((m) => (m.kind === 'item' ? m.ardoqId : m.kind))
        .sort(),
    ).toEqual(features);
    await drain(h);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 3 });
    expect(h.fake.calls.createWorkItem).toBe(3);
    await expectSyncInvariants(db, syncId);
  });

  it('re-queues a stale claim whose processor died, and the retry adopts its work item', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('DeadClaim');
    h.fake.addProject(project, 'Basic');
    const prefix = prefixOf();
    const syncId = await startAndPrepare(h, project, tree(prefix, 1, 0, 0));
    h.queue.pending.length = 0;
    await expect(
      processItem(syncId, `${prefix}-e0`, withDb(h.deps, crashAfterCreate(db, 1))),
    ).rejects.toThrow();
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

    await sweep(h.deps);
    await drain(h);

    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 1 });
    expect(h.fake.workItems(project)).toHaveLength(1);
    expect(h.fake.calls.createWorkItem).toBe(1);
    await expectSyncInvariants(db, syncId);
  });

  it('skips the subtree of a failed parent whose skip was lost in a crash, then finalizes', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('HalfWritten');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const feature = `${prefix}-e0-f0`;
    const syncId = await start(h, project, tree(prefix, 1, 1, 2));
    await drain(h, { drop: isItem(feature) });
    h.fake.failNext('createWorkItem', rejected());
    const crashing = withDb(
      h.deps,
      failingOnce(db, (sql) => sql.includes('descendants AS')),
    );
    await expect(processItem(syncId, feature, crashing)).rejects.toThrow(/simulated crash/);
    expect(await node(db, syncId, feature)).toMatchObject({ status: 'failed', state: 'done' });
    expect((await nodes(db, syncId)).filter((n) => n.state === 'pending')).toHaveLength(2);

    const report = await sweep(h.deps);
    await drain(h);

    expect(report.subtreesSkipped).toBeGreaterThanOrEqual(1);
    const stories = (await nodes(db, syncId)).filter((n) => n.item_type === 'user_story');
    expect(stories.map((n) => n.status)).toEqual(['skipped', 'skipped']);
    expect((await getSync(db, syncId)).view).toMatchObject({
      status: 'completed',
      items_created: 1,
      items_failed: 1,
      items_skipped: 2,
    });
    await expectSyncInvariants(db, syncId);
  });

  it('counts its repairs as metrics on every sweep, 0 included, and logs them', async () => {
    const metrics = new RecordingMetrics();
    const log = new RecordingLog();
    const sent: WorkMessage[] = [];
    const lists: Record<string, string[]> = { toPrepare: ['sync-a', 'sync-b'] };
    const stranded = [1, 2, 3].map((n) => ({ syncId: 'sync-c', ardoqId: `item-${n}` }));
    const syncs = {
      sweepSyncs: async (list: string, _stale: number, _limit: number, after?: string) =>
        after === undefined ? (lists[list] ?? []) : [],
      sweepNodes: async (list: string, _stale: number, _limit: number, after?: unknown) =>
        list === 'stranded' && after === undefined ? stranded : [],
    } as unknown as SweepDeps['syncs'];
    const deps: SweepDeps = {
      syncs,
      queue: {
        send: async (messages) => {
          sent.push(...messages);
        },
        retryLater: async () => undefined,
      },
      log,
      metrics,
      settings: DEFAULT_SETTINGS,
    };

    expect(await sweep(deps)).toMatchObject({ failedPastDeadline: 0, preparesResent: 2, itemsResent: 3 });
    expect(metrics.counts).toEqual({ SyncsPastDeadline: 0, StrandedItemsResent: 3, PreparesResent: 2 });
    expect(sent).toHaveLength(5);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'sweep repaired',
        attributes: expect.objectContaining({ preparesResent: 2, itemsResent: 3, failedPastDeadline: 0 }),
      }),
    );

    // A sweep with nothing to repair: no log line, but a 0 for each metric.
    lists.toPrepare = [];
    stranded.length = 0;
    const quiet = new RecordingMetrics();
    const entries = log.entries.length;
    await sweep({ ...deps, metrics: quiet });
    expect(quiet.counts).toEqual({ SyncsPastDeadline: 0, StrandedItemsResent: 0, PreparesResent: 0 });
    expect(log.entries).toHaveLength(entries);
  });

  it('resends every stranded node in one sweep, page after page (a restart resumes a big sync at once)', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('ManyStranded');
    h.fake.addProject(project, 'Agile');
    const syncId = await startAndPrepare(h, project, tree(prefixOf(), 1_200, 0, 0));
    h.queue.pending.length = 0; // the 1,200 epic messages are lost
    await age(db, 'sync_history', 'updated_at', 'id = CAST(:id AS uuid)', { id: sqlUuid(syncId) }, 31);
    const sendsBefore = h.queue.sends.length;

    const report = await sweep(h.deps);

    const resent = h.queue.sends
      .slice(sendsBefore)
      .flatMap((send) => send.messages)
      .filter((m) => m.kind === 'item' && m.syncId === syncId);
    expect(new Set(resent.map((m) => (m.kind === 'item' ? m.ardoqId : ''))).size).toBe(1_200);
    expect(resent).toHaveLength(1_200);
    expect(report.itemsResent).toBeGreaterThanOrEqual(1_200);
    expect(h.metrics.counts.StrandedItemsResent).toBe(report.itemsResent);
    await drain(h);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 1_200 });
  });
});

// ==== the Lambda apps ==================================================================================

describe('processor app', () => {
  it('reports exactly the record whose handling threw in batchItemFailures', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Batch');
    h.fake.addProject(project, 'Agile');
    const good = await start(h, project, tree(prefixOf(), 1, 0, 0));
    // A second configuration whose secret is missing: its prepare throws (the queue will retry it).
    const brokenConfig = `cfg-${randomUUID()}`;
    await insertConfiguration(db, {
      id: brokenConfig,
      name: 'Broken',
      organization: h.fake.baseUrl,
      secretRef: 'memory:missing',
    });
    const broken = await start(h, project, tree(prefixOf(), 1, 0, 0), { configId: brokenConfig });
    const ok = sqsRecord(JSON.stringify({ kind: 'prepare', syncId: good }));
    const bad = sqsRecord(JSON.stringify({ kind: 'prepare', syncId: broken }));

    const response = await createProcessorApp(h.deps)(sqsEvent(ok, bad));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
    expect((await getSync(db, good)).status).toBe('in_progress');
    const { rows } = await db.query<{ status: string; prepare_claimed_at: Date | null }>(
      'SELECT status, prepare_claimed_at FROM sync_history WHERE id = CAST(:id AS uuid)',
      { id: sqlUuid(broken) },
    );
    expect(rows[0]).toEqual({ status: 'pending', prepare_claimed_at: null });
    expect(h.log.entries.filter((e) => e.level === 'error')).toHaveLength(1);
  });

  it('a message whose use case asks to retry later comes back after that wait (its visibility), not as an error', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('RetryLater');
    h.fake.addProject(project, 'Agile');
    h.fake.failNext('listWorkItemTypes', new AdoTransientError('Azure DevOps failed with HTTP 502', 502));
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    const record = sqsRecord(JSON.stringify({ kind: 'prepare', syncId }));

    const response = await createProcessorApp(h.deps)(sqsEvent(record));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(h.queue.postponed).toEqual([{ receiptHandle: record.receiptHandle, delaySeconds: 40 }]);
    expect(h.log.entries.filter((e) => e.level === 'error')).toEqual([]);
    expect(h.queue.sent(syncId).filter((m) => m.kind === 'prepare')).toHaveLength(1);
  });

  it('an unparsable body, or one that is not a work message, is a failure of that record only', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Garbage');
    h.fake.addProject(project, 'Agile');
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    const ok = sqsRecord(JSON.stringify({ kind: 'prepare', syncId }));
    const notJson = sqsRecord('{not json');
    const notUuid = sqsRecord(JSON.stringify({ kind: 'item', syncId: 'not-a-uuid', ardoqId: 'x' }));
    const unknownKind = sqsRecord(JSON.stringify({ kind: 'explode', syncId }));

    const response = await createProcessorApp(h.deps)(sqsEvent(notJson, ok, notUuid, unknownKind));

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [notJson.messageId, notUuid.messageId, unknownKind.messageId].sort(),
    );
    expect((await getSync(db, syncId)).status).toBe('in_progress');
  });
});

describe('finalizer app', () => {
  it('runs the sweep on a scheduled event', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Scheduled');
    h.fake.addProject(project, 'Agile');
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    await drain(h, { drop: (m) => m.kind === 'finalize' });
    expect((await getSync(db, syncId)).status).toBe('in_progress');

    const result = await createFinalizerApp(h.deps)({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
    });

    expect(result).toEqual({ swept: true });
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it('finalizes on a finalize queue message', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('FinalizeMsg');
    h.fake.addProject(project, 'Agile');
    const syncId = await start(h, project, tree(prefixOf(), 1, 0, 0));
    await drain(h, { drop: (m) => m.kind === 'finalize' });

    const result = await createFinalizerApp(h.deps)(
      sqsEvent(sqsRecord(JSON.stringify({ kind: 'finalize', syncId }))),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect((await getSync(db, syncId)).status).toBe('completed');
  });
});
