import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { AuditLogQuery, parseQuery, SyncHistoryQuery } from '#core/domain/history-filters.ts';
import { appendAuditLog } from '#store/audit-log-store.ts';
import { sqlUuid } from '#store/database.ts';
import { listAuditLogs, listSyncs } from '#store/history/history-store.ts';
import { runMigrations } from '#store/migrations.ts';
import { closeSync, createSync, markInProgress } from '#store/sync/sync-rows.ts';
import { buildPlan, newSync, uniqueProject } from '#test/support/factories.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';
import { keptCounters, rowCountDrift } from '#test/support/row-counts.ts';
import { describeRowCountsContract } from '#test/support/row-counts-contract.ts';

describe.skipIf(!postgresAvailable)(`PostgreSQL ${postgresSkipReason}`, () => {
  describeRowCountsContract('PostgreSQL (node-postgres)', async () => {
    const scratch = await createScratchDatabase();
    const db = new PostgresDatabase({ connectionString: scratch.url });
    return {
      db,
      teardown: async () => {
        await db.close();
        await scratch.drop();
      },
    };
  });

  describe('trigger-kept row counts under concurrent writers', () => {
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
    let db: PostgresDatabase;

    beforeAll(async () => {
      scratch = await createScratchDatabase();
      // More connections than counter shards (16), so some writers share a shard and wait on it.
      db = new PostgresDatabase({ connectionString: scratch.url, max: 24 });
      await runMigrations(db, await readMigrations());
    });
    afterAll(async () => {
      await db?.close();
      await scratch?.drop();
    });

    it('300 syncs and 300 audit logs written from 24 connections are each counted once', async () => {
      const project = uniqueProject('Concurrent');
      const writes = Array.from({ length: 300 }, (_, i) => i).flatMap((i) => [
        () => createSync(db, newSync(buildPlan(1), { projectName: `${project} ${i % 7}` })),
        () =>
          appendAuditLog(db, {
            actionType: i % 2 ? 'config_updated' : 'connection_tested',
            entityType: 'configuration',
            entityId: `cfg-${i % 5}`,
          }),
      ]);

      await Promise.all(writes.map((write) => write()));

      expect(await rowCountDrift(db)).toEqual([]);
      const page = await listSyncs(db, parseQuery(SyncHistoryQuery, { project_name: project }));
      expect(page.pagination.total).toBe(300);
      // 300 sync_started (one per sync) + 300 configuration entries.
      expect((await listAuditLogs(db, parseQuery(AuditLogQuery, {}))).pagination.total).toBe(600);
      const byType = await listAuditLogs(db, parseQuery(AuditLogQuery, { action_type: 'config_updated' }));
      expect(byType.pagination.total).toBe(150);
    });

    it('transactions writing both tables in opposite orders never deadlock on the counters', async () => {
      const project = uniqueProject('Opposite');
      const auditFirst = async () =>
        db.transaction(async (tx) => {
          await appendAuditLog(tx, { actionType: 'config_created', entityType: 'configuration' });
          await createSync(tx, newSync(buildPlan(1), { projectName: project }));
        });
      const syncFirst = async () =>
        db.transaction(async (tx) => {
          const sync = await createSync(tx, newSync(buildPlan(1), { projectName: project }));
          await markInProgress(tx, sync.view.id);
          await appendAuditLog(tx, { actionType: 'config_deleted', entityType: 'configuration' });
        });

      const results = await Promise.allSettled(
        Array.from({ length: 120 }, (_, i) => (i % 2 ? auditFirst() : syncFirst())),
      );

      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await rowCountDrift(db)).toEqual([]);
      expect(
        (await listSyncs(db, parseQuery(SyncHistoryQuery, { project_name: project }))).pagination.total,
      ).toBe(120);
    });

    it('concurrent transitions, deletes and inserts leave every counter exact', async () => {
      const project = uniqueProject('Churn');
      const ids = await Promise.all(
        Array.from(
          { length: 60 },
          async () => (await createSync(db, newSync(buildPlan(1), { projectName: project }))).view.id,
        ),
      );
      await Promise.all(
        ids.map(async (id, i) => {
          if (i % 3 === 0)
            await closeSync(db, 'cancelled', { syncId: id, reason: 'stop', skipReason: 'stop' });
          else if (i % 3 === 1) await markInProgress(db, id);
          else await db.query('DELETE FROM sync_history WHERE id = CAST(:id AS uuid)', { id: sqlUuid(id) });
          await createSync(db, newSync(buildPlan(1), { projectName: project }));
        }),
      );

      expect(await rowCountDrift(db)).toEqual([]);
      const page = await listSyncs(db, parseQuery(SyncHistoryQuery, { project_name: project }));
      expect(page.pagination.total).toBe(100);
      for (const [status, n] of [
        ['cancelled', 20],
        ['in_progress', 20],
      ] as const) {
        const byStatus = await listSyncs(db, parseQuery(SyncHistoryQuery, { status, project_name: project }));
        expect(byStatus.pagination.total).toBe(n);
      }
    });
  });

  describe('migration 0007 on a database that already holds history', () => {
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
    let db: PostgresDatabase;

    beforeAll(async () => {
      scratch = await createScratchDatabase();
      db = new PostgresDatabase({ connectionString: scratch.url });
    });
    afterAll(async () => {
      await db?.close();
      await scratch?.drop();
    });

    it('counts the rows that were there before its triggers', async () => {
      const migrations = await readMigrations();
      await runMigrations(
        db,
        migrations.filter((m) => m.name < '0007'),
      );
      // Rows as that schema holds them, written in SQL: today's repository statements read columns of
      // later migrations.
      for (let i = 0; i < 5; i++) {
        await db.query(
          `WITH h AS (
             INSERT INTO sync_history (project_name, status, total_items, deadline_at)
             VALUES (CAST(:project AS text), CAST(:status AS text), 0, now() + interval '2 hours')
             RETURNING id)
           INSERT INTO audit_logs (action_type, entity_type, entity_id)
           SELECT 'sync_started', 'sync', h.id::text FROM h`,
          { project: `Before ${i % 2}`, status: i % 2 ? 'in_progress' : 'pending' },
        );
      }
      await appendAuditLog(db, { actionType: 'config_created', entityType: 'configuration' });

      await runMigrations(db, migrations);

      expect(await rowCountDrift(db)).toEqual([]);
      expect(await keptCounters(db)).toBe(1 + 2 + 2 + 1 + 2 + 2);
      expect((await listSyncs(db, parseQuery(SyncHistoryQuery, {}))).pagination.total).toBe(5);
      expect((await listAuditLogs(db, parseQuery(AuditLogQuery, {}))).pagination.total).toBe(6);
    });
  });
});
