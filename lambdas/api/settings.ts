import { settingsOf } from '#lambdas/runtime/settings.ts';

/**
 * The buffered API function's environment: the database, the work queue (a sync's prepare step), the
 * credential secrets (configurations store, test and delete PATs and Ardoq tokens), the hosts a PAT or
 * an Ardoq token may go to, the Ardoq hierarchy's type names, CORS, the
 * admins' group, and the sync settings its routes use.
 */
export const ApiSettings = settingsOf(
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'WORK_QUEUE_URL',
  'PAT_SECRET_PREFIX',
  'PAT_SECRET_KMS_KEY_ARN',
  'ADO_ALLOWED_ORIGINS',
  'ARDOQ_ALLOWED_ORIGINS',
  'ARDOQ_HIERARCHY_TYPES',
  'CORS_ORIGINS',
  'ADMIN_GROUP',
  'SYNC_DEADLINE_MINUTES',
  'STALE_SECONDS',
  'CANCEL_WAIT_SECONDS',
);
