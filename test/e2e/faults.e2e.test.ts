import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { afterEach, describe, expect, it } from 'vitest';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { runMigrations } from '#store/migrations.ts';
import { startDataApiServer } from '#test/support/data-api-server.ts';
import {
  expectAdoConsistent,
  startTestSystem,
  type TestSystem,
  type TestSystemOptions,
  tree,
} from '#test/support/e2e.ts';
import { crashAfterCreate, duplicatingQueue } from '#test/support/faults.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

/**
 * Fault runs: the pipeline under duplicates, dropped responses, throttling and crashes must leave
 * zero duplicate work items, exact counters and every sync terminal.
 */
describe.skipIf(!postgresAvailable)(`fault runs ${postgresSkipReason}`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  async function system(options: TestSystemOptions = {}): Promise<TestSystem> {
    const scratch = await createScratchDatabase();
    cleanups.push(() => scratch.drop());
    const started = await startTestSystem({ databaseUrl: scratch.url, ...options });
    cleanups.push(() => started.close());
    return started;
  }

  async function runAndCheck(s: TestSystem, prefix: string, shape: [number, number, number] = [3, 3, 4]) {
    const id = await s.startSync('Agile Project', tree(...shape, prefix));
    const done = await s.waitForTerminal(id, 120_000);
    const total = shape[0] * (1 + shape[1] * (1 + shape[2]));
    expect(done).toMatchObject({
      status: 'completed',
      total_items: total,
      items_created: total,
      items_failed: 0,
    });
    await expectAdoConsistent(s, s.db, id);
    return done;
  }

  it('every message delivered twice: each node created once, counted once', async () => {
    const s = await system({ wrapQueue: duplicatingQueue });
    await runAndCheck(s, 'dup');
  });

  it('responses dropped after the work item was created: adopted, never created twice', async () => {
    const s = await system({ simulatorFaults: { dropRate: 0.3 }, simulatorSeed: 7 });
    await runAndCheck(s, 'drop');
    expect(s.simulator!.stats.dropped).toBeGreaterThan(5);
  });

  it('30% throttling (429 + Retry-After): everything created once', async () => {
    const s = await system({
      simulatorFaults: { throttleRate: 0.3, retryAfterSeconds: 1 },
      simulatorSeed: 11,
      // The client waits out short Retry-After delays in the call (up to 3 tries): the invocation needs
      // more than the 1.6 s Lambda timeout that staleSeconds 2 gives (one that times out is retried
      // after the visibility timeout; correct, only slow).
      settings: { staleSeconds: 8 },
    });
    // One create throttled on every attempt the client makes in the call (3): the processor hands it back
    // to the queue for the Retry-After delay, which the sync counts as throttled time.
    s.simulator!.failNext('create', 'throttle', 3, 'thr Epic 0');
    const done = await runAndCheck(s, 'thr', [2, 3, 3]);
    // The fault really fired, again and again (the seeded draw depends on the number of requests made).
    expect(s.simulator!.stats.throttled).toBeGreaterThanOrEqual(5);
    expect(done.throttled_ms).toBeGreaterThanOrEqual(1000);
    expect(done.eta_seconds).toBe(0);
  });

  it('a processor crash between the ADO call and the database write: no duplicate, exact counters', async () => {
    let crashing: ReturnType<typeof crashAfterCreate> | undefined;
    const s = await system({
      wrapDb: (db) => {
        crashing = crashAfterCreate(db, 5);
        return crashing;
      },
    });
    await runAndCheck(s, 'crash', [2, 2, 3]);
    expect(crashing?.crashed).toHaveLength(5);
  });

  it('all at once, through the production adapters (Data API client → Data API server → PostgreSQL; SQS client → fauxqs)', async () => {
    const scratch = await createScratchDatabase();
    cleanups.push(() => scratch.drop());
    const server = await startDataApiServer({ connectionString: scratch.url });
    cleanups.push(() => server.close());
    const db = new DataApiDatabase({
      resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:local',
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:local',
      database: 'ardoq_sync',
      client: new RDSDataClient({
        endpoint: server.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      }),
    });
    cleanups.push(() => db.close());
    await runMigrations(db, await readMigrations());
    const s = await startTestSystem({
      db,
      wrapQueue: duplicatingQueue,
      simulatorFaults: { dropRate: 0.15, throttleRate: 0.15, retryAfterSeconds: 1 },
      simulatorSeed: 3,
    });
    cleanups.push(() => s.close());
    server.resetCalls();
    await runAndCheck(s, 'prod', [2, 3, 3]);
    expect(server.calls.Execute).toBeGreaterThan(50);
  });
});
