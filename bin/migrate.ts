/**
 * `npm run migrate`: applies pending migrations to the database the environment points to
 * (DATABASE_URL, the Data API via DB_CLUSTER_ARN/DB_SECRET_ARN/DB_NAME, or PGlite under LOCAL_DATA_DIR).
 */
import { mkdir } from 'node:fs/promises';
import { databaseFromEnv } from '#adapters/database-from-env.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { runMigrations } from '#store/migrations.ts';

await mkdir(process.env.LOCAL_DATA_DIR ?? '.data', { recursive: true });
const { db, kind } = await databaseFromEnv();
try {
  const report = await runMigrations(db, await readMigrations());
  console.log(
    `migrations on ${kind}: applied ${report.applied.length} (${report.applied.join(', ') || 'none'}), ` +
      `${report.alreadyApplied.length} already applied`,
  );
} catch (error) {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
