import type * as z from 'zod';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import { DEFAULT_SETTINGS, type ProcessDeps } from '#core/pipeline/deps.ts';
import { MappingCache } from '#core/pipeline/mapping-cache.ts';
import { systemClock } from '#core/ports/clock.ts';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import { adoTrackers, dataApiDatabase, patSecrets, sqsWorkQueue } from '#lambdas/runtime/aws-clients.ts';
import { pipelineSettingsFrom } from '#lambdas/runtime/pipeline-settings.ts';
import { adoConfigurationStore } from '#store/configuration-store.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import type { ProcessorSettings } from './settings.ts';

/** The processor's adapters, built once per cold start from its settings. */
export function processorDeps(
  settings: z.output<typeof ProcessorSettings>,
  log: Log,
  metrics: PipelineMetrics,
): ProcessDeps {
  const db = dataApiDatabase(settings);
  return {
    syncs: new SqlSyncStore(db),
    configurations: adoConfigurationStore(db),
    queue: sqsWorkQueue(settings),
    secrets: patSecrets(settings),
    trackers: adoTrackers(settings),
    connections: new ConnectionCache(),
    fieldMappings: new SqlFieldMappingStore(db),
    mappings: new MappingCache(),
    clock: systemClock,
    log,
    metrics,
    settings: pipelineSettingsFrom(settings, DEFAULT_SETTINGS),
  };
}
