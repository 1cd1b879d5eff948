import * as z from 'zod';
import type { NewAuditLog } from '#core/domain/audit.ts';
import {
  type FieldMappingConfigChanges,
  type FieldMappingConfigRecord,
  FieldMappingRow,
  type FieldMappingTemplateRecord,
  type NewFieldMappingConfig,
} from '#core/domain/field-mapping.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { FieldMappingStore } from '#core/ports/field-mapping-store.ts';
import { writeAudited } from './audit-log-store.ts';
import { type Database, DatabaseError, type Queryable, type Row, sqlJson } from './database.ts';
import { col, parseRow } from './rows.ts';

const Mappings = z.array(FieldMappingRow);

const TemplateRow = z.object({
  id: col.text,
  process_template_name: z.enum(['Agile', 'Scrum', 'CMMI', 'Basic']),
  process_template_type_id: col.text,
  name: col.text,
  description: col.nullableText,
  mappings: Mappings,
  created_at: col.time,
  updated_at: col.time,
});

const ConfigRow = z.object({
  id: col.text,
  name: col.text,
  description: col.nullableText,
  project_id: col.text,
  project_name: col.nullableText,
  project_ref: col.text,
  process_template_name: col.nullableText,
  mappings: Mappings,
  is_default: col.bool,
  created_at: col.time,
  updated_at: col.time,
});

function toTemplate(input: Row | undefined): FieldMappingTemplateRecord {
  const row = parseRow(TemplateRow, input, 'field_mapping_templates');
  return {
    id: row.id,
    processTemplateName: row.process_template_name,
    processTemplateTypeId: row.process_template_type_id,
    name: row.name,
    ...(row.description !== null ? { description: row.description } : {}),
    mappings: row.mappings,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toConfig(input: Row | undefined): FieldMappingConfigRecord {
  const row = parseRow(ConfigRow, input, 'field_mapping_configs');
  return {
    id: row.id,
    name: row.name,
    ...(row.description !== null ? { description: row.description } : {}),
    projectId: row.project_id,
    ...(row.project_name !== null ? { projectName: row.project_name } : {}),
    projectRef: row.project_ref,
    ...(row.process_template_name !== null ? { processTemplateName: row.process_template_name } : {}),
    mappings: row.mappings,
    isDefault: row.is_default,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A configuration matches a project by its GUID, its name or what its client sent (any case). */
const MATCHES_PROJECT = `(lower(project_id) = lower(:project) OR lower(project_name) = lower(:project)
  OR lower(project_ref) = lower(:project))`;

/**
 * Waits for any other write making a default of the same project (a transaction-scoped lock on the
 * project's key, the one the one-default index uses), so two concurrent "make this the default" both
 * succeed, the later one winning, instead of one failing on the index. Taken before any row lock, in
 * every write that takes it, so two such writes can never wait for each other.
 */
const lockDefaults = (tx: Queryable, projectId: string) =>
  tx.query(
    "SELECT true AS locked FROM pg_advisory_xact_lock(hashtext('field_mapping_configs:' || lower(:projectId)))",
    { projectId },
  );

/** Makes `except` the only default of its project (under {@link lockDefaults}). */
const clearDefault = (tx: Queryable, projectId: string, except: string) =>
  tx.query(
    'UPDATE field_mapping_configs SET is_default = false WHERE lower(project_id) = lower(:projectId) AND is_default AND id <> :id',
    { projectId, id: except },
  );

function nameTaken(error: unknown, name: string | undefined): unknown {
  if (
    error instanceof DatabaseError &&
    error.sqlState === '23505' &&
    /name/.test(error.constraint ?? error.message)
  ) {
    return new ConflictError(`A mapping configuration named "${name}" exists for this project`);
  }
  return error;
}

/** `FieldMappingStore` over SQL: each write and its audit entries in one transaction. */
export class SqlFieldMappingStore implements FieldMappingStore {
  constructor(private readonly db: Database) {}

  async templates(): Promise<FieldMappingTemplateRecord[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM field_mapping_templates ORDER BY process_template_name',
    );
    return rows.map(toTemplate);
  }

  async template(processTemplateName: string): Promise<FieldMappingTemplateRecord | null> {
    const { rows } = await this.db.query(
      'SELECT * FROM field_mapping_templates WHERE lower(process_template_name) = lower(:name)',
      { name: processTemplateName },
    );
    return rows[0] ? toTemplate(rows[0]) : null;
  }

  async configs(project: string): Promise<FieldMappingConfigRecord[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM field_mapping_configs WHERE ${MATCHES_PROJECT} ORDER BY is_default DESC, created_at DESC, id`,
      { project },
    );
    return rows.map(toConfig);
  }

  async config(id: string): Promise<FieldMappingConfigRecord> {
    const { rows } = await this.db.query('SELECT * FROM field_mapping_configs WHERE id = :id', { id });
    if (!rows[0]) throw new NotFoundError(`Mapping configuration ${id} not found`);
    return toConfig(rows[0]);
  }

  createConfig(
    config: NewFieldMappingConfig,
    audit: readonly NewAuditLog[],
  ): Promise<FieldMappingConfigRecord> {
    return this.write(audit, async (tx) => {
      if (config.isDefault) {
        await lockDefaults(tx, config.projectId);
        await clearDefault(tx, config.projectId, config.id);
      }
      try {
        const { rows } = await tx.query(
          `INSERT INTO field_mapping_configs
             (id, name, description, project_id, project_name, project_ref, process_template_name, mappings, is_default)
           VALUES (:id, :name, :description, :projectId, :projectName, :projectRef, :processTemplateName,
             CAST(:mappings AS jsonb), :isDefault)
           RETURNING *`,
          {
            id: config.id,
            name: config.name,
            description: config.description ?? null,
            projectId: config.projectId,
            projectName: config.projectName ?? null,
            projectRef: config.projectRef,
            processTemplateName: config.processTemplateName ?? null,
            mappings: sqlJson(config.mappings),
            isDefault: config.isDefault,
          },
        );
        return toConfig(rows[0]);
      } catch (error) {
        throw nameTaken(error, config.name);
      }
    });
  }

  updateConfig(
    id: string,
    changes: FieldMappingConfigChanges,
    audit: readonly NewAuditLog[],
  ): Promise<FieldMappingConfigRecord> {
    return this.write(audit, async (tx) => {
      // A configuration's project never changes: read it, take the project's lock (before any row
      // lock), then lock the row.
      const projectOf = async (lock: boolean) => {
        const { rows } = await tx.query(
          `SELECT project_id FROM field_mapping_configs WHERE id = :id${lock ? ' FOR UPDATE' : ''}`,
          { id },
        );
        const projectId = rows[0]?.project_id;
        if (typeof projectId !== 'string') throw new NotFoundError(`Mapping configuration ${id} not found`);
        return projectId;
      };
      if (changes.isDefault) await lockDefaults(tx, await projectOf(false));
      const projectId = await projectOf(true);
      if (changes.isDefault) await clearDefault(tx, projectId, id);
      try {
        const { rows } = await tx.query(
          `UPDATE field_mapping_configs SET
             name = coalesce(CAST(:name AS text), name),
             description = CASE WHEN CAST(:setDescription AS boolean) THEN CAST(:description AS text) ELSE description END,
             project_name = coalesce(CAST(:projectName AS text), project_name),
             process_template_name = coalesce(CAST(:processTemplateName AS text), process_template_name),
             mappings = coalesce(CAST(:mappings AS jsonb), mappings),
             is_default = coalesce(CAST(:isDefault AS boolean), is_default)
           WHERE id = :id RETURNING *`,
          {
            id,
            name: changes.name ?? null,
            setDescription: changes.description !== undefined,
            description: changes.description ?? null,
            projectName: changes.projectName ?? null,
            processTemplateName: changes.processTemplateName ?? null,
            mappings: changes.mappings ? sqlJson(changes.mappings) : null,
            isDefault: changes.isDefault ?? null,
          },
        );
        return toConfig(rows[0]);
      } catch (error) {
        throw nameTaken(error, changes.name);
      }
    });
  }

  removeConfig(id: string, audit: readonly NewAuditLog[]): Promise<FieldMappingConfigRecord> {
    return this.write(audit, async (tx) => {
      const { rows } = await tx.query('DELETE FROM field_mapping_configs WHERE id = :id RETURNING *', { id });
      if (!rows[0]) throw new NotFoundError(`Mapping configuration ${id} not found`);
      return toConfig(rows[0]);
    });
  }

  private write<R>(audit: readonly NewAuditLog[], change: (tx: Queryable) => Promise<R>): Promise<R> {
    return writeAudited(this.db, audit, change);
  }
}
