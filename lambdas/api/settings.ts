import { settingsOf } from '#lambdas/runtime/settings.ts';

/**
 * The buffered API function's environment: the database, the work queue (a sync's prepare step), the
 * PAT secrets (configurations store, test and delete them), the hosts a PAT may go to, CORS, the
 * admins' group, and the sync settings its routes use.
 */
export const ApiSettings = settingsOf(
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'WORK_QUEUE_URL',
  'PAT_SECRET_PREFIX',
  'ADO_ALLOWED_ORIGINS',
  'CORS_ORIGINS',
  'ADMIN_GROUP',
  'SYNC_DEADLINE_MINUTES',
  'STALE_SECONDS',
  'CANCEL_WAIT_SECONDS',
);
