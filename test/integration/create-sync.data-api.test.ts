import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataApiDatabase } from '#adapters/data-api-database.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { DatabaseError } from '#store/database.ts';
import { runMigrations } from '#store/migrations.ts';
import { createSync, MAX_PLAN_STATEMENT_BYTES } from '#store/sync/sync-rows.ts';
import type { DataApiServer } from '#test/support/data-api-server.ts';
import { dataApiDatabase } from '#test/support/data-api-target.ts';
import { buildPlan, newSync, uniqueProject } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import { postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';
import { planAboveOneRequest } from '#test/support/repository-contract.ts';

const MiB = 1024 * 1024;

// createSync through the real SDK → Data API test server (4 MiB request limit, like the service) →
// PostgreSQL: a plan of any accepted size gets in, in requests the service takes.
describe.skipIf(!postgresAvailable)(`createSync through the Data API ${postgresSkipReason}`, () => {
  let db: DataApiDatabase;
  let server: DataApiServer;
  let teardown: () => Promise<void>;

  beforeAll(async () => {
    ({ db, server, teardown } = await dataApiDatabase());
    await runMigrations(db, await readMigrations());
  });
  afterAll(async () => teardown?.());

  const count = async (sql: string, p: string) => (await db.query<{ n: number }>(sql, { p })).rows[0]?.n;
  const syncsOf = (p: string) =>
    count('SELECT count(*)::int AS n FROM sync_history WHERE project_name = :p', p);

  it('a small plan is one ExecuteStatement, no transaction', async () => {
    server.resetCalls();
    const sync = await createSync(db, newSync(buildPlan(2, 2, 2)));
    expect(sync.totalItems).toBe(14);
    expect(server.calls).toEqual({ Execute: 1 });
  });

  it('the Data API refuses the 10,000-item plan as one request (above 4 MiB), and nothing is written', async () => {
    const project = uniqueProject('OneRequest');
    server.resetCalls();

    const error = await createSync(db, newSync(planAboveOneRequest(), { projectName: project }), {
      maxPlanStatementBytes: 64 * MiB,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(/4 MiB/);
    expect(server.largestRequestBytes).toBeGreaterThan(4 * MiB);
    expect(await syncsOf(project)).toBe(0);
  });

  it('creates the 10,000-item plan in one transaction of a few requests, each under the limit', async () => {
    const project = uniqueProject('Chunked');
    const plan = planAboveOneRequest();
    server.resetCalls();

    const sync = await createSync(db, newSync(plan, { projectName: project }));

    expect(server.calls.BeginTransaction).toBe(1);
    expect(server.calls.CommitTransaction).toBe(1);
    expect(server.calls.Execute).toBeGreaterThanOrEqual(2);
    expect(server.calls.Execute).toBeLessThanOrEqual(4);
    expect(server.largestRequestBytes).toBeLessThanOrEqual(MAX_PLAN_STATEMENT_BYTES + 64 * 1024);
    expect(sync.totalItems).toBe(plan.length);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM sync_plan_items p JOIN sync_history s ON s.id = p.sync_history_id
         WHERE s.project_name = :p`,
        project,
      ),
    ).toBe(plan.length);
    await expectSyncInvariants(db, sync.view.id);
  });
});
