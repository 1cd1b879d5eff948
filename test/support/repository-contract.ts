import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { SyncHistory } from '#core/domain/sync-history-view.ts';
import type { PlanNode } from '#core/domain/sync-model.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import { appendAuditLog } from '#store/audit-log-store.ts';
import {
  getActiveConfiguration,
  getConfiguration,
  insertConfiguration,
  listConfigurations,
} from '#store/configuration-store.ts';
import { type Database, DatabaseError, sqlJson, sqlUuid } from '#store/database.ts';
import { type Migration, MigrationChecksumError, runMigrations } from '#store/migrations.ts';
import * as SQL from '#store/sync/statements.ts';
import {
  appendEvent,
  closeSync,
  createSync,
  finalizeSync,
  getSync,
  listEvents,
  MAX_PLAN_STATEMENT_BYTES,
  markInProgress,
  recordDeletions,
  recordOutcomes,
  skipSubtree,
} from '#store/sync/sync-rows.ts';
import { buildPlan, createdOutcome, failedOutcome, newSync, uniqueProject } from './factories.ts';
import { expectSyncInvariants } from './invariants.ts';
import { recording } from './recording-db.ts';

export interface ContractTarget {
  db: Database;
  teardown: () => Promise<void>;
}

/**
 * About 10,000 nodes (10 × 20 × 49) with Ardoq-sized descriptions: the whole plan is far above the
 * Data API's 4 MiB request limit, so it can only be written in chunks.
 */
export function planAboveOneRequest(): PlanNode[] {
  return buildPlan(10, 20, 49).map((node, i) => ({
    ...node,
    payload: { ...node.payload, description: `Node ${i}: ${'lorem ipsum "dolor" sit amet\n'.repeat(18)}` },
  }));
}

/**
 * The repository contract: the same expectations for every `Database` adapter, so SQL written once
 * behaves the same on PGlite, PostgreSQL and the Data API.
 */
export function describeRepositoryContract(adapter: string, connect: () => Promise<ContractTarget>): void {
  describe(`sync-history repository on ${adapter}`, () => {
    let target: ContractTarget;
    let db: Database;
    let migrations: Migration[];

    beforeAll(async () => {
      target = await connect();
      db = target.db;
      migrations = await readMigrations();
      const first = await runMigrations(db, migrations);
      expect(first.applied).toEqual(migrations.map((m) => m.name));
    });
    afterAll(async () => target?.teardown());

    const countRows = async (table: string, projectName: string) => {
      const where =
        table === 'sync_history'
          ? 'project_name = :p'
          : `sync_history_id IN (SELECT id FROM sync_history WHERE project_name = :p)`;
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
        {
          p: projectName,
        },
      );
      return rows[0]?.n;
    };

    describe('migrations', () => {
      it('a second run applies nothing', async () => {
        const again = await runMigrations(db, migrations);
        expect(again).toEqual({ applied: [], alreadyApplied: migrations.map((m) => m.name) });
      });

      it('refuses to run when an applied file has changed, and changes nothing', async () => {
        const edited = migrations.map((m, i) => (i === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
        await expect(runMigrations(db, edited)).rejects.toThrow(MigrationChecksumError);
        await expect(runMigrations(db, edited)).rejects.toThrow(/0002_sync_history\.sql was changed/);
      });

      it('audit_logs rejects UPDATE and DELETE, for every row and even when nothing matches', async () => {
        const entry = await appendAuditLog(db, {
          actionType: 'config_created',
          entityType: 'configuration',
          entityId: 'x',
        });
        const id = sqlUuid(entry.id);
        await expect(
          db.query("UPDATE audit_logs SET user_id = 'x' WHERE id = CAST(:id AS uuid)", { id }),
        ).rejects.toThrow(/append-only/);
        await expect(db.query('DELETE FROM audit_logs WHERE id = CAST(:id AS uuid)', { id })).rejects.toThrow(
          /append-only/,
        );
        await expect(db.query('DELETE FROM audit_logs WHERE false')).rejects.toThrow(/append-only/);
        const { rows } = await db.query('SELECT user_id FROM audit_logs WHERE id = CAST(:id AS uuid)', {
          id,
        });
        expect(rows).toEqual([{ user_id: null }]);
      });
    });

    describe('adapter', () => {
      it('returns typed rows: integers, numeric text, parsed json, dates, booleans, nulls', async () => {
        const { rows } = await db.query(
          `SELECT 42::int8 AS big, 7::int4 AS small, 1.50::numeric AS money, CAST(:doc AS jsonb) AS doc,
             CAST(:at AS timestamptz) AS at, true AS yes, NULL::text AS nothing, CAST(:u AS uuid) AS u`,
          {
            doc: sqlJson({ a: [1, 'two'], b: null }),
            at: new Date('2026-03-01T23:59:59.123Z'),
            u: sqlUuid('6f1c1e4c-7f5e-4b5a-9a51-0c1e2d3f4a5b'),
          },
        );
        expect(rows).toEqual([
          {
            big: 42,
            small: 7,
            money: '1.50',
            doc: { a: [1, 'two'], b: null },
            at: new Date('2026-03-01T23:59:59.123Z'),
            yes: true,
            nothing: null,
            u: '6f1c1e4c-7f5e-4b5a-9a51-0c1e2d3f4a5b',
          },
        ]);
      });

      it('keeps ::casts and quoted colons intact while binding :names', async () => {
        const { rows } = await db.query(`SELECT ':x'::text AS lit, :x::int + :x AS twice, 'it''s' AS q`, {
          x: 21,
        });
        expect(rows).toEqual([{ lit: ':x', twice: 42, q: "it's" }]);
      });

      it('commits a transaction and rolls it back on error', async () => {
        const project = uniqueProject('Tx');
        const plan = buildPlan(1);
        const sync = await db.transaction((tx) => createSync(tx, newSync(plan, { projectName: project })));
        expect((await getSync(db, sync.view.id)).view.project_name).toBe(project);

        const rolledBack = uniqueProject('Rollback');
        await expect(
          db.transaction(async (tx) => {
            await createSync(tx, newSync(buildPlan(1), { projectName: rolledBack }));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await countRows('sync_history', rolledBack)).toBe(0);
      });

      it('reports constraint violations as DatabaseError with SQLSTATE and constraint', async () => {
        const error = await db
          .query(
            `INSERT INTO azure_devops_configurations (id, name, organization, secret_ref) VALUES ('', 'n', 'o', 's')`,
          )
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).toMatchObject({
          sqlState: '23514',
          constraint: 'azure_devops_configurations_id_length',
        });
      });
    });

    describe('createSync', () => {
      it('writes the pending row, the whole plan, the sync_started audit log and sync:accepted at once', async () => {
        const plan = buildPlan(2, 2, 3);
        const input = newSync(plan, { overwriteMode: true, sourceConfigId: 'ardoq-7' });
        const sync = await createSync(db, input);

        expect(SyncHistory.strict().parse(sync.view)).toEqual(sync.view);
        expect(sync.view).toMatchObject({
          status: 'pending',
          source_type: 'ardoq',
          target_type: 'azure-devops',
          project_name: input.projectName,
          source_config_id: 'ardoq-7',
          target_config_id: 'config-1',
          overwrite_mode: true,
          total_items: 18,
          items_created: 0,
          items_failed: 0,
          items_skipped: 0,
          deletion_count: 0,
          user_id: 'user-1',
        });
        expect(sync.view).not.toHaveProperty('completed_at');
        expect(sync.view).not.toHaveProperty('error_message');
        expect(await countRows('sync_plan_items', input.projectName)).toBe(18);

        const { rows: audit } = await db.query(
          "SELECT * FROM audit_logs WHERE entity_id = :id AND action_type = 'sync_started'",
          { id: sync.view.id },
        );
        expect(audit).toHaveLength(1);
        expect(audit[0]).toMatchObject({
          entity_type: 'sync',
          user_id: 'user-1',
          source_ip: '127.0.0.1',
          user_agent: 'vitest',
          details: {
            source_type: 'ardoq',
            target_type: 'azure-devops',
            project_name: input.projectName,
            overwrite_mode: true,
            total_items: 18,
          },
        });
        const events = await listEvents(db, sync.view.id);
        expect(events).toEqual([
          {
            seq: 1,
            event: 'sync:accepted',
            data: { syncHistoryId: sync.view.id, totalItems: 18, timestamp: expect.stringMatching(/Z$/) },
          },
        ]);
        await expectSyncInvariants(db, sync.view.id);
      });

      it('accepts a large tree in one statement', async () => {
        const plan = buildPlan(10, 10, 20);
        const input = newSync(plan);
        const { db: counted, seen } = recording(db);
        const sync = await createSync(counted, input);
        expect(sync.totalItems).toBe(2110);
        expect({ statements: seen.statements, transactions: seen.transactions }).toEqual({
          statements: [SQL.CREATE_SYNC],
          transactions: 0,
        });
        expect(await countRows('sync_plan_items', input.projectName)).toBe(2110);
      });

      const planRows = async (syncId: string) =>
        (
          await db.query(
            `SELECT ardoq_id, parent_ardoq_id, item_type, depth, position, name, payload FROM sync_plan_items
             WHERE sync_history_id = CAST(:id AS uuid) ORDER BY position`,
            { id: sqlUuid(syncId) },
          )
        ).rows;
      // The database no longer checks parents row by row (migration 0006): check the written plan.
      const orphans = async (syncId: string) =>
        (
          await db.query(
            `SELECT c.ardoq_id FROM sync_plan_items c
             LEFT JOIN sync_plan_items p ON p.sync_history_id = c.sync_history_id AND p.ardoq_id = c.parent_ardoq_id
             WHERE c.sync_history_id = CAST(:id AS uuid) AND c.parent_ardoq_id IS NOT NULL AND p.ardoq_id IS NULL`,
            { id: sqlUuid(syncId) },
          )
        ).rows;

      it('stores each node in order with its type, depth, parent and payload (plus its _id for the mapping)', async () => {
        const plan = buildPlan(1, 2, 1).map((node, i) =>
          i === 1 ? { ...node, payload: { description: 'd', tags: [{ name: 't' }] } } : node,
        );
        const sync = await createSync(db, newSync(plan));
        expect(await planRows(sync.view.id)).toEqual(
          plan.map((node, position) => ({
            ardoq_id: node.ardoqId,
            parent_ardoq_id: node.parentArdoqId,
            item_type: node.itemType,
            depth: { epic: 0, feature: 1, user_story: 2 }[node.itemType],
            position,
            name: node.name,
            payload: { ...node.payload, _id: node.ardoqId },
          })),
        );
      });

      it('writes a plan above one request in chunks, in one transaction, numbered in order', async () => {
        const plan = buildPlan(3, 4, 10).map((node) => ({
          ...node,
          payload: { ...node.payload, d: 'é"\\'.repeat(20) },
        }));
        const input = newSync(plan);
        const { db: counted, seen } = recording(db);

        const sync = await createSync(counted, input, { maxPlanStatementBytes: 8 * 1024 });

        const chunks = seen.statements.filter((sql) => sql === SQL.INSERT_PLAN_CHUNK).length;
        expect(seen.statements[0]).toBe(SQL.CREATE_SYNC);
        expect(seen.statements).toHaveLength(1 + chunks);
        expect(chunks).toBeGreaterThanOrEqual(2);
        expect(seen.transactions).toBe(1);
        expect(sync.view).toMatchObject({ status: 'pending', total_items: 3 + 12 + 120 });
        const rows = await planRows(sync.view.id);
        expect(rows.map((r) => [r.ardoq_id, r.position])).toEqual(plan.map((n, i) => [n.ardoqId, i]));
        expect(rows.at(-1)?.payload).toEqual({ ...plan.at(-1)?.payload, _id: plan.at(-1)?.ardoqId });
        expect(await orphans(sync.view.id)).toEqual([]);
        expect((await listEvents(db, sync.view.id)).map((e) => e.event)).toEqual(['sync:accepted']);
        await expectSyncInvariants(db, sync.view.id);
      });

      it('statements follow the request bytes, not the items: 10,000 nodes above 4 MiB in a few chunks', async () => {
        const plan = planAboveOneRequest();
        const input = newSync(plan);
        const { db: counted, seen } = recording(db);

        const sync = await createSync(counted, input);

        const json = JSON.stringify(
          JSON.stringify(plan.map((n) => [n.ardoqId, n.parentArdoqId, n.name, n.payload])),
        );
        const chunks = Math.ceil(Buffer.byteLength(json) / MAX_PLAN_STATEMENT_BYTES);
        expect(Buffer.byteLength(json)).toBeGreaterThan(4 * 1024 * 1024);
        expect(seen.transactions).toBe(1);
        expect(seen.statements.length).toBeGreaterThanOrEqual(2);
        expect(seen.statements.length).toBeLessThanOrEqual(chunks + 1);
        expect(sync.totalItems).toBe(plan.length);
        expect(await countRows('sync_plan_items', input.projectName)).toBe(plan.length);
        expect(await orphans(sync.view.id)).toEqual([]);
        await expectSyncInvariants(db, sync.view.id);
      });

      it('leaves nothing behind when a later chunk fails', async () => {
        const project = uniqueProject('LateChunk');
        let chunk = 0;
        const { db: failing } = recording(db, (sql, run) =>
          sql === SQL.INSERT_PLAN_CHUNK && ++chunk === 2
            ? run().then(() => {
                throw new DatabaseError('simulated: connection lost after the chunk', '08006', undefined);
              })
            : undefined,
        );

        const error = await createSync(failing, newSync(buildPlan(3, 4, 10), { projectName: project }), {
          maxPlanStatementBytes: 4 * 1024,
        }).catch((e: unknown) => e);

        expect(error).toMatchObject({ name: 'DatabaseError', sqlState: '08006' });
        expect(chunk).toBe(2);
        expect(await countRows('sync_history', project)).toBe(0);
        expect(await countRows('sync_plan_items', project)).toBe(0);
        const { rows } = await db.query(
          "SELECT count(*)::int AS n FROM audit_logs WHERE details->>'project_name' = :p",
          { p: project },
        );
        expect(rows[0]?.n).toBe(0);
      });

      it("runs the chunks in the caller's transaction when given one", async () => {
        const project = uniqueProject('CallerTx');
        await expect(
          db.transaction(async (tx) => {
            const sync = await createSync(tx, newSync(buildPlan(3, 4, 10), { projectName: project }), {
              maxPlanStatementBytes: 4 * 1024,
            });
            expect(sync.totalItems).toBe(135);
            throw new Error('caller changed its mind');
          }),
        ).rejects.toThrow('caller changed its mind');
        expect(await countRows('sync_history', project)).toBe(0);
        expect(await countRows('sync_plan_items', project)).toBe(0);
      });

      it('refuses a node too large for any request, writing nothing', async () => {
        const project = uniqueProject('HugeNode');
        const plan = buildPlan(1, 1).map((node, i) =>
          i === 1 ? { ...node, payload: { description: 'x'.repeat(10_000) } } : node,
        );

        const error = await createSync(db, newSync(plan, { projectName: project }), {
          maxPlanStatementBytes: 8 * 1024,
        }).catch((e: unknown) => e);

        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details.map((d) => d.path)).toEqual(['plan[1]']);
        expect(await countRows('sync_history', project)).toBe(0);
      });

      // The plan's shape (unique ids, each parent in the plan and of the level above, names and
      // lengths) is validated once, at the edge (startSync: test/unit/start-sync-plan.test.ts); the
      // store trusts its typed input. Its constraints are the database's own, and a refused row leaves
      // nothing behind.
      const refused: Array<[string, (plan: ReturnType<typeof buildPlan>) => Parameters<typeof newSync>]> = [
        ['a duplicate id', (p) => [[...p, { ...p[1]! }]]],
        ['a name longer than the column', (p) => [[{ ...p[0]!, name: 'x'.repeat(1001) }]]],
        ['an empty id', (p) => [[{ ...p[0]!, ardoqId: '' }]]],
        ['an unknown item type', (p) => [[{ ...p[0]!, itemType: 'bug' as 'epic' }]]],
        ['a project name longer than the column', (p) => [p, { projectName: 'p'.repeat(65) }]],
      ];
      it.each(refused)('the database refuses %s and nothing is written', async (_name, make) => {
        const project = uniqueProject('Invalid');
        const [plan, overrides] = make(buildPlan(1, 1, 1));
        const error = await createSync(db, newSync(plan, { projectName: project, ...overrides })).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(DatabaseError);
        expect(await countRows('sync_history', overrides?.projectName ?? project)).toBe(0);
      });

      it('leaves nothing behind when the database refuses one plan row', async () => {
        // Bypasses validation to prove the one-statement write is all or nothing.
        const project = uniqueProject('Atomic');
        const plan = [
          ['ok', null, 0, 'fine'],
          ['bad', null, 0, 'n'.repeat(1001)],
        ];
        const error = await db
          .query(SQL.CREATE_SYNC, {
            plan: JSON.stringify(plan),
            firstPosition: 0,
            projectName: project,
            sourceConfigId: null,
            targetConfigId: null,
            overwriteMode: false,
            totalItems: 2,
            epicsTotal: 2,
            featuresTotal: 0,
            userStoriesTotal: 0,
            userId: null,
            sourceIp: null,
            userAgent: null,
            options: sqlJson({}),
            deadlineAt: new Date(),
            fieldMapping: null,
            mappingSnapshot: null,
          })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'DatabaseError', constraint: 'sync_plan_items_name_length' });
        expect(await countRows('sync_history', project)).toBe(0);
        const { rows } = await db.query(
          "SELECT count(*)::int AS n FROM audit_logs WHERE details->>'project_name' = :p",
          { p: project },
        );
        expect(rows[0]?.n).toBe(0);
      });

      it('rejects unknown status and type values in the database itself', async () => {
        const project = uniqueProject('Enum');
        await expect(
          db.query(
            `INSERT INTO sync_history (project_name, status, total_items, deadline_at)
             VALUES (:p, 'paused', 0, now())`,
            { p: project },
          ),
        ).rejects.toMatchObject({ constraint: 'sync_history_status_valid' });
        const sync = await createSync(db, newSync(buildPlan(1), { projectName: project }));
        await expect(
          db.query(
            `INSERT INTO sync_history_items (sync_history_id, ardoq_id, item_name, item_type, status, error_message, position)
             VALUES (CAST(:id AS uuid), 'x', 'x', 'bug', 'failed', 'e', 99)`,
            { id: sqlUuid(sync.view.id) },
          ),
        ).rejects.toMatchObject({ constraint: 'sync_history_items_item_type_valid' });
        expect(await countRows('sync_history', project)).toBe(1);
      });
    });

    describe('recordOutcomes', () => {
      it('inserts, counts and announces an outcome once; a duplicate changes nothing', async () => {
        const plan = buildPlan(1, 1);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const epic = plan[0]!.ardoqId;

        const first = await recordOutcomes(db, id, [createdOutcome(epic, 101)]);
        expect(first.inserted).toBe(1);
        expect(first.complete).toBe(false);
        expect(first.sync.view).toMatchObject({ items_created: 1, epics_created: 1 });

        const again = await recordOutcomes(db, id, [createdOutcome(epic, 999)]);
        expect(again.inserted).toBe(0);
        expect(again.sync.view).toMatchObject({ items_created: 1, epics_created: 1 });

        const events = await listEvents(db, id);
        expect(events.map((e) => e.event)).toEqual(['sync:accepted', 'epic:created']);
        expect(events[1]?.data).toEqual({
          ardoqId: epic,
          name: 'Epic 0',
          azureDevOpsId: 101,
          azureDevOpsUrl: 'https://dev.azure.com/org/Project/_workitems/edit/101',
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        });
        const { rows } = await db.query(
          'SELECT state, azure_devops_id FROM sync_plan_items WHERE sync_history_id = CAST(:id AS uuid) AND ardoq_id = :a',
          { id: sqlUuid(id), a: epic },
        );
        expect(rows).toEqual([{ state: 'done', azure_devops_id: 101 }]);
        const { rows: items } = await db.query(
          'SELECT azure_devops_id, changed_by_user FROM sync_history_items WHERE sync_history_id = CAST(:id AS uuid)',
          { id: sqlUuid(id) },
        );
        expect(items).toEqual([
          {
            azure_devops_id: 101,
            changed_by_user: { displayName: 'Sync Bot', uniqueName: 'bot@example.com' },
          },
        ]);
        await expectSyncInvariants(db, id);
      });

      it("adds the time the recorded creates waited for throttling to the sync's throttled_ms, once", async () => {
        const plan = buildPlan(1, 3);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const [epic, f1, f2, f3] = plan.map((n) => n.ardoqId) as [string, string, string, string];
        const startedAgo = (seconds: number) =>
          db.query(
            `UPDATE sync_history SET started_at = now() - make_interval(secs => :s) WHERE id = CAST(:id AS uuid)`,
            {
              id: sqlUuid(id),
              s: seconds,
            },
          );
        await startedAgo(60);

        const first = await recordOutcomes(db, id, [{ ...createdOutcome(epic, 201), throttledMs: 1_200 }]);
        expect(first.sync.view.throttled_ms).toBe(1_200);
        // A duplicate delivery adds nothing; a batch adds the longest wait of its inserted rows (its
        // items waited together), not their sum.
        const batch = await recordOutcomes(db, id, [
          { ...createdOutcome(epic, 201), throttledMs: 5_000 },
          { ...createdOutcome(f1, 202), throttledMs: 300.4 },
          { ...createdOutcome(f2, 203), throttledMs: 250 },
        ]);
        expect(batch.inserted).toBe(2);
        expect(batch.sync.view.throttled_ms).toBe(1_500);
        expect((await getSync(db, id)).throttledMs).toBe(1_500);
        // Never more than the time the sync has been processing (2 s here).
        await startedAgo(2);
        const capped = await recordOutcomes(db, id, [{ ...createdOutcome(f3, 204), throttledMs: 9_000 }]);
        expect(capped.sync.view.throttled_ms).toBeGreaterThanOrEqual(1_990);
        expect(capped.sync.view.throttled_ms).toBeLessThan(2_500);
        await expectSyncInvariants(db, id);
      });

      it('records a batch, counting only the new rows of a partly duplicated batch', async () => {
        const plan = buildPlan(3, 1);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const [e0, f0, e1, f1, e2] = plan.map((n) => n.ardoqId);
        await recordOutcomes(db, id, [createdOutcome(e0!, 1), failedOutcome(e1!)]);
        const result = await recordOutcomes(db, id, [
          createdOutcome(e0!, 1),
          failedOutcome(e1!),
          createdOutcome(f0!, 2),
          createdOutcome(e2!, 3),
          { ardoqId: f1!, status: 'skipped', errorMessage: 'parent failed' },
        ]);
        expect(result.inserted).toBe(3);
        expect(result.sync.view).toMatchObject({
          items_created: 3,
          items_failed: 1,
          items_skipped: 1,
          epics_created: 2,
          epics_failed: 1,
          features_created: 1,
          // Every feature not created, the skipped one included (the frontend shows created / total).
          features_failed: 1,
          features_skipped: 1,
        });
        expect(result.complete).toBe(false);
        await expectSyncInvariants(db, id);
      });

      it('ignores outcomes for nodes that are not in the plan', async () => {
        const sync = await createSync(db, newSync(buildPlan(1)));
        const result = await recordOutcomes(db, sync.view.id, [createdOutcome('not-planned', 5)]);
        expect(result.inserted).toBe(0);
        expect(result.sync.view.items_created).toBe(0);
      });

      it('fails for an unknown sync', async () => {
        await expect(
          recordOutcomes(db, '00000000-0000-4000-8000-000000000000', [failedOutcome('x')]),
        ).rejects.toThrow(NotFoundError);
      });
    });

    describe('skipSubtree', () => {
      it('skips every descendant of a failed node with counters and events, once', async () => {
        const plan = buildPlan(2, 2, 2);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const epic = plan[0]!.ardoqId;
        await recordOutcomes(db, id, [failedOutcome(epic)]);
        const skipped = await skipSubtree(db, id, epic);
        expect(skipped.inserted).toBe(6);
        expect(skipped.sync.view).toMatchObject({ items_failed: 1, items_skipped: 6, epics_failed: 1 });
        expect((await skipSubtree(db, id, epic)).inserted).toBe(0);

        const { rows } = await db.query<{ ardoq_id: string; error_message: string }>(
          `SELECT ardoq_id, error_message FROM sync_history_items
           WHERE sync_history_id = CAST(:id AS uuid) AND status = 'skipped' ORDER BY ardoq_id`,
          { id: sqlUuid(id) },
        );
        expect(rows).toHaveLength(6);
        expect(rows.find((r) => r.ardoq_id === `${epic}-f0`)?.error_message).toBe(
          'Not created: its parent "Epic 0" was not created',
        );
        expect(rows.find((r) => r.ardoq_id === `${epic}-f0-s1`)?.error_message).toBe(
          'Not created: its parent "Feature 0.0" was not created',
        );
        const events = await listEvents(db, id);
        expect(events.filter((e) => e.event === 'feature:failed')).toHaveLength(2);
        expect(events.filter((e) => e.event === 'userstory:failed')).toHaveLength(4);
        await expectSyncInvariants(db, id);
      });
    });

    describe('status transitions', () => {
      it('moves pending → in_progress → completed once, with one audit log and one final event', async () => {
        const plan = buildPlan(1, 1);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;

        expect((await markInProgress(db, id))?.status).toBe('in_progress');
        expect(await markInProgress(db, id)).toBeNull();
        expect(await finalizeSync(db, id), 'not every node has its outcome yet').toBeNull();

        const recorded = await recordOutcomes(db, id, [
          createdOutcome(plan[0]!.ardoqId, 1),
          failedOutcome(plan[1]!.ardoqId),
        ]);
        expect(recorded.complete).toBe(true);
        const done = await finalizeSync(db, id);
        expect(done?.view).toMatchObject({ status: 'completed', items_created: 1, items_failed: 1 });
        expect(done?.view.completed_at).toEqual(expect.any(String));
        expect(done?.view.duration_ms).toBeGreaterThanOrEqual(0);
        expect(await finalizeSync(db, id)).toBeNull();
        expect(
          await closeSync(db, 'cancelled', { syncId: id, reason: 'late', skipReason: 'late' }),
        ).toBeNull();
        expect((await getSync(db, id)).status).toBe('completed');

        const events = await listEvents(db, id);
        expect(events.map((e) => e.event)).toEqual([
          'sync:accepted',
          'sync:started',
          'epic:created',
          'feature:failed',
          'sync:complete',
        ]);
        expect(events.at(-1)?.data.summary).toEqual({
          total: 2,
          created: 1,
          failed: 1,
          skipped: 0,
          epics: { total: 1, created: 1, failed: 0 },
          features: { total: 1, created: 0, failed: 1 },
          userStories: { total: 0, created: 0, failed: 0 },
        });
        const { rows } = await db.query(
          "SELECT details FROM audit_logs WHERE entity_id = :id AND action_type = 'sync_completed'",
          { id },
        );
        expect(rows).toEqual([
          { details: { total_items: 2, items_created: 1, items_failed: 1, items_skipped: 0 } },
        ]);
        await expectSyncInvariants(db, id);
      });

      it('finalizes as failed when no item was created', async () => {
        const plan = buildPlan(1, 1);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        await recordOutcomes(db, id, [failedOutcome(plan[0]!.ardoqId)]);
        await skipSubtree(db, id, plan[0]!.ardoqId);
        const done = await finalizeSync(db, id);
        expect(done?.view).toMatchObject({
          status: 'failed',
          error_message: 'No work item was created: 1 failed, 1 skipped',
        });
        expect((await listEvents(db, id)).at(-1)).toMatchObject({
          event: 'sync:error',
          data: { error: done?.view.error_message },
        });
        await expectSyncInvariants(db, id);
      });

      it('cancels: skips the items not started, keeps finished ones, and is a no-op the second time', async () => {
        const plan = buildPlan(1, 3);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        await recordOutcomes(db, id, [createdOutcome(plan[0]!.ardoqId, 10)]);
        await db.query(
          "UPDATE sync_plan_items SET state = 'processing' WHERE sync_history_id = CAST(:id AS uuid) AND ardoq_id = :a",
          {
            id: sqlUuid(id),
            a: plan[1]!.ardoqId,
          },
        );

        const actor = { userId: 'canceller', sourceIp: '10.0.0.9', userAgent: 'browser' };
        const closing = await closeSync(db, 'cancelled', {
          syncId: id,
          reason: 'Cancelled by the user',
          skipReason: 'Sync was cancelled before this item was created',
          actor,
        });
        // The node in flight may still create its work item: the sync stays open, closing.
        expect(closing?.status).toBe('in_progress');
        expect(closing?.closeRequested).toBe('cancelled');
        expect(closing?.view).toMatchObject({ items_created: 1, items_skipped: 2 });
        const again = await closeSync(db, 'cancelled', { syncId: id, reason: 'again', skipReason: 'again' });
        expect(again?.view).toMatchObject({ status: 'in_progress', items_skipped: 2 });
        expect((await listEvents(db, id)).map((e) => e.event)).not.toContain('sync:cancelled');

        // The in-flight item records its outcome; then the sync closes with the final numbers.
        const late = await recordOutcomes(db, id, [createdOutcome(plan[1]!.ardoqId, 11)]);
        expect(late.complete).toBe(true);
        const cancelled = await finalizeSync(db, id);
        expect(cancelled?.view).toMatchObject({ status: 'cancelled', items_created: 2, items_skipped: 2 });

        const events = await listEvents(db, id);
        expect(events.at(-1)).toMatchObject({
          event: 'sync:cancelled',
          data: {
            message: 'Cancelled by the user',
            summary: { total: 4, created: 2, failed: 2, skipped: 2 },
          },
        });
        expect(events.at(-2)?.event).toBe('feature:created');
        expect(events.filter((e) => e.event === 'feature:failed')).toHaveLength(2);
        const { rows } = await db.query(
          "SELECT user_id, source_ip, user_agent, details FROM audit_logs WHERE entity_id = :id AND action_type = 'sync_cancelled'",
          { id },
        );
        expect(rows).toEqual([
          {
            user_id: 'canceller',
            source_ip: '10.0.0.9',
            user_agent: 'browser',
            details: { items_created: 2, items_failed: 0, items_skipped: 2 },
          },
        ]);

        // Terminal means final: a late duplicate changes nothing, a new close request is refused.
        const before = (await getSync(db, id)).view;
        const duplicate = await recordOutcomes(db, id, [createdOutcome(plan[1]!.ardoqId, 12)]);
        expect(duplicate.inserted).toBe(0);
        expect((await getSync(db, id)).view).toEqual(before);
        expect(await listEvents(db, id)).toHaveLength(events.length);
        expect(
          await closeSync(db, 'cancelled', { syncId: id, reason: 'again', skipReason: 'again' }),
        ).toBeNull();
        await expectSyncInvariants(db, id);
      });

      it('fails a pending sync with its reason, skipping every node', async () => {
        const plan = buildPlan(2, 1);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const failed = await closeSync(db, 'failed', {
          syncId: id,
          reason: 'Azure DevOps refused the PAT',
          skipReason: 'Not attempted: the sync failed',
        });
        expect(failed?.view).toMatchObject({
          status: 'failed',
          error_message: 'Azure DevOps refused the PAT',
          items_skipped: 4,
        });
        expect((await listEvents(db, id)).at(-1)).toMatchObject({
          event: 'sync:error',
          data: { error: 'Azure DevOps refused the PAT' },
        });
        const { rows } = await db.query(
          "SELECT details FROM audit_logs WHERE entity_id = :id AND action_type = 'sync_failed'",
          { id },
        );
        expect(rows).toEqual([
          {
            details: {
              error: 'Azure DevOps refused the PAT',
              items_created: 0,
              items_failed: 0,
              items_skipped: 4,
            },
          },
        ]);
        expect(await markInProgress(db, id)).toBeNull();
        await expectSyncInvariants(db, id);
      });

      it('the database refuses to move a terminal sync', async () => {
        const sync = await createSync(db, newSync(buildPlan(1)));
        await closeSync(db, 'cancelled', { syncId: sync.view.id, reason: 'stop', skipReason: 'stop' });
        await expect(
          db.query("UPDATE sync_history SET status = 'in_progress' WHERE id = CAST(:id AS uuid)", {
            id: sqlUuid(sync.view.id),
          }),
        ).rejects.toMatchObject({
          sqlState: '23514',
          message: expect.stringMatching(/cannot move from cancelled to in_progress/),
        });
        expect((await getSync(db, sync.view.id)).status).toBe('cancelled');
      });
    });

    describe('events and deletions', () => {
      it('counts deletions per chunk and numbers every event without gaps', async () => {
        const sync = await createSync(db, newSync(buildPlan(1), { overwriteMode: true }));
        const id = sync.view.id;
        expect(await appendEvent(db, id, 'overwrite:started', { message: 'Looking for managed items' })).toBe(
          2,
        );
        await recordDeletions(db, id, 200, {
          name: 'overwrite:progress',
          data: { message: 'Deleted 200 of 250', deleted: 200, total: 250, currentChunk: 1, totalChunks: 2 },
        });
        const last = await recordDeletions(db, id, 50, {
          name: 'overwrite:progress',
          data: { message: 'Deleted 250 of 250', deleted: 250, total: 250, currentChunk: 2, totalChunks: 2 },
        });
        expect(last.deletionCount).toBe(250);
        expect((await getSync(db, id)).view.deletion_count).toBe(250);
        const events = await listEvents(db, id);
        expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(events[3]?.data).toMatchObject({
          deleted: 250,
          currentChunk: 2,
          timestamp: expect.any(String),
        });
        expect((await listEvents(db, id, 2)).map((e) => e.seq)).toEqual([3, 4]);
        await expect(recordDeletions(db, id, -1, { name: 'overwrite:progress', data: {} })).rejects.toThrow(
          ValidationError,
        );
      });

      it('rejects an event name outside the catalogue', async () => {
        const sync = await createSync(db, newSync(buildPlan(1)));
        await expect(appendEvent(db, sync.view.id, 'sync:whatever', {})).rejects.toMatchObject({
          constraint: 'sync_events_event_valid',
        });
        expect((await getSync(db, sync.view.id)).lastEventSeq).toBe(1);
      });
    });

    describe('audit logs and configurations', () => {
      it('appends audit logs with text entity ids; the database refuses an unknown action', async () => {
        const log = await appendAuditLog(db, {
          actionType: 'connection_tested',
          entityType: 'configuration',
          entityId: 'cfg-not-a-uuid',
          details: { success: true },
        });
        expect(log).toMatchObject({
          action_type: 'connection_tested',
          entity_id: 'cfg-not-a-uuid',
          details: { success: true },
        });
        expect(log).not.toHaveProperty('user_id');
        // The vocabulary is the database's too: an unknown action is refused there.
        await expect(
          appendAuditLog(db, { actionType: 'nope' as 'sync_started', entityType: 'sync' }),
        ).rejects.toThrow(DatabaseError);
      });

      it('reads configurations and allows only one active', async () => {
        const a = await insertConfiguration(db, {
          id: `cfg-${uniqueProject('a')}`,
          name: 'Main',
          organization: 'contoso',
          secretRef: 'local:cfg-a',
          isActive: true,
          isTested: true,
          testPassed: true,
        });
        expect(await getConfiguration(db, a.id)).toEqual(a);
        expect((await getActiveConfiguration(db))?.id).toBe(a.id);
        expect((await listConfigurations(db)).map((c) => c.id)).toContain(a.id);
        await expect(
          insertConfiguration(db, {
            id: `cfg-${uniqueProject('b')}`,
            name: 'B',
            organization: 'o',
            secretRef: 's',
            isActive: true,
          }),
        ).rejects.toMatchObject({ constraint: 'azure_devops_configurations_one_active' });
        await expect(getConfiguration(db, 'missing')).rejects.toThrow(NotFoundError);
      });
    });
  });
}
