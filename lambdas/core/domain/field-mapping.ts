import * as z from 'zod';

/**
 * Field mapping (WORKFLOW.md §6): for an Ardoq level, copy an Ardoq field into an Azure DevOps field,
 * optionally through a named transform. Transforms are data: a name from this list, never code.
 */

/** The Ardoq level a mapping applies to (not the Azure DevOps type name). */
export const WorkItemLevel = z.enum(['epic', 'feature', 'user_story']);
export type WorkItemLevel = z.infer<typeof WorkItemLevel>;

export const TRANSFORMS = ['priority', 'tags', 'date', 'identity', 'risk', 'html', 'text', 'number'] as const;
export const Transform = z.enum(TRANSFORMS);
export type Transform = z.infer<typeof Transform>;

/** Most mapping rows one configuration holds (a type has a few dozen writable fields at most). */
export const MAX_MAPPINGS = 300;

/** One row: Ardoq field → Azure DevOps field (reference name) at one level. */
export const FieldMappingRow = z.object({
  ardoqField: z.string().trim().min(1, 'must not be empty').max(200),
  azureDevOpsField: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200)
    .regex(
      /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/,
      'must be a field reference name such as System.Description',
    ),
  workItemType: WorkItemLevel,
  transform: Transform.optional(),
});
export type FieldMappingRow = z.infer<typeof FieldMappingRow>;

/** The Azure DevOps field types a transform writes into (the field's `type` as `wit/fields` gives it). */
export type AdoFieldType =
  | 'string'
  | 'plainText'
  | 'html'
  | 'integer'
  | 'double'
  | 'dateTime'
  | 'boolean'
  | 'identity'
  | 'treePath'
  | 'guid'
  | 'history'
  | 'picklistString'
  | 'picklistInteger'
  | 'picklistDouble';

/** What the mapping engine knows of a target field (from the project's types and fields). */
export interface TargetField {
  referenceName: string;
  /** Azure DevOps' field type, when known. */
  type?: AdoFieldType | string;
  /** Values the field is limited to, when Azure DevOps lists them. */
  allowedValues?: readonly string[];
}

/** Which mapping a sync applies, frozen at accept time (the snapshot stored with the sync). */
export const MappingSnapshot = z.object({
  /** `config`: a project's configuration; `template`: a process template; `default`: none chosen. */
  kind: z.enum(['config', 'template', 'default']),
  /** The configuration's or template's id. */
  id: z.string().optional(),
  name: z.string(),
  /** The process template (by name) the mappings come from, for a template. */
  processTemplateName: z.string().optional(),
  mappings: z.array(FieldMappingRow),
});
export type MappingSnapshot = z.infer<typeof MappingSnapshot>;

/** A value a mapping cannot write: the item fails with this sentence (it names the field). */
export class MappingValueError extends Error {
  override readonly name = 'MappingValueError';
  constructor(
    readonly azureDevOpsField: string,
    reason: string,
  ) {
    super(`Field ${azureDevOpsField}: ${reason}`);
  }
}

/** A process template's mapping (seeded, read only). */
export interface FieldMappingTemplateRecord {
  id: string;
  processTemplateName: 'Agile' | 'Scrum' | 'CMMI' | 'Basic';
  processTemplateTypeId: string;
  name: string;
  description?: string;
  mappings: FieldMappingRow[];
  createdAt: string;
  updatedAt: string;
}

/** A user's mapping configuration for one Azure DevOps project. */
export interface FieldMappingConfigRecord {
  id: string;
  name: string;
  description?: string;
  /** The project's GUID when Azure DevOps resolved it at save time, else what the client sent. */
  projectId: string;
  /** The project's name when resolved. */
  projectName?: string;
  /** The project as the client named it on create (answers carry it back). */
  projectRef: string;
  processTemplateName?: string;
  mappings: FieldMappingRow[];
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}

export type NewFieldMappingConfig = Omit<FieldMappingConfigRecord, 'createdAt' | 'updatedAt'>;
export type FieldMappingConfigChanges = Partial<
  Pick<
    FieldMappingConfigRecord,
    'name' | 'description' | 'projectName' | 'processTemplateName' | 'mappings' | 'isDefault'
  >
>;

/** A mapping row as answers show it (the frontend's `FieldMapping`: an id per row, `transform`). */
export const FieldMappingView = FieldMappingRow.extend({ id: z.string() });

/** `FieldMappingConfig` as the frontend reads it (WORKFLOW.md §6.1). */
export const FieldMappingConfigView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  projectId: z.string(),
  projectName: z.string().optional(),
  processTemplateName: z.string().optional(),
  mappings: z.array(FieldMappingView),
  isDefault: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type FieldMappingConfigView = z.infer<typeof FieldMappingConfigView>;

/** `FieldMappingTemplate` as the frontend reads it. */
export const FieldMappingTemplateView = z.object({
  id: z.string(),
  processTemplateName: z.enum(['Agile', 'Scrum', 'CMMI', 'Basic']),
  processTemplateTypeId: z.string().optional(),
  name: z.string(),
  description: z.string().optional(),
  mappings: z.array(FieldMappingView),
  isSystemDefault: z.literal(true),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type FieldMappingTemplateView = z.infer<typeof FieldMappingTemplateView>;

/** Rows with their ids (`<owner>:<index>`: stable for a saved version, as the frontend only lists them). */
const withIds = (owner: string, rows: readonly FieldMappingRow[]) =>
  rows.map((row, index) => ({ id: `${owner}:${index}`, ...row }));

export function toConfigView(record: FieldMappingConfigRecord): FieldMappingConfigView {
  const { projectRef, projectId: _id, mappings, ...rest } = record;
  return { ...rest, projectId: projectRef, mappings: withIds(record.id, mappings) };
}

export function toTemplateView(record: FieldMappingTemplateRecord): FieldMappingTemplateView {
  return { ...record, mappings: withIds(record.id, record.mappings), isSystemDefault: true };
}
