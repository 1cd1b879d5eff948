import type { NewAuditLog } from '#core/domain/audit.ts';
import type {
  FieldMappingConfigChanges,
  FieldMappingConfigRecord,
  FieldMappingTemplateRecord,
  NewFieldMappingConfig,
} from '#core/domain/field-mapping.ts';

/**
 * The `FieldMappingStore` port: the read-only process templates and the users' mapping configurations.
 * Every write appends its audit entries in the same transaction; at most one default per project.
 */
export interface FieldMappingStore {
  /** Every template, by process name. */
  templates(): Promise<FieldMappingTemplateRecord[]>;
  /** The template of a process (`Agile`, `Scrum`, `CMMI`, `Basic`, any case), or null. */
  template(processTemplateName: string): Promise<FieldMappingTemplateRecord | null>;
  /**
   * The configurations of a project, default first then newest: `project` matches a configuration's
   * GUID, its name (any case) or what its client sent.
   */
  configs(project: string): Promise<FieldMappingConfigRecord[]>;
  /** One configuration; `NotFoundError` for an unknown id. */
  config(id: string): Promise<FieldMappingConfigRecord>;
  /** Stores a configuration (clearing the project's other default when it is one); 409 for a taken name. */
  createConfig(
    config: NewFieldMappingConfig,
    audit: readonly NewAuditLog[],
  ): Promise<FieldMappingConfigRecord>;
  updateConfig(
    id: string,
    changes: FieldMappingConfigChanges,
    audit: readonly NewAuditLog[],
  ): Promise<FieldMappingConfigRecord>;
  removeConfig(id: string, audit: readonly NewAuditLog[]): Promise<FieldMappingConfigRecord>;
}
