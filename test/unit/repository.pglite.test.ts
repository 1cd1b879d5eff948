import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { describeRepositoryContract } from '#test/support/repository-contract.ts';

describeRepositoryContract('PGlite', async () => {
  const db = await PgliteDatabase.create();
  return { db, teardown: () => db.close() };
});
