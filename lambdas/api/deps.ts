import type { HierarchyTypes } from '#core/domain/ardoq.ts';
import type { ArdoqTarget } from '#core/domain/configuration.ts';
import type { CatalogCache } from '#core/mapping/catalog.ts';
import type { CancelDeps, ProcessDeps, StartDeps } from '#core/pipeline/deps.ts';
import type { ArdoqClientFactory } from '#core/ports/ardoq.ts';
import type { AuditTrail } from '#core/ports/audit-trail.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { FieldMappingStore } from '#core/ports/field-mapping-store.ts';
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

/**
 * What the buffered routes need (the `api` function): history, configurations, cancel, check, Azure
 * DevOps projects, Ardoq configurations and browsing.
 */
export interface ApiDeps extends StreamDeps, CancelDeps, ProcessDeps {
  history: HistoryStore;
  configurations: ConfigurationStore;
  secrets: SecretStore;
  ardoqConfigurations: ConfigurationStore<ArdoqTarget>;
  ardoq: ArdoqClientFactory;
  /** `ARDOQ_ALLOWED_ORIGINS`: hosts an Ardoq token may go to besides `https://*.ardoq.com`. */
  ardoqAllowedOrigins: readonly string[];
  /** The Ardoq component types of the five levels (`ARDOQ_HIERARCHY_TYPES`). */
  hierarchyTypes: HierarchyTypes;
  /** How long a project create waits for Azure DevOps' operation before answering (default 10 s). */
  projectCreateWaitMs?: number;
  fieldMappings: FieldMappingStore;
  /** Projects' types and fields for a few minutes (the mapping editor, save-time checks). */
  catalogs: CatalogCache;
}
