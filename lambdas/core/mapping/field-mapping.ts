import type { MappingSnapshot, TargetField } from '#core/domain/field-mapping.ts';
import type { ItemType } from '#core/domain/sync-model.ts';
import type { NewWorkItem } from '#core/ports/work-item-tracker.ts';
import { applyCompiled, type CompiledMappings, compileMappings } from './apply-mapping.ts';
import { SYNC_TAG, toPriority, toRisk, toTags, toTitle } from './field-values.ts';
import { textToHtml } from './html.ts';
import { type HierarchyTypes, typeForLevel, UnsupportedProcessError } from './work-item-types.ts';

export { SYNC_TAG } from './field-values.ts';

export const FIELD = {
  title: 'System.Title',
  description: 'System.Description',
  tags: 'System.Tags',
  priority: 'Microsoft.VSTS.Common.Priority',
  acceptanceCriteria: 'Microsoft.VSTS.Common.AcceptanceCriteria',
  risk: 'Microsoft.VSTS.Common.Risk',
} as const;

export interface MappingOptions {
  /**
   * The mapping the sync applies (its frozen snapshot) with what is known of the type's fields; absent
   * for a sync accepted before field mapping existed: the built-in default below applies.
   */
  mapping?: {
    snapshot: MappingSnapshot;
    fieldTypes?: Readonly<Record<string, Omit<TargetField, 'referenceName'>>>;
  };
  /** Azure DevOps id of the parent work item (already created). */
  parentId?: number;
  /** Ardoq web base, e.g. `https://acme.ardoq.com`. */
  ardoqBaseUrl: string;
  /** Hyperlink comment that lets a retry find the item again, e.g. `ardoq-sync:{syncId}:{ardoqId}`. */
  marker: string;
}

/** Link to the Ardoq component; it carries the Ardoq id, so a retry can recognise the work item. */
export function ardoqComponentUrl(ardoqBaseUrl: string, ardoqId: string): string {
  return `${ardoqBaseUrl.replace(/\/+$/, '')}/app/view/component/${encodeURIComponent(ardoqId)}`;
}

/**
 * The default field mapping (DESIGN.md §5) of one raw Ardoq node. Writes only fields the target type has
 * (`availableFields`) and never the fields Azure DevOps sets itself (`System.ChangedBy`/`ChangedDate`).
 */
export function mapNodeToWorkItem(
  node: Readonly<Record<string, unknown>>,
  level: ItemType,
  types: HierarchyTypes,
  availableFields: ReadonlySet<string>,
  options: MappingOptions,
): NewWorkItem {
  const type = typeForLevel(types, level);
  if (!availableFields.has(FIELD.title)) {
    throw new UnsupportedProcessError(`The work item type ${type} has no ${FIELD.title} field`);
  }
  const id = node._id;
  if (typeof id !== 'string' || !id.trim()) throw new Error('An Ardoq node needs an _id');
  const title = typeof node.name === 'string' ? toTitle(node.name) : '';
  if (!title) throw new Error(`The Ardoq node ${id} has no name`);

  const fields: Record<string, string | number> = options.mapping
    ? mappedFields(node, level, availableFields, options.mapping)
    : defaultFields(node, availableFields);
  fields[FIELD.title] = title;

  const item: NewWorkItem = {
    type,
    fields,
    hyperlink: { url: ardoqComponentUrl(options.ardoqBaseUrl, id), comment: options.marker },
  };
  if (options.parentId !== undefined) item.parentId = options.parentId;
  return item;
}

/**
 * The fields the sync's mapping writes (WORKFLOW.md §6.6); the sync tag always heads the tags, since
 * overwrite mode deletes only the items that carry it. Throws MappingValueError for a value that
 * cannot be written (the item fails with that sentence).
 */
function mappedFields(
  node: Readonly<Record<string, unknown>>,
  level: ItemType,
  availableFields: ReadonlySet<string>,
  mapping: NonNullable<MappingOptions['mapping']>,
): Record<string, string | number> {
  const { fields } = applyCompiled(node, compiledFor(level, availableFields, mapping));
  if (availableFields.has(FIELD.tags))
    fields[FIELD.tags] = toTags(undefined, [SYNC_TAG, ...String(fields[FIELD.tags] ?? '').split(';')]);
  return fields;
}

interface CompiledEntry {
  fieldTypes: MappingFieldTypes | undefined;
  compiled: CompiledMappings;
}
type MappingFieldTypes = NonNullable<MappingOptions['mapping']>['fieldTypes'];

/**
 * The rows resolved against the type once, not once per item: kept per snapshot's rows, per field set
 * and level (callers pass the same objects for every item of a sync: the snapshot is cached per sync,
 * the field set per stored type), and rebuilt when the field types given with them differ.
 */
const compiledCache = new WeakMap<object, WeakMap<ReadonlySet<string>, Map<ItemType, CompiledEntry>>>();

function compiledFor(
  level: ItemType,
  availableFields: ReadonlySet<string>,
  mapping: NonNullable<MappingOptions['mapping']>,
): CompiledMappings {
  const rows = mapping.snapshot.mappings;
  let bySet = compiledCache.get(rows);
  if (!bySet) {
    bySet = new WeakMap();
    compiledCache.set(rows, bySet);
  }
  let byLevel = bySet.get(availableFields);
  if (!byLevel) {
    byLevel = new Map();
    bySet.set(availableFields, byLevel);
  }
  const known = byLevel.get(level);
  if (known && known.fieldTypes === mapping.fieldTypes) return known.compiled;
  const targets = new Map<string, TargetField>(
    [...availableFields].map((referenceName) => [
      referenceName,
      { referenceName, ...mapping.fieldTypes?.[referenceName] },
    ]),
  );
  const compiled = compileMappings(level, rows, targets);
  byLevel.set(level, { fieldTypes: mapping.fieldTypes, compiled });
  return compiled;
}

/** The built-in mapping of the syncs accepted before field mapping (DESIGN.md §5). */
function defaultFields(node: Readonly<Record<string, unknown>>, availableFields: ReadonlySet<string>) {
  const fields: Record<string, string | number> = {};
  const put = (field: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '' && availableFields.has(field)) fields[field] = value;
  };
  put(FIELD.description, htmlOf(node.description));
  put(FIELD.priority, toPriority(node.priority));
  put(FIELD.tags, toTags(node.componentKey, node.tags));
  put(FIELD.acceptanceCriteria, htmlOf(node.acceptanceCriteria));
  put(FIELD.risk, toRisk(node.risk));
  return fields;
}

function htmlOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? textToHtml(value.trim()) : undefined;
}
