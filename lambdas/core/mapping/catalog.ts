import type { TargetField, WorkItemLevel } from '#core/domain/field-mapping.ts';
import type {
  AdoProcess,
  FieldDefinition,
  WorkItemTracker,
  WorkItemTypeInfo,
} from '#core/ports/work-item-tracker.ts';
import { PromiseCache } from '../promise-cache.ts';
import { FORBIDDEN_TARGETS } from './apply-mapping.ts';
import { type ProcessName, resolveHierarchyTypes } from './work-item-types.ts';

/** A writable field of a work item type, as the mapping editor and the save-time checks see it. */
export interface CatalogField extends TargetField {
  name: string;
}

export interface CatalogType {
  name: string;
  referenceName: string;
  /** The Ardoq level this type receives in a sync, when it is one of the three. */
  level?: WorkItemLevel;
  fields: CatalogField[];
}

/**
 * What a mapping can write into: a project's enabled work item types with their writable fields (types
 * and allowed values included), or, for a project that does not exist yet, a process's.
 */
export interface ProjectCatalog {
  source: 'project' | 'process';
  /** The project, when it exists. */
  project?: { id: string; name: string };
  process: ProcessName;
  types: CatalogType[];
}

/** The three levels' types, found by the same rules a sync's prepare step uses. */
function withLevels(
  process: ProcessName | undefined,
  types: CatalogType[],
): { process: ProcessName; types: CatalogType[] } {
  const resolved = resolveHierarchyTypes(
    types.map((t) => t.name),
    process,
  );
  const levelOf = new Map<string, WorkItemLevel>([
    [resolved.epic, 'epic'],
    [resolved.feature, 'feature'],
    [resolved.userStory, 'user_story'],
  ]);
  return {
    process: resolved.process,
    types: types.map((t) => {
      const level = levelOf.get(t.name);
      return level ? { ...t, level } : t;
    }),
  };
}

const writable = (field: { referenceName: string; readOnly?: boolean }) =>
  !field.readOnly && !FORBIDDEN_TARGETS.has(field.referenceName);

/**
 * A project's catalog: its types (one request, carrying their fields) joined with its field
 * definitions (one request: types and read-only flags). Null when Azure DevOps does not know the project.
 */
export async function projectCatalog(
  tracker: WorkItemTracker,
  project: string,
): Promise<ProjectCatalog | null> {
  const found = await tracker.getProject(project);
  if (!found) return null;
  const [types, definitions] = await Promise.all([
    tracker.listWorkItemTypes(found.name),
    tracker.listFieldDefinitions(found.name),
  ]);
  const byName = new Map<string, FieldDefinition>(definitions.map((d) => [d.referenceName, d]));
  const catalogTypes = types
    .filter((t) => t.isDisabled !== true)
    .map((t) => ({
      name: t.name,
      referenceName: t.referenceName ?? t.name,
      fields: fieldsOf(t, byName),
    }));
  const hint = processName(found.processName);
  return {
    source: 'project',
    project: { id: found.id, name: found.name },
    ...withLevels(hint, catalogTypes),
  };
}

function fieldsOf(type: WorkItemTypeInfo, definitions: ReadonlyMap<string, FieldDefinition>): CatalogField[] {
  const details = new Map((type.fieldDetails ?? []).map((f) => [f.referenceName, f]));
  const references = type.fields ?? [...details.keys()];
  return references.flatMap((referenceName) => {
    const definition = definitions.get(referenceName);
    if (!writable({ referenceName, readOnly: definition?.readOnly ?? false })) return [];
    const detail = details.get(referenceName);
    return [
      {
        referenceName,
        name: detail?.name ?? definition?.name ?? referenceName,
        ...(definition ? { type: mappingType(definition) } : {}),
        ...(detail?.allowedValues && detail.allowedValues.length > 0
          ? { allowedValues: detail.allowedValues }
          : {}),
      },
    ];
  });
}

/** A field's type as a mapping sees it: Azure DevOps lists identity fields as `string` with isIdentity. */
export const mappingType = (definition: Pick<FieldDefinition, 'type' | 'isIdentity'>) =>
  definition.isIdentity ? 'identity' : definition.type;

const SYSTEM_PROCESSES: readonly ProcessName[] = ['Agile', 'Scrum', 'CMMI', 'Basic'];

function processName(name: string | undefined): ProcessName | undefined {
  return SYSTEM_PROCESSES.find((p) => p.toLowerCase() === name?.toLowerCase());
}

/**
 * A process's catalog (the process API), for a mapping saved before its project exists: by name among
 * the organization's processes (an inherited one counts as its system parent). Null for an unknown name.
 */
export async function processCatalog(tracker: WorkItemTracker, name: string): Promise<ProjectCatalog | null> {
  const processes = await tracker.listProcesses();
  const process = processes.find((p) => p.name.toLowerCase() === name.toLowerCase() && p.isEnabled);
  if (!process) return null;
  const types = (await tracker.listProcessTypes(process.typeId))
    .filter((t) => !t.isDisabled)
    .map((t) => ({
      name: t.name,
      referenceName: t.referenceName,
      fields: t.fields.filter(writable).map((f) => ({
        referenceName: f.referenceName,
        name: f.name,
        ...(f.type ? { type: f.type } : {}),
        ...(f.allowedValues && f.allowedValues.length > 0 ? { allowedValues: f.allowedValues } : {}),
      })),
    }));
  return { source: 'process', ...withLevels(systemParent(process, processes), types) };
}

function systemParent(process: AdoProcess, all: readonly AdoProcess[]): ProcessName | undefined {
  return (
    processName(process.name) ?? processName(all.find((p) => p.typeId === process.parentProcessTypeId)?.name)
  );
}

/**
 * Catalogs per (configuration, project), for a few minutes: the mapping editor asks for types and
 * then fields of the same project, and a save checks against them (one fetch serves all three).
 */
export class CatalogCache extends PromiseCache<ProjectCatalog | null> {
  constructor(ttlMs = 5 * 60_000, now: () => number = Date.now) {
    super({ ttlMs, max: 500, now });
  }
}
