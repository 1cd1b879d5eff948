import { settingsOf } from '#lambdas/runtime/settings.ts';

/**
 * The processor's environment: the database, both queues (it enqueues children and finalize messages,
 * and postpones its own messages), the PAT secrets (read only), the hosts a PAT may go to, and the sync
 * settings of the prepare step and the items.
 */
export const ProcessorSettings = settingsOf(
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'WORK_QUEUE_URL',
  'FINALIZE_QUEUE_URL',
  'PAT_SECRET_PREFIX',
  'ADO_ALLOWED_ORIGINS',
  'STALE_SECONDS',
  'ARDOQ_BASE_URL',
  'OVERWRITE_RETRY_MINUTES',
);
