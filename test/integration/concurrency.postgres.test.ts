import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import type { Outcome } from '#core/domain/sync-model.ts';
import { sqlUuid } from '#store/database.ts';
import { runMigrations } from '#store/migrations.ts';
import { claimItems } from '#store/sync/pipeline-rows.ts';
import {
  createSync,
  finalizeSync,
  getSync,
  markInProgress,
  recordOutcomes,
  requestClose,
  skipSubtree,
} from '#store/sync/sync-rows.ts';
import { buildPlan, createdOutcome, failedOutcome, newSync, storedTypes } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

/** Deterministic shuffle, so a failure can be replayed. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe.skipIf(!postgresAvailable)(`concurrent writes on real PostgreSQL ${postgresSkipReason}`, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: PostgresDatabase;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = new PostgresDatabase({ connectionString: scratch.url, max: 20 });
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('applies migrations once when several runners start together', async () => {
    const migrations = await readMigrations();
    const reports = await Promise.all([1, 2, 3, 4].map(() => runMigrations(db, migrations)));
    const applied = reports.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(migrations.map((m) => m.name).sort());
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe(migrations.length);
  });

  it('500 outcome writes from 20 connections, half of them duplicates, count each node exactly once', async () => {
    const plan = buildPlan(10, 4, 5); // 10 + 40 + 200 = 250 nodes
    const sync = await createSync(db, newSync(plan));
    const id = sync.view.id;
    const outcomes: Outcome[] = plan.map((node, i) =>
      i % 7 === 0 ? failedOutcome(node.ardoqId) : createdOutcome(node.ardoqId, 1000 + i),
    );
    const writes = shuffle([...outcomes, ...outcomes], 42);

    const results = await Promise.all(writes.map((o) => recordOutcomes(db, id, [o])));

    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(250);
    const final = await getSync(db, id);
    expect(final.outcomes).toBe(250);
    expect(final.view.items_failed).toBe(outcomes.filter((o) => o.status === 'failed').length);
    expect(results.filter((r) => r.complete).length).toBeGreaterThanOrEqual(1);
    await expectSyncInvariants(db, id);
  });

  it('overlapping batches in opposite orders neither deadlock nor double count', async () => {
    const plan = buildPlan(40, 2, 2); // 40 + 80 + 160 = 280 nodes
    const sync = await createSync(db, newSync(plan));
    const id = sync.view.id;
    const outcomes = plan.map((node, i) => createdOutcome(node.ardoqId, 5000 + i));
    const batches: Outcome[][] = [];
    for (let i = 0; i < outcomes.length; i += 10) {
      const batch = outcomes.slice(i, i + 20);
      batches.push(batch, [...batch].reverse());
    }
    await Promise.all(shuffle(batches, 7).map((batch) => recordOutcomes(db, id, batch)));
    expect((await getSync(db, id)).view.items_created).toBe(280);
    await expectSyncInvariants(db, id);
  });

  it('a subtree skip racing with outcomes for the same nodes records one outcome per node', async () => {
    const plan = buildPlan(1, 5, 10);
    const sync = await createSync(db, newSync(plan));
    const id = sync.view.id;
    const epic = plan[0]!.ardoqId;
    await recordOutcomes(db, id, [failedOutcome(epic)]);
    const children = plan.slice(1).map((n) => failedOutcome(n.ardoqId, 'raced'));
    await Promise.all([
      skipSubtree(db, id, epic),
      skipSubtree(db, id, epic),
      ...children.map((o) => recordOutcomes(db, id, [o])),
    ]);
    expect((await getSync(db, id)).outcomes).toBe(plan.length);
    await expectSyncInvariants(db, id);
  });

  it('a close request that waited for the finalize sees the sync finished, not the version it started on', async () => {
    // Found by the chaos suite: the cancel of a sync whose last outcome was being finalized answered
    // 200 and the sync ended `completed`. REQUEST_CLOSE's UPDATE waits for FINALIZE's row lock, then finds
    // the row terminal and updates nothing; its fallback read used the statement's older snapshot.
    const plan = buildPlan(2, 2, 0);
    const sync = await createSync(db, newSync(plan));
    const id = sync.view.id;
    expect(await markInProgress(db, id, storedTypes())).not.toBeNull();
    await recordOutcomes(
      db,
      id,
      plan.map((node, i) => createdOutcome(node.ardoqId, 5000 + i)),
    );
    const waitingForLock = async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%close_requested%'`,
      );
      return (rows[0]?.n ?? 0) > 0;
    };
    let closing: ReturnType<typeof requestClose> | undefined;
    await db.transaction(async (tx) => {
      expect((await finalizeSync(tx, id))?.status).toBe('completed');
      closing = requestClose(db, 'cancelled', { syncId: id, reason: 'Cancelled', skipReason: 'Not started' });
      const until = Date.now() + 10_000;
      while (!(await waitingForLock())) {
        if (Date.now() > until) throw new Error('the close request never waited for the finalize');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const requested = await closing;
    expect(requested?.status).toBe('completed');
    expect(requested?.closeRequested).toBeNull();
    expect((await getSync(db, id)).status).toBe('completed');
  });

  it('overlapping claim batches in any order claim each node exactly once', async () => {
    const plan = buildPlan(30, 3, 0); // 30 + 90 = 120 nodes
    const sync = await createSync(db, newSync(plan));
    const id = sync.view.id;
    expect(await markInProgress(db, id, storedTypes())).not.toBeNull();
    const ids = plan.map((n) => n.ardoqId);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += 5) {
      const batch = ids.slice(i, i + 10); // each node in two batches (SQS regroups redeliveries)
      batches.push(batch, [...batch].reverse(), shuffle(batch, i));
    }

    const claims = await Promise.all(shuffle(batches, 11).map((batch) => claimItems(db, id, batch, 300)));

    const claimed = claims.flat().map((c) => c.ardoqId);
    expect(claimed.sort()).toEqual([...ids].sort());
    // The types come once per claim (one row carries them) and reach every node of it.
    for (const item of claims.flat()) expect(item.workItemTypes).toEqual(storedTypes());
    const { rows } = await db.query<{ state: string; attempts: number; n: number }>(
      `SELECT state, attempts, count(*)::int AS n FROM sync_plan_items
       WHERE sync_history_id = CAST(:id AS uuid) GROUP BY state, attempts`,
      { id: sqlUuid(id) },
    );
    expect(rows).toEqual([{ state: 'processing', attempts: 1, n: 120 }]);
  });
});
