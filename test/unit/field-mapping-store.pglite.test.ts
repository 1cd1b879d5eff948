import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { describeFieldMappingStoreContract } from '#test/support/field-mapping-store-contract.ts';

describeFieldMappingStoreContract('PGlite', async () => {
  const db = await PgliteDatabase.create();
  return { db, teardown: () => db.close() };
});
