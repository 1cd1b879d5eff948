import type { ItemType } from '#core/domain/sync-model.ts';

export type ProcessName = 'Agile' | 'Scrum' | 'CMMI' | 'Basic';

/** The project's type names for the three levels of the Ardoq tree. */
export interface HierarchyTypes {
  process: ProcessName;
  epic: string;
  feature: string;
  userStory: string;
}

/** Alias used by the pipeline. */
export type ResolvedTypes = HierarchyTypes;

/** The project cannot take our hierarchy: a needed work item type (or field) is missing. */
export class UnsupportedProcessError extends Error {
  override readonly name = 'UnsupportedProcessError';
}

interface ProcessShape {
  /** Types that identify the process when present. */
  signature: string[];
  /** Types that must be absent (Basic has no Feature). */
  without?: string[];
  levels: [epic: string, feature: string, userStory: string];
}

/** In tie-break order when the hint does not decide. */
const PROCESSES: Record<ProcessName, ProcessShape> = {
  Agile: { signature: ['User Story'], levels: ['Epic', 'Feature', 'User Story'] },
  Scrum: { signature: ['Product Backlog Item'], levels: ['Epic', 'Feature', 'Product Backlog Item'] },
  CMMI: { signature: ['Requirement'], levels: ['Epic', 'Feature', 'Requirement'] },
  Basic: { signature: ['Issue'], without: ['Feature'], levels: ['Epic', 'Issue', 'Task'] },
};
const PROCESS_NAMES = Object.keys(PROCESSES) as ProcessName[];

/**
 * Which types to create, from the project's own work item types (old defect 11 hard-coded `User Story`).
 * The hint (the request's `processTemplateTemplateName`) only breaks ties between processes the project
 * fits; the project's types always win over a contradicting hint.
 */
export function resolveHierarchyTypes(typeNames: readonly string[], hint?: ProcessName): HierarchyTypes {
  // Azure DevOps type names are case-insensitive; return the project's own spelling.
  const byLowerName = new Map(typeNames.map((name) => [name.trim().toLowerCase(), name.trim()]));
  const find = (name: string): string | undefined => byLowerName.get(name.toLowerCase());

  const candidates = PROCESS_NAMES.filter((process) => {
    const shape = PROCESSES[process];
    return shape.signature.every((name) => find(name)) && !(shape.without ?? []).some((name) => find(name));
  });
  const missingOf = (process: ProcessName): string[] =>
    PROCESSES[process].levels.filter((name) => !find(name));
  const complete = candidates.filter((process) => missingOf(process).length === 0);
  const prefer = (processes: ProcessName[]): ProcessName | undefined =>
    hint !== undefined && processes.includes(hint) ? hint : processes[0];

  const process = prefer(complete);
  if (process !== undefined) {
    const [epic, feature, userStory] = PROCESSES[process].levels;
    return {
      process,
      epic: find(epic) ?? epic,
      feature: find(feature) ?? feature,
      userStory: find(userStory) ?? userStory,
    };
  }
  const closest = prefer(candidates) ?? hint;
  if (closest !== undefined) {
    throw new UnsupportedProcessError(
      `The project's ${closest} process lacks the work item type(s) ${missingOf(closest).join(', ')}`,
    );
  }
  throw new UnsupportedProcessError(
    'The project has none of the backlog types User Story (Agile), Product Backlog Item (Scrum), ' +
      `Requirement (CMMI) or Issue (Basic); its types are: ${typeNames.join(', ') || 'none'}`,
  );
}

/** The type name for one level of the tree. */
export function typeForLevel(types: HierarchyTypes, level: ItemType): string {
  if (level === 'epic') return types.epic;
  return level === 'feature' ? types.feature : types.userStory;
}
