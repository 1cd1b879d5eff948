import type * as z from 'zod';
import { DEFAULT_SETTINGS, type SweepDeps } from '#core/pipeline/deps.ts';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import { dataApiDatabase, sqsWorkQueue } from '#lambdas/runtime/aws-clients.ts';
import { pipelineSettingsFrom } from '#lambdas/runtime/pipeline-settings.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import type { FinalizerSettings } from './settings.ts';

/** The finalizer's adapters, built once per cold start from its settings: the syncs and the work queue. */
export function finalizerDeps(
  settings: z.output<typeof FinalizerSettings>,
  log: Log,
  metrics: PipelineMetrics,
): SweepDeps {
  return {
    syncs: new SqlSyncStore(dataApiDatabase(settings)),
    queue: sqsWorkQueue(settings),
    log,
    metrics,
    settings: pipelineSettingsFrom(settings, DEFAULT_SETTINGS),
  };
}
