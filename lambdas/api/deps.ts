import type { CancelDeps, ProcessDeps, StartDeps } from '#core/pipeline/deps.ts';
import type { AuditTrail } from '#core/ports/audit-trail.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { HistoryStore } from '#core/ports/history-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { TailOptions } from './sse.ts';

/**
 * What the streaming routes need (the `api-stream` function in AWS): start a sync, follow its events.
 * `tail` shortens the SSE poll and heartbeat (tests).
 */
export interface StreamDeps extends StartDeps {
  audit: AuditTrail;
  tail?: TailOptions;
}

/** What the buffered routes need (the `api` function): history, configurations, cancel, check. */
export interface ApiDeps extends StreamDeps, CancelDeps, ProcessDeps {
  history: HistoryStore;
  configurations: ConfigurationStore;
  secrets: SecretStore;
}
