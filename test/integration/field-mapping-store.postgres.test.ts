import { describe } from 'vitest';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { describeFieldMappingStoreContract } from '#test/support/field-mapping-store-contract.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

describe.skipIf(!postgresAvailable)(`PostgreSQL ${postgresSkipReason}`, () => {
  describeFieldMappingStoreContract(
    'PostgreSQL (node-postgres)',
    async () => {
      const scratch = await createScratchDatabase();
      // Several connections, so concurrent writes really run in separate transactions at once.
      const db = new PostgresDatabase({ connectionString: scratch.url, max: 10 });
      return {
        db,
        teardown: async () => {
          await db.close();
          await scratch.drop();
        },
      };
    },
    { concurrentWrites: true },
  );
});
