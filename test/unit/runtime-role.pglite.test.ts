import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import type { Queryable } from '#store/database.ts';
import { runMigrations } from '#store/migrations.ts';
import { createSync } from '#store/sync/sync-rows.ts';
import { buildPlan, newSync, uniqueProject } from '#test/support/factories.ts';
import { rowCountDrift } from '#test/support/row-counts.ts';
import { RUNTIME_ROLE } from '#test/support/runtime-role.ts';

// PGlite (the local default) is one superuser session, yet roles and grants work as on the server:
// 0009 applies, and a transaction that switches to the runtime role gets exactly its privileges.
// (test/integration/runtime-role.postgres.test.ts logs in as the role on the real server.)
describe('the runtime database role on PGlite', () => {
  let db: PgliteDatabase;

  beforeAll(async () => {
    db = await PgliteDatabase.create();
    await runMigrations(db, await readMigrations());
  });
  afterAll(async () => db?.close());

  /** Runs `work` as the runtime role, in a transaction of its own. */
  const asRuntimeRole = <T>(work: (tx: Queryable) => Promise<T>) =>
    db.transaction(async (tx) => {
      await tx.query(`SET LOCAL ROLE ${RUNTIME_ROLE}`);
      return work(tx);
    });

  it('creates the role without LOGIN: nothing can use it before the migrate function sets its password', async () => {
    const { rows } = await db.query('SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = :role', {
      role: RUNTIME_ROLE,
    });
    expect(rows).toEqual([{ rolcanlogin: false, rolsuper: false }]);
  });

  it('lets the role create a sync (the counting triggers run as their owner)', async () => {
    const sync = await asRuntimeRole((tx) =>
      createSync(tx, newSync(buildPlan(1, 2, 2), { projectName: uniqueProject('PgliteRuntime') })),
    );

    expect(sync.totalItems).toBe(7);
    expect(await rowCountDrift(db)).toEqual([]);
  });

  it('refuses the role an audit UPDATE, a new table and the password function', async () => {
    const refusal = (sql: string) =>
      asRuntimeRole((tx) => tx.query(sql)).then(
        () => 'allowed',
        (error: Error) => error.message,
      );

    expect(await refusal("UPDATE audit_logs SET user_id = 'x'")).toBe(
      'permission denied for table audit_logs',
    );
    expect(await refusal('CREATE TABLE runtime_made (id int)')).toBe('permission denied for schema public');
    expect(
      await refusal(`SELECT set_runtime_role_password('${RUNTIME_ROLE}', 'a-password-of-the-role')`),
    ).toBe('permission denied for function set_runtime_role_password');
  });
});
