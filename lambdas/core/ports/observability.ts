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
    name:
      | 'ItemsCreated'
      | 'ItemsFailed'
      | 'ItemsThrottled'
      | 'SyncsStarted'
      | 'SyncsFinished'
      // The sweep's repairs, every sweep (0 included): the stuck-sync alarms read them.
      | 'SyncsPastDeadline'
      | 'StrandedItemsResent'
      | 'PreparesResent',
    n?: number,
  ): void;
  durationMs(name: 'SyncDuration', ms: number): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: PipelineMetrics = { count() {}, durationMs() {} };
