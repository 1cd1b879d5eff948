import type { Clock } from '#core/ports/clock.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkQueue } from '#core/ports/work-queue.ts';
import type { Database } from '#store/database.ts';

/** Structured logging, as Powertools' Logger offers it; never pass a PAT or a request body. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Business metrics (CloudWatch EMF in AWS). */
export interface PipelineMetrics {
  count(
    name: 'ItemsCreated' | 'ItemsFailed' | 'ItemsThrottled' | 'SyncsStarted' | 'SyncsFinished',
    n?: number,
  ): void;
  durationMs(name: 'SyncDuration', ms: number): void;
}

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

/** Everything the use cases need, built once per cold start and passed in (ports, not imports). */
export interface PipelineDeps {
  db: Database;
  queue: WorkQueue;
  secrets: SecretStore;
  trackers: WorkItemTrackerFactory;
  clock: Clock;
  log: Log;
  metrics: PipelineMetrics;
  settings: PipelineSettings;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: PipelineMetrics = { count() {}, durationMs() {} };
