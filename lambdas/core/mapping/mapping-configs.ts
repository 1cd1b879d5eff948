import { randomUUID } from 'node:crypto';
import {
  type FieldMappingConfigRecord,
  type FieldMappingConfigView,
  type FieldMappingRow,
  toConfigView,
} from '#core/domain/field-mapping.ts';
import type { Actor } from '#core/domain/sync-model.ts';
import { type ErrorDetail, ValidationError } from '#core/errors.ts';
import type { ConnectionCache } from '#core/pipeline/connection.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { FieldMappingStore } from '#core/ports/field-mapping-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import { auditEntry } from '../configurations/configuration-service.ts';
import { testedTracker, upstreamFailure } from '../configurations/resolve.ts';
import { FORBIDDEN_TARGETS, transformFits } from './apply-mapping.ts';
import {
  type CatalogCache,
  type CatalogType,
  type ProjectCatalog,
  processCatalog,
  projectCatalog,
} from './catalog.ts';

export interface MappingDeps {
  fieldMappings: FieldMappingStore;
  configurations: Pick<ConfigurationStore, 'get' | 'active'>;
  secrets: Pick<SecretStore, 'get'>;
  trackers: WorkItemTrackerFactory;
  connections: ConnectionCache;
  catalogs: CatalogCache;
}

/** A new configuration (validated at the edge: the route's body schema). */
export interface NewMappingConfigInput {
  name: string;
  description?: string;
  projectId: string;
  projectName?: string;
  processTemplateName?: string;
  isDefault?: boolean;
  mappings: FieldMappingRow[];
}

export type MappingConfigChangeInput = Partial<Omit<NewMappingConfigInput, 'projectId'>>;

const SYSTEM = { system: 'field-mapping' } as const;

/** A project's catalog through the cache (404 when Azure DevOps does not know the project). */
export async function catalogOf(
  deps: MappingDeps,
  configId: string | undefined,
  project: string,
): Promise<ProjectCatalog | null> {
  const { tracker, configuration } = await testedTracker(deps, configId);
  const id = configuration.id;
  try {
    return await deps.catalogs.get(`${id}:${project.toLowerCase()}`, () => projectCatalog(tracker, project));
  } catch (error) {
    throw upstreamFailure(error);
  }
}

/**
 * What a mapping is checked against: the project's catalog, or, when Azure DevOps does not know the
 * project (yet), the catalog of the process the configuration names (Agile by default).
 */
async function checkingCatalog(
  deps: MappingDeps,
  project: string,
  processTemplateName: string | undefined,
): Promise<ProjectCatalog> {
  const found = await catalogOf(deps, undefined, project);
  if (found) return found;
  const process = processTemplateName ?? 'Agile';
  const { tracker, configuration } = await testedTracker(deps, undefined);
  const configId = configuration.id;
  let catalog: ProjectCatalog | null;
  try {
    catalog = await deps.catalogs.get(`${configId}:process:${process.toLowerCase()}`, () =>
      processCatalog(tracker, process),
    );
  } catch (error) {
    throw upstreamFailure(error);
  }
  if (!catalog) {
    throw new ValidationError(`Invalid request: processTemplateName: no process named ${process}`, [
      { path: 'processTemplateName', message: `Azure DevOps has no enabled process named ${process}` },
    ]);
  }
  return catalog;
}

/**
 * The problems of a configuration's rows against a catalog, each naming its row and field: a field
 * the level's work item type does not have (or one Azure DevOps sets itself), a transform that cannot
 * write into its field, a repeated row, two sources into one field (System.Tags excepted).
 */
export function mappingProblems(rows: readonly FieldMappingRow[], catalog: ProjectCatalog): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const typeOf = (level: FieldMappingRow['workItemType']): CatalogType | undefined =>
    catalog.types.find((t) => t.level === level);
  const seen = new Map<string, number>();
  const writers = new Map<string, number>();
  rows.forEach((row, i) => {
    const at = `mappings[${i}]`;
    const type = typeOf(row.workItemType);
    if (FORBIDDEN_TARGETS.has(row.azureDevOpsField)) {
      problems.push({
        path: `${at}.azureDevOpsField`,
        message: `${row.azureDevOpsField} is set by Azure DevOps or by the sync (the title is the Ardoq name): it cannot be mapped`,
      });
      return;
    }
    if (!type) {
      problems.push({
        path: `${at}.workItemType`,
        message: `the ${catalog.process} process has no type for ${row.workItemType}`,
      });
      return;
    }
    const field = type.fields.find((f) => f.referenceName === row.azureDevOpsField);
    if (!field) {
      problems.push({
        path: `${at}.azureDevOpsField`,
        message: `the ${type.name} type has no writable field ${row.azureDevOpsField}`,
      });
      return;
    }
    if (row.transform && !transformFits(row.transform, field)) {
      problems.push({
        path: `${at}.transform`,
        message: `the ${row.transform} transform cannot write into ${row.azureDevOpsField} (${field.type ?? 'unknown type'})`,
      });
    }
    const key = `${row.workItemType}|${row.ardoqField}|${row.azureDevOpsField}`;
    const repeated = seen.get(key);
    if (repeated !== undefined) {
      problems.push({ path: at, message: `repeats mappings[${repeated}]` });
      return;
    }
    seen.set(key, i);
    const target = `${row.workItemType}|${row.azureDevOpsField}`;
    const writer = writers.get(target);
    if (writer !== undefined && row.azureDevOpsField !== 'System.Tags') {
      problems.push({
        path: `${at}.azureDevOpsField`,
        message: `${row.azureDevOpsField} is already written by mappings[${writer}]: one Ardoq field per Azure DevOps field (System.Tags excepted)`,
      });
      return;
    }
    writers.set(target, i);
  });
  return problems;
}

function check(rows: readonly FieldMappingRow[], catalog: ProjectCatalog): void {
  const problems = mappingProblems(rows, catalog);
  if (problems.length > 0) {
    throw new ValidationError(`Invalid request: ${problems[0]?.path}: ${problems[0]?.message}`, problems);
  }
}

/**
 * Saves a configuration (WORKFLOW.md §6.4): the project is resolved through the active Azure DevOps
 * configuration (its GUID and name are stored, matching either later), every row is checked against
 * the project's types and fields (or its process's, for a project that does not exist yet), and the
 * write is audited. At most one default per project: a new default clears the previous one.
 */
export async function createMappingConfig(
  input: NewMappingConfigInput,
  actor: Actor,
  deps: MappingDeps,
): Promise<FieldMappingConfigView> {
  const catalog = await checkingCatalog(deps, input.projectId, input.processTemplateName);
  check(input.mappings, catalog);
  const id = randomUUID();
  const projectName = catalog.project?.name ?? input.projectName;
  const record = await deps.fieldMappings.createConfig(
    {
      id,
      name: input.name,
      ...(input.description ? { description: input.description } : {}),
      projectId: catalog.project?.id ?? input.projectId,
      ...(projectName ? { projectName } : {}),
      projectRef: input.projectId,
      processTemplateName: input.processTemplateName ?? catalog.process,
      mappings: input.mappings,
      isDefault: input.isDefault === true,
    },
    [
      auditEntry('config_created', id, actor, {
        ...SYSTEM,
        name: input.name,
        project: projectName ?? input.projectId,
        rows: input.mappings.length,
      }),
    ],
  );
  return toConfigView(record);
}

/** Changes a configuration; new rows replace all of them, checked as on create. */
export async function changeMappingConfig(
  id: string,
  input: MappingConfigChangeInput,
  actor: Actor,
  deps: MappingDeps,
): Promise<FieldMappingConfigView> {
  const current = await deps.fieldMappings.config(id);
  if (input.mappings) {
    const catalog = await checkingCatalog(
      deps,
      current.projectId,
      input.processTemplateName ?? current.processTemplateName,
    );
    check(input.mappings, catalog);
  }
  const record = await deps.fieldMappings.updateConfig(
    id,
    {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.projectName !== undefined ? { projectName: input.projectName } : {}),
      ...(input.processTemplateName !== undefined ? { processTemplateName: input.processTemplateName } : {}),
      ...(input.mappings ? { mappings: input.mappings } : {}),
      ...(input.isDefault !== undefined ? { isDefault: input.isDefault } : {}),
    },
    [
      auditEntry('config_updated', id, actor, {
        ...SYSTEM,
        fields: Object.keys(input),
        name: input.name ?? current.name,
      }),
    ],
  );
  return toConfigView(record);
}

export async function removeMappingConfig(
  id: string,
  actor: Actor,
  deps: Pick<MappingDeps, 'fieldMappings'>,
): Promise<FieldMappingConfigRecord> {
  const current = await deps.fieldMappings.config(id);
  return deps.fieldMappings.removeConfig(id, [
    auditEntry('config_deleted', id, actor, { ...SYSTEM, name: current.name }),
  ]);
}
