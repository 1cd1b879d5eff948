import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataApiDatabase } from '#adapters/data-api-database.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { runMigrations } from '#store/migrations.ts';
import { MAX_PLAN_STATEMENT_BYTES } from '#store/sync/sync-rows.ts';
import type { DataApiServer } from '#test/support/data-api-server.ts';
import { dataApiDatabase } from '#test/support/data-api-target.ts';
import { startTestSystem, type TestSystem } from '#test/support/e2e.ts';
import { postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';
import { buildTree, type SyncBody, type TreeNode } from '#test/support/trees.ts';

const MiB = 1024 * 1024;

/** 10 × 20 × 49 + 10 + 200 = 10,010 nodes with Ardoq-sized descriptions: a plan far above 4 MiB. */
function largeTree(prefix: string): SyncBody {
  const body = buildTree(10, 20, () => 49, prefix);
  const walk = (nodes: TreeNode[] | undefined) =>
    nodes?.forEach((node, i) => {
      node.description = `${node.name} (${i}): ${'As a planner I want "this" done\n'.repeat(16)}`;
      walk(node.children);
    });
  walk(body.epics);
  return body;
}

// POST …/workitems of a 10,000-item tree through the production adapters: the real Data API client
// against the Data API test server (which refuses requests above 4 MiB, like the service) over
// PostgreSQL. Processors are stopped: this is about accepting the sync.
describe.skipIf(!postgresAvailable)(
  `accepting a large sync through the Data API ${postgresSkipReason}`,
  () => {
    let target: { db: DataApiDatabase; server: DataApiServer; teardown: () => Promise<void> };
    let system: TestSystem;

    beforeAll(async () => {
      target = await dataApiDatabase();
      await runMigrations(target.db, await readMigrations());
      system = await startTestSystem({ db: target.db });
      await system.eventSources.work.stop();
    });
    afterAll(async () => {
      await system?.close();
      await target?.teardown();
    });

    it('answers 202 and stores the whole plan, in one transaction of requests under 4 MiB', async () => {
      const body = JSON.stringify(largeTree('big'));
      expect(Buffer.byteLength(body)).toBeGreaterThan(4 * MiB);
      target.server.resetCalls();

      const syncId = await system.startSync('Agile Project', body);

      expect(target.server.calls).toMatchObject({ BeginTransaction: 1, CommitTransaction: 1 });
      expect(target.server.largestRequestBytes).toBeGreaterThan(2 * MiB);
      expect(target.server.largestRequestBytes).toBeLessThanOrEqual(MAX_PLAN_STATEMENT_BYTES + 64 * 1024);
      const sync = await system.request<{ data: { status: string; total_items: number } }>(
        'GET',
        `/api/sync-history/${syncId}`,
      );
      expect(sync.body.data).toMatchObject({ status: 'pending', total_items: 10_010 });
      const { rows } = await target.db.query<{ n: number; positions: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT position)::int AS positions FROM sync_plan_items
       WHERE sync_history_id = CAST(:id AS uuid)`,
        { id: syncId },
      );
      expect(rows[0]).toEqual({ n: 10_010, positions: 10_010 });
    });
  },
);
