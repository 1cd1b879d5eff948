import * as z from 'zod';
import type { Database } from '#store/database.ts';
import { DataApiDatabase } from './data-api-database.ts';
import { PgliteDatabase } from './pglite-database.ts';
import { PostgresDatabase } from './postgres-database.ts';

const DatabaseEnv = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  DB_CLUSTER_ARN: z.string().min(1).optional(),
  DB_SECRET_ARN: z.string().min(1).optional(),
  DB_NAME: z.string().min(1).optional(),
  LOCAL_DATA_DIR: z.string().min(1).default('.data'),
});

/**
 * Picks the database the environment points to: the Data API when `DB_CLUSTER_ARN` is set (AWS),
 * PostgreSQL when `DATABASE_URL` is set, otherwise embedded PGlite under `LOCAL_DATA_DIR`.
 */
export async function databaseFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ db: Database; kind: string }> {
  const config = DatabaseEnv.parse(env);
  if (config.DB_CLUSTER_ARN) {
    if (!config.DB_SECRET_ARN || !config.DB_NAME) {
      throw new Error('DB_CLUSTER_ARN needs DB_SECRET_ARN and DB_NAME');
    }
    const db = new DataApiDatabase({
      resourceArn: config.DB_CLUSTER_ARN,
      secretArn: config.DB_SECRET_ARN,
      database: config.DB_NAME,
    });
    return { db, kind: 'data-api' };
  }
  if (config.DATABASE_URL)
    return { db: new PostgresDatabase({ connectionString: config.DATABASE_URL }), kind: 'postgres' };
  return { db: await PgliteDatabase.create({ dataDir: `${config.LOCAL_DATA_DIR}/pglite` }), kind: 'pglite' };
}
