import { describe, expect, it } from 'vitest';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import { processItems } from '#core/pipeline/process-item.ts';
import { AdoThrottledError } from '#core/ports/work-item-tracker.ts';
import type { WorkMessage } from '#core/ports/work-queue.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';
import type { Database } from '#store/database.ts';
import { RECORD_OUTCOMES } from '#store/sync/statements.ts';
import { getSync } from '#store/sync/sync-rows.ts';
import { uniqueProject } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  createHarness,
  drain,
  failingOnce,
  type Harness,
  type HarnessDeps,
  nodes,
  prefixOf,
  rejected,
  startAndPrepare,
  tree,
  usePipelineDatabase,
  withDb,
} from '#test/support/pipeline-harness.ts';
import { recording } from '#test/support/recording-db.ts';
import { sqsEvent, sqsRecord } from '#test/support/sqs-events.ts';

// Item messages delivered together (an SQS batch): one claim and one outcome statement per sync in
// the batch, per-node Azure DevOps trouble, a failed outcome statement, and the processor app's grouping.

const db = usePipelineDatabase();

/** Takes the queued item messages of one sync (leaving the rest). */
function takeItems(h: Harness, syncId: string): string[] {
  const taken: string[] = [];
  for (let i = h.queue.pending.length - 1; i >= 0; i--) {
    const m = h.queue.pending[i] as WorkMessage;
    if (m.kind === 'item' && m.syncId === syncId) {
      taken.unshift(m.ardoqId);
      h.queue.pending.splice(i, 1);
    }
  }
  return taken;
}

async function startWithFeatures(h: Harness, project: string, prefix: string, count: number) {
  const syncId = await startAndPrepare(h, project, tree(prefix, 1, count, 0));
  await processItems(syncId, takeItems(h, syncId), h.deps); // the epic
  return { syncId, features: takeItems(h, syncId) };
}

describe('processItems (a batch of one sync)', () => {
  it('claims the batch in one statement and records its outcomes in one, duplicates included', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Batch');
    h.fake.addProject(project, 'Agile');
    const prefix = prefixOf();
    const { syncId, features: ids } = await startWithFeatures(h, project, prefix, 9);
    expect(ids).toHaveLength(9);
    const counted = recording(db);

    // SQS delivered two of them twice in the same batch.
    const failures = await processItems(
      syncId,
      [...ids, ids[0] as string, ids[4] as string],
      withDb(h.deps, counted.db),
    );

    expect(failures.size).toBe(0);
    expect(counted.seen.statements.filter((s) => s === RECORD_OUTCOMES)).toHaveLength(1);
    // The claim, one configuration read, the mapping (read once per sync by a container), the outcomes.
    expect(counted.seen.statements).toHaveLength(4);
    expect(counted.seen.statements.filter((s) => s.includes('FROM sync_field_mappings'))).toHaveLength(1);
    expect(h.fake.workItems(project)).toHaveLength(10);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'in_progress', items_created: 10 });
    expect(h.queue.pending).toEqual([{ kind: 'finalize', syncId }]);
    expect(h.metrics.counts.ItemsCreated).toBe(10);
    await drain(h);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it('reads the mapping of a sync once per container, however many batches it processes', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('MappingOnce');
    h.fake.addProject(project, 'Agile');
    const { syncId, features: ids } = await startWithFeatures(h, project, prefixOf(), 6);
    const counted = recording(db);
    const container = withDb(h.deps, counted.db);

    await processItems(syncId, ids.slice(0, 3), container);
    await processItems(syncId, ids.slice(3), container);

    expect(counted.seen.statements.filter((s) => s.includes('FROM sync_field_mappings'))).toHaveLength(1);
    expect(h.fake.workItems(project)).toHaveLength(7);
    await drain(h);
    expect((await getSync(db, syncId)).status).toBe('completed');
  });

  it('enqueues the children of every created node of the batch in one send', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Children');
    h.fake.addProject(project, 'Agile');
    const syncId = await startAndPrepare(h, project, tree(prefixOf(), 1, 4, 3));
    await processItems(syncId, takeItems(h, syncId), h.deps);
    const sendsBefore = h.queue.sends.length;

    const featureIds = takeItems(h, syncId);
    await processItems(syncId, featureIds, h.deps);

    const newSends = h.queue.sends.slice(sendsBefore);
    expect(newSends).toHaveLength(1);
    expect(newSends[0]?.messages).toHaveLength(12);
    const parents = new Set(
      (await nodes(db, syncId)).filter((n) => n.item_type === 'user_story').map((n) => n.parent_ardoq_id),
    );
    expect([...parents].sort()).toEqual([...featureIds].sort());
    await drain(h);
    expect((await getSync(db, syncId)).status).toBe('completed');
    await expectSyncInvariants(db, syncId);
  });

  it('a rejected and a throttled node are handled alone; the rest of the batch is recorded', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Mixed');
    h.fake.addProject(project, 'Agile');
    const syncId = await startAndPrepare(h, project, tree(prefixOf(), 1, 5, 2));
    await processItems(syncId, takeItems(h, syncId), h.deps);
    const ids = takeItems(h, syncId);
    h.fake.failNext('createWorkItem', rejected());
    h.fake.failNext('createWorkItem', new AdoThrottledError('TF400733: Request was blocked', 2500, 429));

    const failures = await processItems(syncId, ids, h.deps);

    expect(failures.size).toBe(0);
    const features = (await nodes(db, syncId)).filter((n) => n.item_type === 'feature');
    expect(features.filter((n) => n.status === 'created')).toHaveLength(3);
    expect(features.filter((n) => n.status === 'failed')).toHaveLength(1);
    const throttled = features.filter((n) => n.status === null);
    expect(throttled).toEqual([expect.objectContaining({ state: 'pending', attempts: 0 })]);
    const delayed = h.queue.sends.filter((s) => s.delaySeconds === 3);
    expect(delayed.map((s) => s.messages)).toEqual([
      [{ kind: 'item', syncId, ardoqId: throttled[0]?.ardoq_id }],
    ]);
    const rejectedId = features.find((n) => n.status === 'failed')?.ardoq_id;
    const stories = (await nodes(db, syncId)).filter((n) => n.parent_ardoq_id === rejectedId);
    expect(stories.map((n) => n.status)).toEqual(['skipped', 'skipped']);

    await drain(h);
    // 1 epic + 4 features + 8 stories created; the rejected feature failed, its 2 stories skipped.
    expect((await getSync(db, syncId)).view).toMatchObject({
      status: 'completed',
      items_created: 13,
      items_failed: 1,
      items_skipped: 2,
    });
    await expectSyncInvariants(db, syncId);
  });

  it('when the outcome statement fails, every node of the batch fails and a retry adopts, never duplicates', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('RecordFails');
    h.fake.addProject(project, 'Agile');
    const { syncId, features: ids } = await startWithFeatures(h, project, prefixOf(), 6);
    const failing = failingOnce(db, (sql) => sql === RECORD_OUTCOMES);

    const failures = await processItems(syncId, ids, withDb(h.deps, failing));

    expect([...failures.keys()].sort()).toEqual([...ids].sort());
    const released = (await nodes(db, syncId)).filter((n) => n.item_type === 'feature');
    expect(released.every((n) => n.state === 'pending' && n.attempts === 1 && n.status === null)).toBe(true);
    expect(h.fake.workItems(project)).toHaveLength(7);

    // SQS delivers the failed messages again: the work items are adopted, not created twice.
    expect((await processItems(syncId, ids, h.deps)).size).toBe(0);
    expect(h.fake.workItems(project)).toHaveLength(7);
    await drain(h);
    expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 7 });
    await expectSyncInvariants(db, syncId);
  });

  it('a claim that fails throws for the whole batch, leaving every node pending', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('ClaimFails');
    h.fake.addProject(project, 'Agile');
    const { syncId, features: ids } = await startWithFeatures(h, project, prefixOf(), 3);
    const deps = withDb(h.deps, {
      query: (() => Promise.reject(new Error('database resuming'))) as Database['query'],
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    });

    await expect(processItems(syncId, ids, deps)).rejects.toThrow('database resuming');
    const states = (await nodes(db, syncId)).filter((n) => n.item_type === 'feature').map((n) => n.state);
    expect(states).toEqual(['pending', 'pending', 'pending']);
    expect(h.fake.workItems(project)).toHaveLength(1);
  });
});

describe('processor app: item messages grouped by sync', () => {
  it('processes each sync of a mixed batch together and acknowledges duplicates of a done node', async () => {
    const h = await createHarness(db);
    const projectA = uniqueProject('GroupA');
    const projectB = uniqueProject('GroupB');
    h.fake.addProject(projectA, 'Agile');
    h.fake.addProject(projectB, 'Agile');
    const a = await startWithFeatures(h, projectA, prefixOf(), 3);
    const b = await startWithFeatures(h, projectB, prefixOf(), 3);
    const counted = recording(db);
    const item = (syncId: string, ardoqId: string) =>
      sqsRecord(JSON.stringify({ kind: 'item', syncId, ardoqId }));
    const records = [
      ...a.features.map((id) => item(a.syncId, id)),
      ...b.features.map((id) => item(b.syncId, id)),
      item(a.syncId, a.features[0] as string),
    ];

    const response = await createProcessorApp(withDb(h.deps, counted.db))(sqsEvent(...records));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(counted.seen.statements.filter((s) => s === RECORD_OUTCOMES)).toHaveLength(2);
    await drain(h);
    for (const syncId of [a.syncId, b.syncId]) {
      expect((await getSync(db, syncId)).view).toMatchObject({ status: 'completed', items_created: 4 });
      await expectSyncInvariants(db, syncId);
    }
  });

  it('reports the messages of a node that failed, and only those', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('GroupFail');
    h.fake.addProject(project, 'Agile');
    const { syncId, features: ids } = await startWithFeatures(h, project, prefixOf(), 3);
    const records = ids.map((ardoqId) => sqsRecord(JSON.stringify({ kind: 'item', syncId, ardoqId })));
    const secretsDown: HarnessDeps = {
      ...h.deps,
      secrets: { ...h.deps.secrets, get: () => Promise.reject(new Error('secret store unavailable')) },
      connections: new ConnectionCache(),
    };
    // A fresh deps object: no connection is cached, so every node needs the secret.
    const response = await createProcessorApp(secretsDown)(sqsEvent(...records));

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    const features = (await nodes(db, syncId)).filter((n) => n.item_type === 'feature');
    expect(features.every((n) => n.state === 'pending' && n.status === null)).toBe(true);
  });
});
