import { describe } from 'vitest';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { describeHistoryContract } from '#test/support/history-contract.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

describe.skipIf(!postgresAvailable)(`PostgreSQL ${postgresSkipReason}`, () => {
  describeHistoryContract('PostgreSQL (node-postgres)', async () => {
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
});
