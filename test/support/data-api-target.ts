import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApiDatabase, type DataApiDatabaseOptions } from '#adapters/data-api-database.ts';
import { type DataApiServer, startDataApiServer } from './data-api-server.ts';
import { createScratchDatabase } from './postgres.ts';

export const DATA_API_TARGET = {
  resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:test',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:test',
  database: 'ardoq_sync',
};

/** The real SDK client pointed at a Data API test server. */
export function dataApiClient(server: DataApiServer): RDSDataClient {
  return new RDSDataClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/**
 * A `DataApiDatabase` over the real SDK → a Data API test server → a scratch PostgreSQL database,
 * with a teardown that closes all three.
 */
export async function dataApiDatabase(options: Partial<DataApiDatabaseOptions> = {}) {
  const scratch = await createScratchDatabase();
  const server = await startDataApiServer({ connectionString: scratch.url });
  const db = new DataApiDatabase({ ...DATA_API_TARGET, client: dataApiClient(server), ...options });
  return {
    db,
    server,
    teardown: async () => {
      await db.close();
      await server.close();
      await scratch.drop();
    },
  };
}
