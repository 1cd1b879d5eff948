import type * as z from 'zod';
import { DEFAULT_SETTINGS } from '#core/pipeline/deps.ts';
import { systemClock } from '#core/ports/clock.ts';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import type { StreamDeps } from '#lambdas/api/deps.ts';
import type { RouterDeps } from '#lambdas/api/router.ts';
import { dataApiDatabase, sqsWorkQueue } from '#lambdas/runtime/aws-clients.ts';
import { pipelineSettingsFrom } from '#lambdas/runtime/pipeline-settings.ts';
import { REQUEST_DATABASE } from '#lambdas/runtime/time-budgets.ts';
import { SqlAuditTrail } from '#store/audit-log-store.ts';
import { adoConfigurationStore, ardoqConfigurationStore } from '#store/configuration-store.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import type { StreamSettings } from './settings.ts';

/** The streaming function's adapters, built once per cold start from its settings. */
export function streamDeps(
  settings: z.output<typeof StreamSettings>,
  log: Log,
  metrics: PipelineMetrics,
): StreamDeps & RouterDeps {
  // Its answer (or the stream's first byte) must come within API Gateway's 29 s, as the API's.
  const db = dataApiDatabase(settings, REQUEST_DATABASE);
  return {
    syncs: new SqlSyncStore(db),
    configurations: adoConfigurationStore(db),
    ardoqConfigurations: ardoqConfigurationStore(db),
    fieldMappings: new SqlFieldMappingStore(db),
    audit: new SqlAuditTrail(db),
    queue: sqsWorkQueue(settings),
    clock: systemClock,
    log,
    metrics,
    settings: pipelineSettingsFrom(settings, DEFAULT_SETTINGS),
  };
}
