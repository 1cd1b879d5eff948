import type { ArdoqTarget } from '#core/domain/configuration.ts';
import type { Clock } from '#core/ports/clock.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { FieldMappingStore } from '#core/ports/field-mapping-store.ts';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { SyncStore } from '#core/ports/sync-store.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkQueue } from '#core/ports/work-queue.ts';
import type { ConnectionCache } from './connection.ts';
import type { MappingCache } from './mapping-cache.ts';

export type { Log, PipelineMetrics } from '#core/ports/observability.ts';
export { noMetrics, silentLog } from '#core/ports/observability.ts';

export interface PipelineSettings {
  /** How long a sync may run before the sweep fails it. */
  deadlineMinutes: number;
  /** How old a claim or a pending node must be before the sweep counts it as stranded. */
  staleSeconds: number;
  /** Base of the Ardoq links written on work items. */
  ardoqBaseUrl: string;
  /** Delay before retrying an item after a transient Azure DevOps failure. */
  transientRetrySeconds: number;
  /**
   * How long the prepare step (type discovery, overwrite deletion) retries throttled or failing Azure
   * DevOps calls, with backoff, before the sync fails (OVERWRITE_RETRY_MINUTES).
   */
  overwriteRetryMinutes: number;
  /** How long a cancel request waits for the creates in flight to be recorded before it answers. */
  cancelWaitMs: number;
}

export const DEFAULT_SETTINGS: PipelineSettings = {
  deadlineMinutes: 120,
  staleSeconds: 180,
  ardoqBaseUrl: 'https://app.ardoq.com',
  transientRetrySeconds: 5,
  overwriteRetryMinutes: 10,
  cancelWaitMs: 10_000,
};

/**
 * Every port the pipeline's use cases use, built once per cold start and passed in (ports, not
 * imports). Each use case asks only for the part it uses (the `…Deps` types below), so each function
 * builds only those adapters and is granted only what they need.
 */
export interface PipelineDeps {
  syncs: SyncStore;
  configurations: Pick<ConfigurationStore, 'get' | 'active'>;
  queue: WorkQueue;
  secrets: Pick<SecretStore, 'get'>;
  trackers: WorkItemTrackerFactory;
  /** Trackers of the configurations in use, per cold start (see connection.ts). */
  connections: ConnectionCache;
  clock: Clock;
  log: Log;
  metrics: PipelineMetrics;
  settings: PipelineSettings;
}

/** Closing a sync when its last outcome is in (finalize). */
export type FinalizeDeps = Pick<PipelineDeps, 'syncs' | 'log' | 'metrics' | 'settings'>;
/** A cancel request: close, then wait for the creates in flight. */
export type CancelDeps = FinalizeDeps;
/** The periodic repair: finalize, fail, resend. */
export type SweepDeps = FinalizeDeps & Pick<PipelineDeps, 'queue'>;
/**
 * Accepting a sync: write it, send its prepare step. The active Ardoq configuration is recorded as
 * the sync's source when the request names none (the frontend never does).
 */
export type StartDeps = Pick<
  PipelineDeps,
  'syncs' | 'configurations' | 'queue' | 'clock' | 'log' | 'metrics' | 'settings'
> & {
  ardoqConfigurations: Pick<ConfigurationStore<ArdoqTarget>, 'active'>;
  /** The mapping a sync applies is chosen (and frozen) when it is accepted. */
  fieldMappings: Pick<FieldMappingStore, 'config' | 'template' | 'configs'>;
};
/**
 * The prepare step and the items: Azure DevOps through the configuration's PAT; the templates (prepare
 * freezes the project's when a sync has no mapping); the frozen mappings per sync (see MappingCache).
 */
export type ProcessDeps = {
  fieldMappings: Pick<FieldMappingStore, 'template'>;
  mappings: MappingCache;
} & Pick<
  PipelineDeps,
  | 'syncs'
  | 'configurations'
  | 'queue'
  | 'secrets'
  | 'trackers'
  | 'connections'
  | 'clock'
  | 'log'
  | 'metrics'
  | 'settings'
>;
