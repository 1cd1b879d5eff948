import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { type DataApiServer, startDataApiServer } from '#test/support/data-api-server.ts';
import { DATA_API_TARGET, dataApiClient, dataApiDatabase } from '#test/support/data-api-target.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';
import { describeRepositoryContract } from '#test/support/repository-contract.ts';

describe.skipIf(!postgresAvailable)(`Data API adapter ${postgresSkipReason}`, () => {
  describeRepositoryContract('the Data API (real SDK → Data API test server → PostgreSQL)', async () => {
    const { db, teardown } = await dataApiDatabase();
    return { db, teardown };
  });

  describe('DataApiDatabase specifics', () => {
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
    let server: DataApiServer;
    let db: DataApiDatabase;
    const delays: number[] = [];

    beforeAll(async () => {
      scratch = await createScratchDatabase();
      server = await startDataApiServer({ connectionString: scratch.url });
      db = new DataApiDatabase({
        ...DATA_API_TARGET,
        client: dataApiClient(server),
        resumeTimeoutMs: 2_000,
        resumeBaseDelayMs: 100,
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
    });
    afterAll(async () => {
      await db?.close();
      await server?.close();
      await scratch?.drop();
    });

    it('retries with growing backoff while the cluster resumes, then succeeds', async () => {
      delays.length = 0;
      server.failNextWithResuming(3);
      const { rows } = await db.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
      expect(delays).toEqual([100, 200, 400]);
    });

    it('gives up once the resume budget is spent, as UnavailableError (503 + Retry-After)', async () => {
      delays.length = 0;
      server.failNextWithResuming(100);
      try {
        await expect(db.query('SELECT 1')).rejects.toMatchObject({
          name: 'UnavailableError',
          retryAfterSeconds: 10,
        });
        expect(delays).toEqual([100, 200, 400, 800]);
      } finally {
        server.failNextWithResuming(0);
      }
    });

    it('runs a transaction as Begin, Execute…, Commit and counts its calls', async () => {
      server.resetCalls();
      const before = { ...db.calls };
      await db.transaction(async (tx) => {
        await tx.query('CREATE TABLE tx_probe (n int)');
        await tx.query('INSERT INTO tx_probe VALUES (:n)', { n: 1 });
      });
      expect(server.calls).toMatchObject({ BeginTransaction: 1, Execute: 2, CommitTransaction: 1 });
      expect(db.calls.execute - before.execute).toBe(2);
      expect((await db.query('SELECT n FROM tx_probe')).rows).toEqual([{ n: 1 }]);
    });

    it('rolls back through the Data API when the work throws', async () => {
      server.resetCalls();
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_probe VALUES (:n)', { n: 2 });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(server.calls).toMatchObject({ RollbackTransaction: 1 });
      expect((await db.query('SELECT count(*)::int AS n FROM tx_probe')).rows).toEqual([{ n: 1 }]);
    });

    it('reports a missing parameter before calling the service', async () => {
      server.resetCalls();
      await expect(db.query('SELECT :missing')).rejects.toThrow(/missing SQL parameter :missing/);
      expect(server.calls.Execute ?? 0).toBe(0);
    });
  });
});
