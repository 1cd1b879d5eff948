import type { NewAuditLog } from '#core/domain/audit.ts';
import type {
  AdoTarget,
  ConfigurationChanges,
  ConfigurationRecord,
  NewConfiguration,
} from '#core/domain/configuration.ts';

/**
 * The `ConfigurationStore` port: the stored connections of one system (Azure DevOps by default; Ardoq
 * with `ArdoqTarget`). Every write appends its audit entries in the same transaction, so a change and
 * its audit trail are never half-written. At most one configuration is active.
 */
export interface ConfigurationStore<T extends object = AdoTarget> {
  /** All configurations, newest first. */
  list(): Promise<ConfigurationRecord<T>[]>;
  /** One configuration; `NotFoundError` for an unknown id. */
  get(id: string): Promise<ConfigurationRecord<T>>;
  /** The active configuration, or null. */
  active(): Promise<ConfigurationRecord<T> | null>;
  /**
   * Stores a new configuration (the only active one when `activate`) with its audit entries;
   * `ConflictError` when its name is taken (where names are unique).
   */
  create(
    configuration: NewConfiguration<T>,
    options: { activate: boolean; audit: readonly NewAuditLog[] },
  ): Promise<ConfigurationRecord<T>>;
  /** Changes the given columns with its audit entries; `NotFoundError` for an unknown id. */
  update(
    id: string,
    changes: ConfigurationChanges<T>,
    audit: readonly NewAuditLog[],
  ): Promise<ConfigurationRecord<T>>;
  /** Makes it the only active configuration, with its audit entries. */
  activate(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord<T>>;
  /** Makes it inactive (then none is), with its audit entries. */
  deactivate(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord<T>>;
  /** Deletes it with its audit entries and returns what it was. */
  remove(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord<T>>;
}
