import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import {
  AuditLogQuery,
  parseQuery,
  StatsQuery,
  SyncHistoryQuery,
  SyncItemsQuery,
} from '#core/domain/history-filters.ts';
import { cancelSync } from '#core/pipeline/cancel.ts';
import { sweep } from '#core/pipeline/sweep.ts';
import {
  activateConfiguration,
  deleteConfiguration,
  insertConfiguration,
  updateConfiguration,
} from '#store/configuration-store.ts';
import { DatabaseError } from '#store/database.ts';
import {
  auditStats,
  listAuditLogs,
  listSyncItems,
  listSyncs,
  syncStats,
} from '#store/history/history-store.ts';
import { runMigrations } from '#store/migrations.ts';
import { splitStatements } from '#store/sql-text.ts';
import { createSync, getSync } from '#store/sync/sync-rows.ts';
import { buildPlan, newSync, uniqueProject } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  ACTOR,
  createHarness,
  drain,
  isItem,
  prefixOf,
  start,
  tree,
} from '#test/support/pipeline-harness.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';
import { rowCountDrift } from '#test/support/row-counts.ts';
import {
  RUNTIME_ROLE,
  RUNTIME_TEST_PASSWORD,
  runtimeRoleUrl,
  scramVerifierMatches,
} from '#test/support/runtime-role.ts';

type TablePrivileges = Record<string, string[]>;

/**
 * What the runtime role may do, table by table (migrations/0009_runtime_role.sql). A table a later
 * migration adds shows up here with whatever it was granted: add it, after deciding.
 */
const EXPECTED_PRIVILEGES: TablePrivileges = {
  // 0010: Ardoq connections, managed through the API like the Azure DevOps ones.
  ardoq_configurations: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
  audit_logs: ['INSERT', 'SELECT'],
  azure_devops_configurations: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
  // 0011: field mapping. Templates are seed data (read only); configs are managed through the API; a
  // sync's snapshot is written once, never changed.
  field_mapping_configs: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
  field_mapping_templates: ['SELECT'],
  history_row_counts: ['SELECT'],
  schema_migrations: [],
  sync_events: ['INSERT', 'SELECT'],
  sync_field_mappings: ['INSERT', 'SELECT'],
  sync_history: ['INSERT', 'SELECT', 'UPDATE'],
  sync_history_items: ['INSERT', 'SELECT'],
  sync_plan_items: ['INSERT', 'SELECT', 'UPDATE'],
};

// Effective privileges (PUBLIC's included) of every table and sequence of the schema.
const PRIVILEGES_OF_EVERY_RELATION = `
  SELECT c.relname AS name,
         coalesce(array_agg(p.privilege ORDER BY p.privilege) FILTER (WHERE
           CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(:role, c.oid, p.privilege)
                ELSE has_table_privilege(:role, c.oid, p.privilege) END), '{}') AS privileges
  FROM pg_class c
  CROSS JOIN LATERAL unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['SELECT', 'UPDATE', 'USAGE']
    ELSE ARRAY['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'] END) AS p(privilege)
  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'S')
  GROUP BY c.relname, c.relkind
  ORDER BY c.relname`;

// The migrations run as the owner; the pipeline runs logged in as the runtime role, with the password
// the migrate function would set (the test server trusts local logins; the stored password is checked).
describe.skipIf(!postgresAvailable)(`the runtime database role ${postgresSkipReason}`, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let owner: PostgresDatabase;
  let runtime: PostgresDatabase;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    owner = new PostgresDatabase({ connectionString: scratch.url });
    await runMigrations(owner, await readMigrations());
    await owner.query('SELECT set_runtime_role_password(:role, :password)', {
      role: RUNTIME_ROLE,
      password: RUNTIME_TEST_PASSWORD,
    });
    runtime = new PostgresDatabase({ connectionString: runtimeRoleUrl(scratch.url) });
  });
  afterAll(async () => {
    await runtime?.close();
    await owner?.close();
    await scratch?.drop();
  });

  /** The SQLSTATE and message a statement of the runtime role fails with. */
  const failureOf = async (run: () => Promise<unknown>) => {
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'the statement should have been refused').toBeInstanceOf(DatabaseError);
    const { sqlState, message } = error as DatabaseError;
    return { sqlState, message };
  };
  const refusedAs = (sql: string) => failureOf(() => runtime.query(sql));

  describe('what it is', () => {
    it('logs in as itself, with the password set by set_runtime_role_password', async () => {
      const { rows } = await runtime.query<{ who: string }>('SELECT current_user AS who');
      expect(rows[0]?.who).toBe(RUNTIME_ROLE);
      const { rows: stored } = await owner.query<{ can_login: boolean; password: string | null }>(
        'SELECT rolcanlogin AS can_login, rolpassword AS password FROM pg_authid WHERE rolname = :role',
        { role: RUNTIME_ROLE },
      );
      expect(stored[0]?.can_login).toBe(true);
      expect(scramVerifierMatches(stored[0]?.password ?? '', RUNTIME_TEST_PASSWORD)).toBe(true);
    });

    it('has no attribute or membership beyond logging in', async () => {
      const { rows } = await owner.query(
        `SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
           (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships,
           has_schema_privilege(r.oid, current_schema(), 'CREATE') AS creates_in_schema,
           has_database_privilege(r.oid, current_database(), 'CREATE') AS creates_schemas
         FROM pg_roles r WHERE r.rolname = :role`,
        { role: RUNTIME_ROLE },
      );
      expect(rows).toEqual([
        {
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolreplication: false,
          rolbypassrls: false,
          memberships: 0,
          creates_in_schema: false,
          creates_schemas: false,
        },
      ]);
    });

    it('holds exactly the decided privileges on every table and sequence (a new one fails here until decided)', async () => {
      const { rows } = await owner.query<{ name: string; privileges: string[] }>(
        PRIVILEGES_OF_EVERY_RELATION,
        {
          role: RUNTIME_ROLE,
        },
      );
      expect(Object.fromEntries(rows.map((r) => [r.name, r.privileges]))).toEqual(EXPECTED_PRIVILEGES);
    });
  });

  describe('runs every statement of the functions', () => {
    it('creates a sync with createSync, its rows counted by the (owner-run) counting triggers', async () => {
      const project = uniqueProject('Runtime');
      const sync = await createSync(runtime, newSync(buildPlan(2, 2, 2), { projectName: project }));

      expect(sync.totalItems).toBe(14);
      await expectSyncInvariants(owner, sync.view.id);
      expect(await rowCountDrift(owner)).toEqual([]);
    });

    it('runs a sync through the pipeline to completed and reads it back on every history page', async () => {
      const h = await createHarness(runtime);
      const project = uniqueProject('RuntimePipeline');
      h.fake.addProject(project, 'Agile');
      const syncId = await start(h, project, tree(prefixOf(), 2, 2, 2));
      await drain(h);

      expect((await getSync(runtime, syncId)).status).toBe('completed');
      await expectSyncInvariants(owner, syncId);
      const syncs = await listSyncs(runtime, parseQuery(SyncHistoryQuery, { status: 'completed' }));
      expect(syncs.data.map((s) => s.id)).toContain(syncId);
      const items = await listSyncItems(runtime, syncId, parseQuery(SyncItemsQuery, {}));
      expect(items.data).toHaveLength(14);
      const audit = await listAuditLogs(runtime, parseQuery(AuditLogQuery, { entity_id: syncId }));
      expect(audit.data.map((a) => a.action_type).sort()).toEqual(['sync_completed', 'sync_started']);
      await syncStats(runtime, parseQuery(StatsQuery, {}));
      await auditStats(runtime, parseQuery(StatsQuery, {}));
      expect(await rowCountDrift(owner)).toEqual([]);
    });

    it('cancels a running sync and sweeps', async () => {
      const h = await createHarness(runtime);
      const project = uniqueProject('RuntimeCancel');
      h.fake.addProject(project, 'Agile');
      const prefix = prefixOf();
      const syncId = await start(h, project, tree(prefix, 2, 2, 0));
      await drain(h, { stopAt: isItem(`${prefix}-e1`) });

      await cancelSync(syncId, ACTOR, h.deps);
      await sweep(h.deps);
      await drain(h);

      expect((await getSync(runtime, syncId)).view).toMatchObject({ status: 'cancelled', items_created: 1 });
      await expectSyncInvariants(owner, syncId);
    });

    it('creates, edits, activates and deletes a configuration', async () => {
      const id = `cfg-runtime-${randomBytes(4).toString('hex')}`;
      await insertConfiguration(runtime, {
        id,
        name: `Runtime ${id}`,
        organization: 'https://dev.azure.com/runtime-role',
        secretRef: `memory:${id}`,
      });
      await updateConfiguration(runtime, id, { isTested: true, testPassed: true, testError: null });
      await runtime.transaction((tx) => activateConfiguration(tx, id));
      const deleted = await deleteConfiguration(runtime, id);

      expect(deleted).toMatchObject({ id, isActive: true, testPassed: true });
    });
  });

  describe('cannot', () => {
    it('change or remove audit entries: no UPDATE, DELETE or TRUNCATE grant (before the append-only trigger)', async () => {
      for (const sql of [
        "UPDATE audit_logs SET user_id = 'someone else'",
        'DELETE FROM audit_logs',
        'TRUNCATE audit_logs',
      ]) {
        expect(await refusedAs(sql), sql).toEqual({
          sqlState: '42501',
          message: 'permission denied for table audit_logs',
        });
      }
    });

    it('drop or disable the audit trigger, or switch triggers off for its session', async () => {
      expect(await refusedAs('DROP TRIGGER audit_logs_append_only ON audit_logs')).toEqual({
        sqlState: '42501',
        message: 'must be owner of relation audit_logs',
      });
      expect(await refusedAs('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only')).toEqual({
        sqlState: '42501',
        message: 'must be owner of table audit_logs',
      });
      expect(await refusedAs('SET session_replication_role = replica')).toEqual({
        sqlState: '42501',
        message: 'permission denied to set parameter "session_replication_role"',
      });
    });

    it('create, drop or empty tables, nor delete history', async () => {
      expect(await refusedAs('CREATE TABLE runtime_made (id int)')).toMatchObject({
        sqlState: '42501',
        message: expect.stringMatching(/^permission denied for schema /),
      });
      expect(await refusedAs('CREATE SCHEMA runtime_made')).toMatchObject({
        sqlState: '42501',
        message: expect.stringMatching(/^permission denied for database /),
      });
      expect(await refusedAs('DROP TABLE sync_history')).toEqual({
        sqlState: '42501',
        message: 'must be owner of table sync_history',
      });
      for (const table of ['sync_history', 'sync_plan_items', 'sync_events', 'azure_devops_configurations']) {
        expect(await refusedAs(`TRUNCATE ${table}`), table).toEqual({
          sqlState: '42501',
          message: `permission denied for table ${table}`,
        });
      }
      expect(await refusedAs('DELETE FROM sync_history')).toEqual({
        sqlState: '42501',
        message: 'permission denied for table sync_history',
      });
    });

    it('set row counts itself, directly or through the counting functions', async () => {
      expect(await refusedAs("UPDATE history_row_counts SET n = 0 WHERE counter = 'audit_logs'")).toEqual({
        sqlState: '42501',
        message: 'permission denied for table history_row_counts',
      });
      expect(
        await refusedAs("SELECT history_row_counts_add(ARRAY['audit_logs'], ARRAY[''], ARRAY[-1]::bigint[])"),
      ).toEqual({ sqlState: '42501', message: 'permission denied for function history_row_counts_add' });
      // A trigger of its own (on a temporary table) would run a counting function as its owner.
      const viaOwnTrigger = await failureOf(() =>
        runtime.transaction(async (tx) => {
          await tx.query('CREATE TEMPORARY TABLE fake_history (status text, project_name text)');
          await tx.query(
            `CREATE TRIGGER fake_count AFTER INSERT ON fake_history REFERENCING NEW TABLE AS changed
             FOR EACH STATEMENT EXECUTE FUNCTION sync_history_count_rows()`,
          );
        }),
      );
      expect(viaOwnTrigger).toEqual({
        sqlState: '42501',
        message: 'permission denied for function sync_history_count_rows',
      });
    });

    it('set its own password through the owner’s function, or read the migration ledger', async () => {
      expect(
        await failureOf(() =>
          runtime.query('SELECT set_runtime_role_password(:role, :password)', {
            role: RUNTIME_ROLE,
            password: 'chosen-by-the-runtime-role',
          }),
        ),
      ).toEqual({ sqlState: '42501', message: 'permission denied for function set_runtime_role_password' });
      expect(await refusedAs('SELECT name FROM schema_migrations')).toEqual({
        sqlState: '42501',
        message: 'permission denied for table schema_migrations',
      });
    });
  });

  describe('set_runtime_role_password', () => {
    it('sets the runtime role’s password only, and refuses a short one', async () => {
      expect(
        await failureOf(() =>
          owner.query('SELECT set_runtime_role_password(:role, :password)', {
            role: 'postgres',
            password: RUNTIME_TEST_PASSWORD,
          }),
        ),
      ).toEqual({
        sqlState: '22023',
        message: 'set_runtime_role_password sets the password of ardoq_sync_app only',
      });
      expect(
        await failureOf(() =>
          owner.query('SELECT set_runtime_role_password(:role, :password)', {
            role: RUNTIME_ROLE,
            password: 'short',
          }),
        ),
      ).toEqual({
        sqlState: '22023',
        message: 'the password of ardoq_sync_app must have at least 16 characters',
      });
    });
  });

  describe('creating the role (0009) in two databases at once', () => {
    it('lets the later CREATE ROLE wait for the first, then takes its failure as success', async () => {
      // The same statement for a role of this test alone: the real one exists on this server already.
      const migration = (await readMigrations()).find((m) => m.name === '0009_runtime_role.sql');
      const createRole = splitStatements(migration?.sql ?? '').find((s) => s.includes('CREATE ROLE'));
      expect(createRole).toBeDefined();
      const role = `race_${randomBytes(4).toString('hex')}`;
      const statement = (createRole as string).replaceAll(RUNTIME_ROLE, role);
      const first = new pg.Client({ connectionString: scratch.url });
      const second = new pg.Client({ connectionString: scratch.url });
      await Promise.all([first.connect(), second.connect()]);
      try {
        await first.query('BEGIN');
        await first.query(statement);
        const { rows: backend } = await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await second.query('BEGIN');
        const secondRun = second.query(statement);
        const secondPid = backend[0]?.pid ?? -1;
        expect(await waitsForALock(owner, secondPid)).toBe(true);
        await first.query('COMMIT');
        await secondRun;
        await second.query('COMMIT');

        const { rows } = await owner.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_roles WHERE rolname = :role AND NOT rolcanlogin',
          { role },
        );
        expect(rows[0]?.n).toBe(1);
      } finally {
        await Promise.all([first.end(), second.end()]);
        await owner.query(`DROP ROLE IF EXISTS ${role}`);
      }
    });
  });
});

/** True once the backend `pid` waits for a lock (within 5 s). */
async function waitsForALock(db: PostgresDatabase, pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await db.query<{ waiting: boolean }>(
      "SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = :pid",
      { pid },
    );
    if (rows[0]?.waiting) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
