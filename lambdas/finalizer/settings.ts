import { settingsOf } from '#lambdas/runtime/settings.ts';

/**
 * The finalizer's environment: the database and the work queue (the sweep resends lost prepare and
 * item messages), and the sync settings the sweep uses. No PAT, no Azure DevOps, no finalize sends.
 */
export const FinalizerSettings = settingsOf(
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'WORK_QUEUE_URL',
  'SYNC_DEADLINE_MINUTES',
  'STALE_SECONDS',
  'OVERWRITE_RETRY_MINUTES',
);
