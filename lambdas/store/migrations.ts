import { createHash } from 'node:crypto';
import type { Database } from '#store/database.ts';
import { splitStatements } from '#store/sql-text.ts';

/** One numbered SQL file. */
export interface Migration {
  /** File name, e.g. `0001_functions.sql`; applied in name order. */
  readonly name: string;
  readonly sql: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationChecksumError extends Error {
  override readonly name = 'MigrationChecksumError';
}

const MIGRATION_NAME = /^\d{4}_[a-z0-9_]+\.sql$/;
// Serializes concurrent runners (parallel test workers, two deploys) on one database.
const LOCK_KEY = 4_242_017;

export const checksum = (sql: string): string => createHash('sha256').update(sql).digest('hex');

/**
 * Applies pending migrations in name order, each in its own transaction together with its
 * `schema_migrations` row, one statement per call (the Data API's rule). Refuses to run when a file
 * that was applied has changed since: migrations are never edited once landed.
 */
export async function runMigrations(
  db: Database,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  const ordered = [...migrations].sort((a, b) => a.name.localeCompare(b.name));
  for (const m of ordered) {
    if (!MIGRATION_NAME.test(m.name)) throw new Error(`migration file name ${m.name} is not NNNN_name.sql`);
  }
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(:key)', { key: LOCK_KEY });
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
  });
  await verifyChecksums(db, ordered);

  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const migration of ordered) {
    const applied = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(:key)', { key: LOCK_KEY });
      const existing = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE name = :name',
        { name: migration.name },
      );
      if (existing.rows[0]) {
        assertSameChecksum(migration, existing.rows[0].checksum);
        return false;
      }
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES (:name, :checksum)', {
        name: migration.name,
        checksum: checksum(migration.sql),
      });
      return true;
    });
    (applied ? report.applied : report.alreadyApplied).push(migration.name);
  }
  return report;
}

async function verifyChecksums(db: Database, migrations: readonly Migration[]): Promise<void> {
  const { rows } = await db.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM schema_migrations',
  );
  const known = new Map(migrations.map((m) => [m.name, m]));
  for (const row of rows) {
    const migration = known.get(row.name);
    if (!migration)
      throw new MigrationChecksumError(`applied migration ${row.name} is missing from the files`);
    assertSameChecksum(migration, row.checksum);
  }
}

function assertSameChecksum(migration: Migration, applied: string): void {
  if (checksum(migration.sql) !== applied) {
    throw new MigrationChecksumError(
      `migration ${migration.name} was changed after it was applied; add a new migration instead of editing it`,
    );
  }
}
