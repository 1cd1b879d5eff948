import { settingsOf } from '#lambdas/runtime/settings.ts';

/**
 * The migrate function's environment: the database as its owner (DB_SECRET_ARN is the cluster's own
 * secret: migrations create and alter objects) and the runtime role's secret, whose password it sets
 * after the migrations. No queue, no PAT, no Azure DevOps.
 */
export const MigrateSettings = settingsOf(
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'RUNTIME_DB_SECRET_ARN',
);
