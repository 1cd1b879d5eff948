import { describe } from 'vitest';
import { dataApiDatabase } from '#test/support/data-api-target.ts';
import { describeHistoryContract } from '#test/support/history-contract.ts';
import { postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

describe.skipIf(!postgresAvailable)(`Data API ${postgresSkipReason}`, () => {
  describeHistoryContract('the Data API (real SDK → Data API test server → PostgreSQL)', async () => {
    const { db, teardown } = await dataApiDatabase();
    return { db, teardown };
  });
});
