/**
 * Migrate Lambda entry, invoked by the deploy-time Trigger (lib/constructs/schema-migration.ts):
 * applies the SQL files bundled next to it through the Data API, as the schema owner, then gives the
 * runtime role (migrations/0009_runtime_role.sql) the password of its Secrets Manager secret. A throw
 * fails the invocation, the Trigger and so the deployment, before any function that needs the new
 * schema changes.
 */
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { createLogger } from '#lambdas/runtime/observability.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';
import type { Database } from '#store/database.ts';
import { type Migration, type MigrationReport, runMigrations } from '#store/migrations.ts';
import { MigrateSettings } from './settings.ts';

/** The fields of an RDS database secret (rds.DatabaseSecret) this function uses. */
const RuntimeCredentials = z.object({ username: z.string().min(1), password: z.string().min(1) });
type RuntimeCredentials = z.infer<typeof RuntimeCredentials>;

/** The bundle ships `migrations/*.sql` beside `index.mjs` (copied by the afterBundling hook). */
const BUNDLED_MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));

const logger = createLogger('migrate');
const env = parseSettings(MigrateSettings, process.env);
const db = new DataApiDatabase({
  resourceArn: env.DB_CLUSTER_ARN,
  secretArn: env.DB_SECRET_ARN,
  database: env.DB_NAME,
});
const secrets = new SecretsManagerClient({});

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

/** The runtime role's credentials. Errors name what is wrong, never what the secret holds. */
async function readRuntimeCredentials(secretId: string): Promise<RuntimeCredentials> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  let value: unknown;
  try {
    value = JSON.parse(SecretString ?? '');
  } catch {
    // JSON.parse quotes the text it fails on: its message must not reach the logs.
    throw new Error(`runtime database secret ${secretId} is not a JSON database secret`);
  }
  const parsed = RuntimeCredentials.safeParse(value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new Error(`runtime database secret ${secretId} lacks a valid ${fields}`);
  }
  return parsed.data;
}

/**
 * Gives the runtime role LOGIN and its secret's password, through the owner-only database function
 * made for it: the password travels as a statement parameter, never in SQL text or a log. Returns
 * the role changed. Every run sets it again, so a replaced secret takes effect with the next run.
 */
async function setRuntimeRolePassword(database: Database, secretId: string): Promise<string> {
  const { username, password } = await readRuntimeCredentials(secretId);
  const { rows } = await database.query<{ role: string }>(
    'SELECT set_runtime_role_password(:username, :password) AS role',
    { username, password },
  );
  return rows[0]?.role ?? username;
}

export const handler = async (): Promise<MigrationReport> => {
  const migrations = await readMigrations(BUNDLED_MIGRATIONS);
  if (migrations.length === 0) throw new Error(`no migration files found in ${BUNDLED_MIGRATIONS}`);
  try {
    const newer = await newerMigrationsApplied(db, migrations);
    if (newer.length > 0) {
      // The newer version set the runtime role's password too: a rollback changes nothing at all.
      logger.warn('database is ahead of this bundle (deployment rollback?): nothing to apply', { newer });
      return { applied: [], alreadyApplied: migrations.map((m) => m.name) };
    }
    const report = await runMigrations(db, migrations);
    logger.info('migrations done', {
      applied: report.applied,
      alreadyApplied: report.alreadyApplied.length,
      files: migrations.length,
    });
    const role = await setRuntimeRolePassword(db, env.RUNTIME_DB_SECRET_ARN);
    logger.info('runtime role password set', { role });
    return report;
  } catch (error) {
    logger.error('migration failed', {
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    throw error;
  }
};
