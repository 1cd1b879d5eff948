import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { AuditLogQuery, parseQuery, type RawQuery, SyncHistoryQuery } from '#core/domain/history-filters.ts';
import { appendAuditLog } from '#store/audit-log-store.ts';
import type { Database, Queryable } from '#store/database.ts';
import { sqlUuid } from '#store/database.ts';
import { listAuditLogs, listSyncs } from '#store/history/history-store.ts';
import { runMigrations } from '#store/migrations.ts';
import {
  closeSync,
  createSync,
  finalizeSync,
  markInProgress,
  recordOutcomes,
} from '#store/sync/sync-rows.ts';
import { buildPlan, createdOutcome, newSync, uniqueProject } from './factories.ts';
import type { ContractTarget } from './repository-contract.ts';
import { keptCounters, rowCountDrift } from './row-counts.ts';

/** count(*) of a table, the oracle the kept totals must equal. */
async function countAll(db: Queryable, table: 'sync_history' | 'audit_logs'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

/** A sync through the repository (one CTE statement writes the sync, its plan, audit log and event). */
async function startedSync(db: Queryable, projectName = uniqueProject('Counted')): Promise<string> {
  const sync = await createSync(db, newSync(buildPlan(1, 1), { projectName }));
  return sync.view.id;
}

/**
 * The counters of migration 0007 stay exact through everything that writes sync_history and
 * audit_logs: every test ends by comparing each counter with count(*) (`rowCountDrift`), and the
 * unfiltered page totals, which read them, with count(*) of the table.
 */
export function describeRowCountsContract(adapter: string, connect: () => Promise<ContractTarget>): void {
  describe(`trigger-kept row counts on ${adapter}`, () => {
    let target: ContractTarget;
    let db: Database;

    beforeAll(async () => {
      target = await connect();
      db = target.db;
      await runMigrations(db, await readMigrations());
    });
    afterAll(async () => target?.teardown());

    /** No drift, and the page totals that read the counters agree with count(*). */
    async function expectExact(): Promise<void> {
      expect(await rowCountDrift(db)).toEqual([]);
      const syncs = await listSyncs(db, parseQuery(SyncHistoryQuery, {}));
      expect(syncs.pagination.total).toBe(await countAll(db, 'sync_history'));
      const audits = await listAuditLogs(db, parseQuery(AuditLogQuery, {}));
      expect(audits.pagination.total).toBe(await countAll(db, 'audit_logs'));
    }

    beforeEach(expectExact);

    it('counts a sync and its audit log written by one multi-CTE statement, once each', async () => {
      const before = { syncs: await countAll(db, 'sync_history'), audits: await countAll(db, 'audit_logs') };
      await startedSync(db);
      await expectExact();
      expect(await countAll(db, 'sync_history')).toBe(before.syncs + 1);
      expect(await countAll(db, 'audit_logs')).toBe(before.audits + 1);
      expect(await keptCounters(db)).toBeGreaterThanOrEqual(6);
    });

    it('counts two CTEs inserting into audit_logs in one statement, and a statement inserting none', async () => {
      await db.query(
        `WITH a AS (INSERT INTO audit_logs (action_type, entity_type) VALUES ('config_created', 'configuration')),
              b AS (INSERT INTO audit_logs (action_type, entity_type)
                    VALUES ('config_updated', 'configuration'), ('sync_started', 'sync'))
         SELECT 1`,
      );
      await db.query(
        `INSERT INTO audit_logs (action_type, entity_type) SELECT 'config_deleted', 'configuration' WHERE false`,
      );
      await expectExact();
    });

    it('moves a sync between status counters on every transition, and never on counter updates', async () => {
      const plan = buildPlan(2);
      const done = (await createSync(db, newSync(plan))).view.id;
      await markInProgress(db, done);
      await recordOutcomes(db, done, [createdOutcome(plan[0]!.ardoqId, 1)]);
      await expectExact();
      await recordOutcomes(db, done, [createdOutcome(plan[1]!.ardoqId, 2)]);
      await finalizeSync(db, done);
      const cancelled = await startedSync(db);
      await closeSync(db, 'cancelled', { syncId: cancelled, reason: 'stop', skipReason: 'cancelled' });
      const failed = await startedSync(db);
      await closeSync(db, 'failed', { syncId: failed, reason: 'broken', skipReason: 'failed' });
      // A repeated transition is a no-op: nothing moves twice.
      await closeSync(db, 'failed', { syncId: failed, reason: 'broken', skipReason: 'failed' });
      await finalizeSync(db, done);
      await expectExact();
    });

    it('moves a renamed sync between project counters', async () => {
      const from = uniqueProject('Old name');
      const to = uniqueProject('New name');
      const id = await startedSync(db, from);
      await db.query('UPDATE sync_history SET project_name = :to WHERE id = CAST(:id AS uuid)', {
        to,
        id: sqlUuid(id),
      });
      await expectExact();
      const page = await listSyncs(db, parseQuery(SyncHistoryQuery, { project_name: to }));
      expect(page.pagination.total).toBe(1);
      expect(
        (await listSyncs(db, parseQuery(SyncHistoryQuery, { project_name: from }))).pagination.total,
      ).toBe(0);
    });

    it('counts bulk inserts and deletes, the cascade to items included', async () => {
      const project = uniqueProject('Bulk');
      await db.query(
        `INSERT INTO sync_history (project_name, status, total_items, deadline_at)
         SELECT CAST(:p AS text) || ' ' || (g % 3), 'pending', 0, now() FROM generate_series(1, 40) AS g`,
        { p: project },
      );
      const withItems = await startedSync(db, `${project} items`);
      await markInProgress(db, withItems);
      await expectExact();
      await db.query(
        `DELETE FROM sync_history WHERE project_name LIKE CAST(:p AS text) || '%' AND project_name NOT LIKE '%0'`,
        { p: project },
      );
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sync_plan_items WHERE sync_history_id = CAST(:id AS uuid)',
        { id: sqlUuid(withItems) },
      );
      expect(rows[0]?.n).toBe(0);
      await expectExact();
      const left = await listSyncs(db, parseQuery(SyncHistoryQuery, { project_name: project }));
      expect(left.pagination.total).toBe(13);
      await db.query('DELETE FROM sync_history WHERE false');
      await expectExact();
    });

    it('counts nothing for a rolled-back transaction', async () => {
      const before = await countAll(db, 'sync_history');
      await expect(
        db.transaction(async (tx) => {
          await startedSync(tx);
          await appendAuditLog(tx, { actionType: 'config_created', entityType: 'configuration' });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await countAll(db, 'sync_history')).toBe(before);
      await expectExact();
    });

    it('keeps counting with session_replication_role = replica (bulk loads, backdating tests)', async () => {
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        const id = await startedSync(tx);
        await tx.query(
          `UPDATE sync_history SET status = 'cancelled', completed_at = now() WHERE id = CAST(:id AS uuid)`,
          { id: sqlUuid(id) },
        );
        await tx.query(`DELETE FROM sync_history WHERE id = CAST(:id AS uuid)`, { id: sqlUuid(id) });
        await startedSync(tx);
      });
      await expectExact();
    });

    it.each<[string, RawQuery]>([
      ['status', { status: 'pending' }],
      ['project_name', { project_name: 'counted' }],
    ])('a %s page total read from the counters equals the counted total', async (_name, query) => {
      // A window that holds every row forces the count(*) path over the same rows.
      const everything = { start_date: '0001-01-01', end_date: '9999-12-31' };
      const kept = await listSyncs(db, parseQuery(SyncHistoryQuery, query));
      const counted = await listSyncs(db, parseQuery(SyncHistoryQuery, { ...query, ...everything }));
      expect(kept.pagination.total).toBeGreaterThan(0);
      expect(kept.pagination.total).toBe(counted.pagination.total);
    });

    it('TRUNCATE takes the counters of sync_history with its rows', async () => {
      await startedSync(db);
      await db.query('TRUNCATE sync_history CASCADE');
      await expectExact();
      expect(await countAll(db, 'sync_history')).toBe(0);
      expect((await listSyncs(db, parseQuery(SyncHistoryQuery, {}))).pagination.total).toBe(0);
      await startedSync(db);
      await expectExact();
    });
  });
}
