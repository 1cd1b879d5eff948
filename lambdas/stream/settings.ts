import { settingsOf } from '#lambdas/runtime/settings.ts';

/**
 * The streaming function's environment: the database and the work queue (starting a sync writes it
 * and sends its prepare step), CORS, the admins' group, and the sync settings starting one uses. No
 * PAT and no Azure DevOps: starting a sync only resolves the configuration.
 */
export const StreamSettings = settingsOf(
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'WORK_QUEUE_URL',
  'CORS_ORIGINS',
  'ADMIN_GROUP',
  'SYNC_DEADLINE_MINUTES',
);
