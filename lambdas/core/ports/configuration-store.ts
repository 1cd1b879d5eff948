import type { NewAuditLog } from '#core/domain/audit.ts';
import type {
  ConfigurationChanges,
  ConfigurationRecord,
  NewConfiguration,
} from '#core/domain/configuration.ts';

/**
 * The `ConfigurationStore` port: the Azure DevOps configurations. Every write appends its audit
 * entries in the same transaction, so a change and its audit trail are never half-written. At most one
 * configuration is active.
 */
export interface ConfigurationStore {
  /** All configurations, newest first. */
  list(): Promise<ConfigurationRecord[]>;
  /** One configuration; `NotFoundError` for an unknown id. */
  get(id: string): Promise<ConfigurationRecord>;
  /** The active configuration, or null. */
  active(): Promise<ConfigurationRecord | null>;
  /** Stores a new configuration (the only active one when `activate`) with its audit entries. */
  create(
    configuration: NewConfiguration,
    options: { activate: boolean; audit: readonly NewAuditLog[] },
  ): Promise<ConfigurationRecord>;
  /** Changes the given columns with its audit entries; `NotFoundError` for an unknown id. */
  update(
    id: string,
    changes: ConfigurationChanges,
    audit: readonly NewAuditLog[],
  ): Promise<ConfigurationRecord>;
  /** Makes it the only active configuration, with its audit entries. */
  activate(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord>;
  /** Deletes it with its audit entries and returns what it was. */
  remove(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord>;
}
