import { compareNames, type FieldDef, type FieldKind, type TypeDef } from './processes.ts';
import type { ProcessRecord, SimState } from './state.ts';

/**
 * JSON shapes of fields and types as the service answers them: WorkItemField (`_apis/wit/fields`),
 * WorkItemTypeFieldInstance (a project's types and their fields), ProcessWorkItemType and
 * ProcessWorkItemTypeField (`_apis/work/processes/{id}/workItemTypes[/{ref}/fields]`).
 *
 * Shapes and values follow answers captured from a real organization in 2026 (REST 7.1, process routes at
 * 7.1-preview.2) where the documentation and the service differ; each difference is noted where it is made.
 */

/**
 * The service's FieldType name of a kind. An identity field is listed `string` with `isIdentity: true`
 * (System.AssignedTo, CreatedBy, ChangedBy in the capture), also by the process routes; the documented
 * `identity` FieldType was never seen for a stock field. No stock field is a picklist: fields limited by
 * an ALLOWEDVALUES rule (Priority, Risk, Value Area, Severity) are plain `integer`/`string`.
 */
export function fieldTypeOf(kind: FieldKind): string {
  return kind === 'identity' ? 'string' : kind;
}

type Operation = [referenceName: string | undefined, name: string];

// The operator lists are the capture's; "Not In" comes without a referenceName there.
const COMPARE: Operation[] = [
  ['Equals', '='],
  ['NotEquals', '<>'],
  ['GreaterThan', '>'],
  ['LessThan', '<'],
  ['GreaterThanEquals', '>='],
  ['LessThanEquals', '<='],
];
const IN: Operation[] = [
  ['In', 'In'],
  [undefined, 'Not In'],
];
const EVER: Operation[] = [['Ever', 'Was Ever']];
const FIELD_COMPARE: Operation[] = [
  ['EqualsField', '= [Field]'],
  ['NotEqualsField', '<> [Field]'],
  ['GreaterThanField', '> [Field]'],
  ['LessThanField', '< [Field]'],
  ['GreaterThanEqualsField', '>= [Field]'],
  ['LessThanEqualsField', '<= [Field]'],
];
const CONTAINS: Operation[] = [
  ['Contains', 'Contains'],
  ['NotContains', 'Does Not Contain'],
];
const WORDS: Operation[] = [
  ['ContainsWords', 'Contains Words'],
  ['NotContainsWords', 'Does Not Contain Words'],
];
const GROUP: Operation[] = [
  ['InGroup', 'In Group'],
  ['NotInGroup', 'Not In Group'],
];

function operationsOf(field: FieldDef): Operation[] {
  switch (field.kind) {
    case 'html':
    case 'history':
      return WORDS;
    case 'plainText':
      // Tags is the one plainText field queried with Contains.
      return field.referenceName === 'System.Tags' ? CONTAINS : WORDS;
    case 'treePath':
      return [['Under', 'Under'], ['NotUnder', 'Not Under'], ...COMPARE.slice(0, 2), ...IN];
    case 'dateTime':
      return [...COMPARE, ...IN, ...FIELD_COMPARE];
    case 'integer':
    case 'double':
      // Fields only the service sets (ID, Rev, Comment Count) cannot be asked "Was Ever".
      return [...COMPARE, ...IN, ...(field.readOnly ? [] : EVER), ...FIELD_COMPARE];
    default: {
      const words = field.referenceName === 'System.Title' ? WORDS : [];
      return [...COMPARE, ...CONTAINS, ...words, ...IN, ...GROUP, ...EVER, ...FIELD_COMPARE];
    }
  }
}

const operationJson = ([referenceName, name]: Operation) => ({
  ...(referenceName !== undefined && { referenceName: `SupportedOperations.${referenceName}` }),
  name,
});

/** Long text fields cannot be sorted on. */
const sortable = (kind: FieldKind) => kind !== 'html' && kind !== 'history' && kind !== 'plainText';

const fieldUrl = (state: SimState, field: FieldDef) =>
  `${state.baseUrl}/_apis/wit/fields/${field.referenceName}`;

/**
 * WorkItemField of `GET [{project}/]_apis/wit/fields`. `picklistId` is absent (not null) when `isPicklist`
 * is false, as captured; `description` is null for the simulator's fields (the service has help texts).
 */
export function workItemFieldJson(state: SimState, field: FieldDef): Record<string, unknown> {
  return {
    name: field.name,
    referenceName: field.referenceName,
    description: null,
    type: fieldTypeOf(field.kind),
    usage: 'workItem',
    readOnly: field.listReadOnly ?? field.readOnly ?? false,
    canSortBy: sortable(field.kind),
    isQueryable: true,
    supportedOperations: operationsOf(field).map(operationJson),
    isIdentity: field.kind === 'identity',
    isPicklist: false,
    isPicklistSuggested: false,
    isLocked: false,
    url: fieldUrl(state, field),
  };
}

/** What `$expand` on a type's fields asks for (WorkItemTypeFieldsExpandLevel). */
export interface FieldExpand {
  allowedValues: boolean;
  dependentFields: boolean;
}

export const NO_EXPAND: FieldExpand = { allowedValues: false, dependentFields: false };

/** `$expand` of `…/workitemtypes/{type}/fields`: None, AllowedValues, DependentFields or All. */
export function fieldExpand(raw: string | null): FieldExpand {
  const value = (raw ?? '').toLowerCase();
  return {
    allowedValues: value === 'allowedvalues' || value === 'all',
    dependentFields: value === 'dependentfields' || value === 'all',
  };
}

/**
 * The allowed values a type's field lists with `$expand=allowedValues`, as strings and sorted (the capture
 * listed State's as "Doing", "Done", "To do"): its rule's values, the type's states for State, the
 * project's types for Work Item Type, none otherwise.
 */
function allowedValuesOf(field: FieldDef, type: TypeDef, types: readonly TypeDef[]): string[] {
  let values: readonly (string | number)[] = field.allowedValues ?? [];
  if (field.referenceName === 'System.State') values = type.states;
  else if (field.referenceName === 'System.WorkItemType') values = types.map((t) => t.name);
  return values.map(String).sort(compareNames);
}

/**
 * WorkItemTypeFieldInstance. A type of `GET {project}/_apis/wit/workitemtypes[/{type}]` lists its fields
 * with `alwaysRequired`, `defaultValue` (a string, or null) and `helpText` (only when the field has one),
 * and no `allowedValues` nor `dependentFields`: the capture of a type (`$expand=all`) had neither. They
 * come with `…/workitemtypes/{type}/fields?$expand=allowedValues` (or `dependentFields`, `all`).
 */
export function fieldInstanceJson(
  state: SimState,
  projectId: string,
  field: FieldDef,
  type: TypeDef,
  types: readonly TypeDef[],
  expand: FieldExpand = NO_EXPAND,
): Record<string, unknown> {
  return {
    ...(expand.allowedValues && { allowedValues: allowedValuesOf(field, type, types) }),
    alwaysRequired: field.alwaysRequired ?? false,
    defaultValue: field.defaultValue === undefined ? null : String(field.defaultValue),
    ...(expand.dependentFields && { dependentFields: [] }),
    name: field.name,
    referenceName: field.referenceName,
    url: `${state.baseUrl}/${projectId}/_apis/wit/fields/${field.referenceName}`,
  };
}

/**
 * ProcessWorkItemType of `GET _apis/work/processes/{id}/workItemTypes` (the 7.1-preview.2 vocabulary:
 * `referenceName`, `customization`, `inherits`). An inherited process that has not customized a type lists
 * the parent's type unchanged, `customization: "system"` and `inherits: null`, as the capture of an
 * inherited process showed for its untouched types; only a customized (derived) type would read
 * `inherited`, and the simulator does not customize types.
 */
export function processTypeJson(
  state: SimState,
  process: ProcessRecord,
  type: TypeDef,
): Record<string, unknown> {
  return {
    color: type.color,
    customization: 'system',
    description: `${type.name} work item type of the ${process.base} process.`,
    icon: type.icon,
    inherits: null,
    isDisabled: false,
    name: type.name,
    referenceName: type.referenceName,
    url: `${state.baseUrl}/_apis/work/processes/${process.typeId}/workItemTypes/${type.referenceName}`,
  };
}

/**
 * ProcessWorkItemTypeField of `GET _apis/work/processes/{id}/workItemTypes/{ref}/fields`, with the keys the
 * service sends: `required` only when true and `defaultValue` (a string) only when set; `readOnly`,
 * `allowedValues` and `allowGroups` are documented but were absent from every captured row (System.Id
 * included), so the simulator leaves them out: `GET _apis/wit/fields` says which fields are read-only and
 * `…/workitemtypes/{type}/fields?$expand=allowedValues` gives allowed values. `customization` is `system`
 * for a stock field, in an inherited process too (see processTypeJson). The captured `url` of every row
 * pointed at the process's `behaviors` route, a fault of the service the simulator keeps.
 */
export function processFieldJson(
  state: SimState,
  process: ProcessRecord,
  field: FieldDef,
): Record<string, unknown> {
  return {
    customization: 'system',
    ...(field.defaultValue !== undefined && { defaultValue: String(field.defaultValue) }),
    isLocked: false,
    name: field.name,
    referenceName: field.referenceName,
    ...(field.alwaysRequired && { required: true }),
    type: fieldTypeOf(field.kind),
    url: `${state.baseUrl}/_apis/work/processes/${process.typeId}/behaviors`,
  };
}
