/**
 * Migrate Lambda entry, invoked by the deploy-time Trigger (lib/constructs/schema-migration.ts):
 * applies the SQL files bundled next to it through the Data API. A throw fails the invocation, the
 * Trigger and so the deployment, before any function that needs the new schema changes.
 */
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { createLogger } from '#lambdas/runtime/observability.ts';
import type { Database } from '#store/database.ts';
import { type Migration, type MigrationReport, runMigrations } from '#store/migrations.ts';

const Env = z.object({
  DB_CLUSTER_ARN: z.string().min(1),
  DB_SECRET_ARN: z.string().min(1),
  DB_NAME: z.string().min(1),
});

/** The bundle ships `migrations/*.sql` beside `index.mjs` (copied by the afterBundling hook). */
const BUNDLED_MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));

const logger = createLogger('migrate');
const env = Env.parse(process.env);
const db = new DataApiDatabase({
  resourceArn: env.DB_CLUSTER_ARN,
  secretArn: env.DB_SECRET_ARN,
  database: env.DB_NAME,
});

/**
 * Migrations the database has that this bundle does not know, when every bundled one is applied: the
 * database is ahead. That is what a CloudFormation rollback looks like (the Trigger re-invokes the
 * previous version after a newer one migrated), and old code on a newer, additive schema is expected.
 */
async function newerMigrationsApplied(
  database: Database,
  migrations: readonly Migration[],
): Promise<string[]> {
  const { rows: table } = await database.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (!table[0]?.present) return [];
  const { rows } = await database.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  const applied = new Set(rows.map((row) => row.name));
  const bundled = new Set(migrations.map((m) => m.name));
  if (!migrations.every((m) => applied.has(m.name))) return [];
  return rows.map((row) => row.name).filter((name) => !bundled.has(name));
}

export const handler = async (): Promise<MigrationReport> => {
  const migrations = await readMigrations(BUNDLED_MIGRATIONS);
  if (migrations.length === 0) throw new Error(`no migration files found in ${BUNDLED_MIGRATIONS}`);
  try {
    const newer = await newerMigrationsApplied(db, migrations);
    if (newer.length > 0) {
      logger.warn('database is ahead of this bundle (deployment rollback?): nothing to apply', { newer });
      return { applied: [], alreadyApplied: migrations.map((m) => m.name) };
    }
    const report = await runMigrations(db, migrations);
    logger.info('migrations done', {
      applied: report.applied,
      alreadyApplied: report.alreadyApplied.length,
      files: migrations.length,
    });
    return report;
  } catch (error) {
    logger.error('migration failed', {
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    throw error;
  }
};
