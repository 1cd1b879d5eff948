import type * as z from 'zod';
import { CatalogCache } from '#core/mapping/catalog.ts';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import { DEFAULT_SETTINGS } from '#core/pipeline/deps.ts';
import { MappingCache } from '#core/pipeline/mapping-cache.ts';
import { systemClock } from '#core/ports/clock.ts';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import {
  adoTrackers,
  ardoqClients,
  dataApiDatabase,
  patSecrets,
  sqsWorkQueue,
} from '#lambdas/runtime/aws-clients.ts';
import { pipelineSettingsFrom } from '#lambdas/runtime/pipeline-settings.ts';
import {
  REQUEST_ADO,
  REQUEST_ARDOQ,
  REQUEST_CANCEL_WAIT_MS,
  REQUEST_DATABASE,
} from '#lambdas/runtime/time-budgets.ts';
import { SqlAuditTrail } from '#store/audit-log-store.ts';
import { adoConfigurationStore, ardoqConfigurationStore } from '#store/configuration-store.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { SqlHistoryStore } from '#store/history/history-store.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import type { ApiDeps } from './deps.ts';
import type { RouterConfig, RouterDeps } from './router.ts';
import type { ApiSettings } from './settings.ts';

/** The buffered API function's adapters, built once per cold start from its settings. */
export function apiDeps(
  settings: z.output<typeof ApiSettings>,
  log: Log,
  metrics: PipelineMetrics,
): ApiDeps & RouterDeps {
  const db = dataApiDatabase(settings, REQUEST_DATABASE);
  const pipelineSettings = pipelineSettingsFrom(settings, DEFAULT_SETTINGS);
  return {
    syncs: new SqlSyncStore(db),
    history: new SqlHistoryStore(db),
    configurations: adoConfigurationStore(db),
    ardoqConfigurations: ardoqConfigurationStore(db),
    fieldMappings: new SqlFieldMappingStore(db),
    catalogs: new CatalogCache(),
    mappings: new MappingCache(),
    ardoq: ardoqClients(settings, REQUEST_ARDOQ),
    ardoqAllowedOrigins: settings.ARDOQ_ALLOWED_ORIGINS,
    hierarchyTypes: settings.ARDOQ_HIERARCHY_TYPES,
    audit: new SqlAuditTrail(db),
    queue: sqsWorkQueue(settings),
    secrets: patSecrets(settings),
    trackers: adoTrackers(settings, REQUEST_ADO),
    connections: new ConnectionCache(),
    clock: systemClock,
    log,
    metrics,
    // A cancel answers within API Gateway's 29 s, after the database's resume waits (time-budgets.ts).
    settings: {
      ...pipelineSettings,
      cancelWaitMs: Math.min(pipelineSettings.cancelWaitMs, REQUEST_CANCEL_WAIT_MS),
    },
  };
}

/** In AWS, API Gateway's Cognito authorizer authenticates; its groups claim names the admins. */
export const apiRouterConfig = (settings: { CORS_ORIGINS: string[]; ADMIN_GROUP: string }): RouterConfig => ({
  auth: { mode: 'authorizer', adminGroup: settings.ADMIN_GROUP },
  corsOrigins: settings.CORS_ORIGINS,
});
