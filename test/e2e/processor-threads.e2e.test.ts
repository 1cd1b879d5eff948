import { afterAll, describe, expect, it } from 'vitest';
import type { ThreadStatement } from '#bin/local/processor-messages.ts';
import type { Database } from '#store/database.ts';
import { expectAdoConsistent, startTestSystem, type TestSystem, tree } from '#test/support/e2e.ts';
import { createScratchDatabase } from '#test/support/postgres.ts';

/**
 * The local runtime's processor invocations on worker threads (bin/local/processor-pool.ts), as `npm
 * start` runs them: each thread builds the processor's ports itself, a PostgreSQL pool of its own or
 * the main thread's PGlite through messages, and every node is created exactly once either way.
 */
describe('processor invocations on worker threads', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** Counts the claims the main thread's database sees (PGlite: the threads' statements pass it). */
  const countingClaims =
    (counter: { claims: number }) =>
    (db: Database): Database => ({
      query: (sql, params) => {
        if (sql.includes("SET state = 'processing'")) counter.claims += 1;
        return db.query(sql, params);
      },
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    });

  it('PGlite in the main thread: the threads run their statements on it through messages', async () => {
    const counter = { claims: 0 };
    const system: TestSystem = await startTestSystem({
      processorThreads: 2,
      simulatorFaults: { latencyMs: 5 },
      wrapDb: countingClaims(counter),
    });
    cleanups.push(() => system.close());
    expect(system.processorThreads).toBe(2);
    const syncId = await system.startSync('Agile Project', tree(3, 3, 3, 'thr-pglite'));
    const done = await system.waitForTerminal(syncId, 60_000);
    expect(done).toMatchObject({ status: 'completed', total_items: 39, items_created: 39 });
    expect(counter.claims, 'claims ran on the main thread database').toBeGreaterThan(0);
    await expectAdoConsistent(system, system.db, syncId);
  });

  it('PostgreSQL: each thread has a pool of its own and reports its statements and SQS sends', async () => {
    const scratch = await createScratchDatabase();
    cleanups.push(() => scratch.drop());
    const statements: ThreadStatement[] = [];
    let sent = 0;
    const counter = { claims: 0 };
    const system: TestSystem = await startTestSystem({
      databaseUrl: scratch.url,
      processorThreads: 2,
      simulatorFaults: { latencyMs: 5 },
      wrapDb: countingClaims(counter),
      observeProcessorThreads: {
        onStatement: (statement) => statements.push(statement),
        onSqsSend: (messages) => {
          sent += messages;
        },
      },
    });
    cleanups.push(() => system.close());
    const syncId = await system.startSync('Agile Project', tree(2, 3, 4, 'thr-pg'));
    const done = await system.waitForTerminal(syncId, 60_000);
    expect(done).toMatchObject({ status: 'completed', total_items: 32, items_created: 32 });
    await expectAdoConsistent(system, system.db, syncId);
    // Every claim ran in a thread, on its own pool: none passed the main thread's database.
    expect(counter.claims).toBe(0);
    const claims = statements.filter((s) => s.sql.includes("SET state = 'processing'"));
    const claimed = claims.flatMap((s) => s.rows.map((r) => r.ardoq_id));
    expect(new Set(claimed).size).toBe(32);
    expect(claims.every((s) => s.endEpochMs >= s.startEpochMs && !s.failed)).toBe(true);
    // The children of the 2 epics and 6 features (the epics went out from the prepare step).
    expect(sent).toBeGreaterThanOrEqual(6 + 24);
  });

  it('a thread that dies mid-sync is replaced; its batches come back and every node is created once', async () => {
    const system: TestSystem = await startTestSystem({
      processorThreads: 2,
      simulatorFaults: { latencyMs: 60 },
    });
    cleanups.push(() => system.close());
    const pool = system.processorPool;
    if (!pool) throw new Error('no processor pool');
    const syncId = await system.startSync('Agile Project', tree(3, 3, 3, 'thr-crash'));
    await expect.poll(() => system.simulator?.stats.creates ?? 0, { timeout: 20_000 }).toBeGreaterThan(4);
    const dead = pool.workers[0];
    await dead?.terminate();
    const done = await system.waitForTerminal(syncId, 60_000);
    expect(done).toMatchObject({ status: 'completed', total_items: 39, items_created: 39 });
    await expectAdoConsistent(system, system.db, syncId);
    // The replacement starts like any thread (a second or two under tsx).
    await expect.poll(() => pool.size, { timeout: 20_000 }).toBe(2);
    expect(pool.workers).not.toContain(dead);
  });

  it('refuses interposers the threads cannot carry', async () => {
    await expect(
      startTestSystem({ processorThreads: 2, wrapTrackers: (factory) => factory }),
    ).rejects.toThrow(/processorThreads 0/);
  });
});
