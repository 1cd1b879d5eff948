import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { toPositional } from '#adapters/sql-params.ts';
import { type SqlParams, sqlJson, sqlUuid } from '#store/database.ts';
import { runMigrations } from '#store/migrations.ts';
import { CLAIM_ITEMS, RELEASE_ITEMS } from '#store/sync/pipeline-rows.ts';
import { RECORD_OUTCOMES, REQUEST_CLOSE, SKIP_SUBTREE } from '#store/sync/statements.ts';
import { createSync, markInProgress } from '#store/sync/sync-rows.ts';
import { buildPlan, newSync, storedTypes } from '#test/support/factories.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

// The hot statements of the pipeline (claim, record, release) must cost O(batch), not O(sync): a sync
// of N nodes makes N/10 of each, so reading the whole sync's plan rows every time made a sync O(N²)
// (and PostgreSQL the busiest process of the benchmark). The trap is the planner's statistics: a sync
// created after the last ANALYZE is unknown to them and estimated at one row, and a table whose
// analysed rows are all `done` makes the unfinished-rows index look empty. Both hold here, as they
// do in production between two auto-analyses.

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Plan-item rows the statement's plan read (returned or thrown away), over every loop. */
function planItemRowsRead(node: PlanNode): number {
  const removed =
    (node['Rows Removed by Filter'] ?? 0) +
    (node['Rows Removed by Index Recheck'] ?? 0) +
    (node['Rows Removed by Join Filter'] ?? 0);
  const own =
    node['Relation Name'] === 'sync_plan_items' || node['Rows Removed by Join Filter'] !== undefined
      ? (node['Actual Rows'] + removed) * node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + planItemRowsRead(child), 0);
}

describe.skipIf(!postgresAvailable)(
  `plan-row access of the hot statements on real PostgreSQL ${postgresSkipReason}`,
  () => {
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
    let db: PostgresDatabase;
    let client: pg.Client;
    let syncId: string;
    let plan: ReturnType<typeof buildPlan>;

    beforeAll(async () => {
      scratch = await createScratchDatabase();
      db = new PostgresDatabase({ connectionString: scratch.url, max: 2 });
      await runMigrations(db, await readMigrations());
      // Finished syncs the statistics know about (12,120 plan rows: a table where reading it all costs more
      // than probing a batch, as in any deployment past its first syncs)…
      for (let i = 0; i < 12; i++) {
        const old = await createSync(db, newSync(buildPlan(10, 10, 9)));
        await db.query(
          `UPDATE sync_plan_items SET state = 'done' WHERE sync_history_id = CAST(:id AS uuid)`,
          {
            id: sqlUuid(old.view.id),
          },
        );
      }
      await db.query('ANALYZE');
      // …and a new one of 1,010 nodes they do not.
      plan = buildPlan(10, 10, 9);
      syncId = (await createSync(db, newSync(plan))).view.id;
      await markInProgress(db, syncId, storedTypes());
      client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
    }, 60_000);
    afterAll(async () => {
      await client?.end();
      await db?.close();
      await scratch?.drop();
    });

    /** Runs `sql` for real under EXPLAIN ANALYZE inside the open transaction; returns rows read. */
    async function rowsRead(sql: string, params: SqlParams): Promise<number> {
      const { text, values } = toPositional(sql, params);
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
        values,
      );
      const root = rows[0]?.['QUERY PLAN'][0]?.Plan;
      if (!root) throw new Error('no plan');
      return planItemRowsRead(root);
    }

    /** Runs `work` with every plan row of the sync pending, in a transaction rolled back after. */
    async function rolledBack(work: () => Promise<void>): Promise<void> {
      await client.query('BEGIN');
      try {
        await client.query(`UPDATE sync_plan_items SET state = 'pending' WHERE sync_history_id = $1`, [
          syncId,
        ]);
        await work();
      } finally {
        await client.query('ROLLBACK');
      }
    }

    it('claiming, recording and releasing 10 nodes reads about 10 plan rows each, not the sync’s 1,010', async () => {
      const stories = plan.filter((n) => n.itemType === 'user_story').slice(500, 510);
      const ids = stories.map((n) => n.ardoqId);
      await rolledBack(async () => {
        const claim = await rowsRead(CLAIM_ITEMS, {
          syncId: sqlUuid(syncId),
          ardoqIds: sqlJson(ids),
          staleSeconds: 30,
        });
        const release = await rowsRead(RELEASE_ITEMS, {
          syncId: sqlUuid(syncId),
          ardoqIds: sqlJson(ids.slice(0, 5)),
          reachedAdo: true,
          throttledMs: 0,
        });
        const record = await rowsRead(RECORD_OUTCOMES, {
          syncId: sqlUuid(syncId),
          outcomes: sqlJson(
            ids.map((ardoqId, i) => ({
              ardoq_id: ardoqId,
              status: 'created',
              azure_devops_id: 100 + i,
              azure_devops_url: `https://dev.azure.com/o/p/_workitems/edit/${100 + i}`,
            })),
          ),
        });

        // Each statement probes its nodes a few times (lock, update, parent, children): tens of rows.
        expect(claim).toBeLessThanOrEqual(60);
        expect(release).toBeLessThanOrEqual(30);
        expect(record).toBeLessThanOrEqual(60);
        const { rows } = await client.query<{ state: string; n: number }>(
          `SELECT state, count(*)::int AS n FROM sync_plan_items
           WHERE sync_history_id = $1 AND ardoq_id = ANY ($2) GROUP BY state`,
          [syncId, ids],
        );
        expect(rows).toEqual([{ state: 'done', n: 10 }]);
      });
    });

    it('cancelling the sync skips its 1,010 pending nodes reading each row a few times, not 1,010 times', async () => {
      await rolledBack(async () => {
        const read = await rowsRead(REQUEST_CLOSE, {
          syncId: sqlUuid(syncId),
          to: 'cancelled',
          reason: 'Cancelled by the test',
          skipReason: 'Not created: cancelled',
          actor: '{}',
        });

        // Found, locked, inserted, numbered and marked done: a handful of reads per node, so a few
        // thousand; a join of two of the statement's lists would read a million (1,010 × 1,010).
        expect(read).toBeLessThanOrEqual(8 * plan.length);
        const { rows } = await client.query<{ close_requested: string; skipped: number }>(
          `SELECT close_requested, (SELECT count(*)::int FROM sync_history_items i
             WHERE i.sync_history_id = s.id AND i.status = 'skipped') AS skipped
           FROM sync_history s WHERE s.id = $1`,
          [syncId],
        );
        expect(rows[0]).toEqual({ close_requested: 'cancelled', skipped: plan.length });
      });
    });

    it('skipping the subtree of a feature reads its own rows, not the sync’s', async () => {
      const feature = plan.find((n) => n.itemType === 'feature');
      if (!feature) throw new Error('no feature');
      await rolledBack(async () => {
        const read = await rowsRead(SKIP_SUBTREE, { syncId: sqlUuid(syncId), rootArdoqId: feature.ardoqId });

        // 9 stories found under the feature, then locked, inserted and marked done.
        expect(read).toBeLessThanOrEqual(80);
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM sync_history_items WHERE sync_history_id = $1 AND status = 'skipped'`,
          [syncId],
        );
        expect(rows[0]?.n).toBe(9);
      });
    });
  },
);
