import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { describeRowCountsContract } from '#test/support/row-counts-contract.ts';

describeRowCountsContract('PGlite', async () => {
  const db = await PgliteDatabase.create();
  return { db, teardown: () => db.close() };
});
