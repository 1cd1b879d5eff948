import {
  type FieldMappingRow,
  MappingValueError,
  type TargetField,
  type Transform,
  type WorkItemLevel,
} from '#core/domain/field-mapping.ts';
import { READ_ONLY_FIELDS } from '#core/ports/work-item-tracker.ts';

/**
 * The per-node field mapping engine (WORKFLOW.md §6.6): reads each row's Ardoq value by the old lookup
 * order, runs it through a named transform and checks it fits the Azure DevOps field. Pure: no I/O.
 */

/** What applying a mapping to one node gives: the fields to write, and the rows left out with why. */
export interface AppliedMapping {
  fields: Record<string, string | number>;
  skipped: Array<{ azureDevOpsField: string; ardoqField: string; reason: string }>;
}

const TITLE = 'System.Title';
const TAGS = 'System.Tags';
const PRIORITY = 'Microsoft.VSTS.Common.Priority';
const RISK = 'Microsoft.VSTS.Common.Risk';
const ASSIGNED_TO = 'System.AssignedTo';
const HTML_FIELDS = ['System.Description', 'Microsoft.VSTS.Common.AcceptanceCriteria'];

/** Reference names a mapping may never target (read-only or set by Azure DevOps), plus System.Title (reserved). */
export const FORBIDDEN_TARGETS: ReadonlySet<string> = new Set([
  ...READ_ONLY_FIELDS,
  'System.AuthorizedAs',
  'System.TeamProject',
  'System.WorkItemType',
  'System.AreaId',
  'System.IterationId',
  'System.NodeName',
  TITLE,
]);
// Azure DevOps reference names are case-insensitive, so the checks are too.
const FORBIDDEN_LOWER = new Set([...FORBIDDEN_TARGETS].map((name) => name.toLowerCase()));

/** A `string` field holds at most this many characters (html and plainText fields hold far more). */
const MAX_STRING_FIELD_LENGTH = 255;
const MAX_LISTED_VALUES = 10;
const INT32_MAX = 2_147_483_647;

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** One row of a level, resolved against the target type once: what to write, or why it never can. */
type CompiledRow =
  | { row: FieldMappingRow; skip: string }
  | { row: FieldMappingRow; field: TargetField; transform: Transform; isTags: boolean; lookup: Lookup };

/**
 * The rows of one level resolved against one work item type's fields (see compileMappings): what does
 * not depend on the node is decided once per sync and type, not once per item.
 */
export interface CompiledMappings {
  readonly level: WorkItemLevel;
  readonly rows: readonly CompiledRow[];
}

/**
 * Resolves the rows of `level` against the target type's fields (reference name → field): the field
 * each row writes, its transform and how its Ardoq value is looked up; a row that can never write
 * (reserved or missing field, a transform that does not fit) keeps its reason. Pure.
 */
export function compileMappings(
  level: WorkItemLevel,
  mappings: readonly FieldMappingRow[],
  targetFields: ReadonlyMap<string, TargetField>,
): CompiledMappings {
  const rows: CompiledRow[] = [];
  for (const row of mappings) {
    if (row.workItemType !== level) continue;
    if (FORBIDDEN_LOWER.has(row.azureDevOpsField.toLowerCase())) {
      rows.push({ row, skip: 'reserved' });
      continue;
    }
    const field = findField(targetFields, row.azureDevOpsField);
    if (!field) {
      rows.push({ row, skip: `the work item type has no field ${row.azureDevOpsField}` });
      continue;
    }
    // An explicit transform that does not fit (older data: save time refuses it now) is left out; an
    // inferred one is the best guess for the field and is used as it is.
    if (row.transform && !transformFits(row.transform, field)) {
      rows.push({ row, skip: `the ${row.transform} transform cannot write a field of type ${field.type}` });
      continue;
    }
    rows.push({
      row,
      field,
      transform: row.transform ?? inferTransform(field),
      isTags: same(field.referenceName, TAGS),
      lookup: compileLookup(row.ardoqField, level),
    });
  }
  return { level, rows };
}

/**
 * Applies the rows of `level` to one raw Ardoq node (its keys as the sync request carries them: _id,
 * name, description, customFields {...}, _meta {...}, componentKey, tags, priority…). `targetFields`:
 * the fields the target Azure DevOps work item type has (reference name → field). Never writes
 * System.Title (the caller sets it from the name) nor any read-only/system field of the denylist.
 * Throws MappingValueError(field, sentence) for a value that cannot be written to its field.
 */
export function applyMappings(
  node: Readonly<Record<string, unknown>>,
  level: WorkItemLevel,
  mappings: readonly FieldMappingRow[],
  targetFields: ReadonlyMap<string, TargetField>,
): AppliedMapping {
  return applyCompiled(node, compileMappings(level, mappings, targetFields));
}

/** applyMappings with the rows already resolved (compileMappings): the per-item part. */
export function applyCompiled(
  node: Readonly<Record<string, unknown>>,
  compiled: CompiledMappings,
): AppliedMapping {
  const fields: Record<string, string | number> = {};
  const skipped: AppliedMapping['skipped'] = [];
  const view = new NodeView(node);
  let tags: { field: TargetField; names: string[] } | undefined;

  // No closure per row: this loop runs for every row of every item of a sync.
  for (const entry of compiled.rows) {
    const { row } = entry;
    if ('skip' in entry) {
      skipped.push(skippedRow(row, entry.skip));
      continue;
    }
    const { field, isTags } = entry;
    if (!isTags && Object.hasOwn(fields, field.referenceName)) {
      skipped.push(skippedRow(row, 'already written by an earlier row'));
      continue;
    }
    const value =
      compiled.level === 'feature' && row.ardoqField === 'description'
        ? featureDescription(view)
        : lookUp(view, entry.lookup);
    const written = value === undefined ? undefined : transformValue(entry.transform, value, field);
    if (written === undefined) {
      skipped.push(skippedRow(row, 'no value'));
    } else if (isTags) {
      tags ??= { field, names: [] };
      tags.names.push(...splitTagText(String(written)));
    } else {
      fields[field.referenceName] = written;
    }
  }
  if (tags) {
    const merged = uniqueTags(tags.names).join('; ');
    if (merged) fields[tags.field.referenceName] = checkWritable(merged, tags.field);
  }
  return { fields, skipped };
}

const skippedRow = (row: FieldMappingRow, reason: string) => ({
  azureDevOpsField: row.azureDevOpsField,
  ardoqField: row.ardoqField,
  reason,
});

function findField(targetFields: ReadonlyMap<string, TargetField>, name: string): TargetField | undefined {
  const exact = targetFields.get(name);
  if (exact) return exact;
  for (const [key, field] of targetFields) if (same(key, name)) return field;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Lookup (§6.6 step 2)

/** (b) Feature aliases in `customFields`, by the row's Ardoq field name (lower case). */
const FEATURE_ALIASES: Record<string, readonly string[]> = {
  description: ['context_description', 'description'],
  purpose: ['purpose'],
  input: ['input'],
  output: ['output_definition_of_done', 'output', 'definitionOfDone'],
  approach: ['approach'],
  priority: ['priority'],
};
/** (d) Paths under `_meta`; the user's name first (`lastModifiedBy` is an Ardoq user id). */
const META_PATHS: Record<string, readonly string[]> = {
  lastupdatedby: ['lastModifiedByName', 'lastModifiedBy', 'lastModifiedByEmail'],
  lastupdateddate: ['lastUpdated'],
};
/** (f) Other top-level names for a field. */
const TOP_LEVEL_ALIASES: Record<string, readonly string[]> = {
  description: ['desc'],
  acceptancecriteria: ['acceptance', 'criteria'],
  lastupdatedby: ['updatedBy', 'changedBy'],
  lastupdateddate: ['updatedDate', 'changedDate'],
};
/** (g) The editor's names for Ardoq custom fields that case conversion does not reach. */
const CUSTOM_FIELD_ALIASES: Record<string, readonly string[]> = {
  capabilitymaporder: ['capability_map_order_level_0'],
  context: ['context_description'],
};

/** A table's names for a field; `Object.hasOwn`, so a field named `constructor` finds none. */
function aliases(table: Readonly<Record<string, readonly string[]>>, key: string): readonly string[] {
  return Object.hasOwn(table, key) ? (table[key] ?? []) : [];
}

/** Where one Ardoq field is looked for, in the order of §6.6 step 2: everything but the node, worked out once. */
interface Lookup {
  /** (a) the exact key, then (e) in any case. */
  name: string;
  lower: string;
  /** (a) the dotted path, when the name has dots. */
  path?: readonly string[];
  /** (b) feature aliases in customFields (features only). */
  featureAliases: readonly string[];
  /** (c) customFields.priority. */
  priority: boolean;
  /** (d) paths under _meta. */
  meta: readonly string[];
  /** (f) other top-level names, lower case. */
  topAliases: readonly string[];
  /** (g) customFields names: exact, then in any case (lower case). */
  customNames: readonly string[];
  customLower: readonly string[];
}

function compileLookup(ardoqField: string, level: WorkItemLevel): Lookup {
  const name = ardoqField.trim();
  const lower = name.toLowerCase();
  const customNames = [name, toSnakeCase(name), toCamelCase(name), ...aliases(CUSTOM_FIELD_ALIASES, lower)];
  return {
    name,
    lower,
    ...(name.includes('.') ? { path: name.split('.') } : {}),
    featureAliases: level === 'feature' ? aliases(FEATURE_ALIASES, lower) : [],
    priority: lower === 'priority',
    meta: aliases(META_PATHS, lower),
    topAliases: aliases(TOP_LEVEL_ALIASES, lower).map((alias) => alias.toLowerCase()),
    customNames,
    customLower: customNames.map((n) => n.toLowerCase()),
  };
}

type Fields = Readonly<Record<string, unknown>>;

/** One node as the lookups read it: its customFields and _meta, and each record's keys by lower case (built on first use). */
class NodeView {
  readonly customFields: Fields | undefined;
  readonly meta: Fields | undefined;
  #nodeKeys: Map<string, string[]> | undefined;
  #customKeys: Map<string, string[]> | undefined;

  constructor(readonly node: Fields) {
    this.customFields = asRecord(own(node, 'customFields'));
    this.meta = asRecord(own(node, '_meta'));
  }

  /** The first non-empty value of a top-level key equal to `lower` in any case. */
  nodeIgnoringCase(lower: string): unknown {
    this.#nodeKeys ??= keysByLowerCase(this.node);
    return firstByKeys(this.node, this.#nodeKeys.get(lower));
  }

  /** The same in customFields. */
  customIgnoringCase(lower: string): unknown {
    if (!this.customFields) return undefined;
    this.#customKeys ??= keysByLowerCase(this.customFields);
    return firstByKeys(this.customFields, this.#customKeys.get(lower));
  }
}

function keysByLowerCase(record: Fields): Map<string, string[]> {
  const byLower = new Map<string, string[]>();
  for (const key of Object.keys(record)) {
    const lower = key.toLowerCase();
    const keys = byLower.get(lower);
    if (keys) keys.push(key);
    else byLower.set(lower, [key]);
  }
  return byLower;
}

function firstByKeys(record: Fields, keys: readonly string[] | undefined): unknown {
  for (const key of keys ?? []) {
    const value = record[key];
    if (!isEmpty(value)) return value;
  }
  return undefined;
}

/** The value of an Ardoq field on a node, by the lookup order of §6.6 step 2 ((a) to (g)); undefined when absent or empty. */
export function readArdoqValue(node: Fields, ardoqField: string, level: WorkItemLevel): unknown {
  return lookUp(new NodeView(node), compileLookup(ardoqField, level));
}

function lookUp(view: NodeView, lookup: Lookup): unknown {
  const { node, customFields } = view;
  const found = isPresent;
  // (a) exact key, then a dotted path (`customFields.priority`, `_meta.lastModifiedByName`)
  let value = own(node, lookup.name);
  if (found(value)) return value;
  if (lookup.path) {
    value = atPath(node, lookup.path);
    if (found(value)) return value;
  }
  // (b) feature aliases in customFields
  value = firstIn(customFields, lookup.featureAliases);
  if (found(value)) return value;
  // (c) priority lives in customFields at every level
  if (lookup.priority) {
    value = own(customFields, 'priority');
    if (found(value)) return value;
  }
  // (d) who and when, from _meta
  value = firstIn(view.meta, lookup.meta);
  if (found(value)) return value;
  // (e) top-level key in any case
  value = view.nodeIgnoringCase(lookup.lower);
  if (found(value)) return value;
  // (f) aliases (any case)
  for (const alias of lookup.topAliases) {
    value = view.nodeIgnoringCase(alias);
    if (found(value)) return value;
  }
  // (g) customFields by camelCase ↔ snake_case, and the editor's names; then in any case
  value = firstIn(customFields, lookup.customNames);
  if (found(value)) return value;
  for (const lower of lookup.customLower) {
    value = view.customIgnoringCase(lower);
    if (found(value)) return value;
  }
  return undefined;
}

const FEATURE_SECTIONS = (
  [
    ['Purpose', 'purpose'],
    ['Input', 'input'],
    ['Output (Definition of Done)', 'output'],
    ['Approach', 'approach'],
  ] as const
).map(([label, name]) => ({ label, lookup: compileLookup(name, 'feature') }));

/**
 * §6.6 step 3: a feature's description is its main text then, after a blank line, one line per section
 * present ("Purpose: …", "Input: …", "Output (Definition of Done): …", "Approach: …").
 */
function featureDescription(view: NodeView): string | undefined {
  const { node, customFields } = view;
  let main: unknown;
  for (const value of [
    own(customFields, 'context_description'),
    own(customFields, 'description'),
    own(node, 'description'),
    own(node, 'context'),
  ]) {
    if (!isEmpty(value)) {
      main = value;
      break;
    }
  }
  const sections = FEATURE_SECTIONS.flatMap(({ label, lookup }) => {
    const value = lookUp(view, lookup);
    return value === undefined ? [] : [`${label}: ${asText(value)}`];
  });
  const parts = [main === undefined ? '' : asText(main), sections.join('\n')].filter((part) => part !== '');
  return parts.length ? parts.join('\n\n') : undefined;
}

const isPresent = (value: unknown): boolean => !isEmpty(value);

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** The first non-empty value among a record's own keys, in order. */
function firstIn(record: Fields | undefined, keys: readonly string[]): unknown {
  if (!record) return undefined;
  for (const key of keys) {
    const value = own(record, key);
    if (!isEmpty(value)) return value;
  }
  return undefined;
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** An own property only: a field named `constructor` must not find Object's. */
function own(record: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

function atPath(record: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let current: unknown = record;
  for (const segment of path) current = own(asRecord(current), segment);
  return current;
}

function toSnakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function toCamelCase(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

// ---------------------------------------------------------------------------------------------------
// Transforms (§6.6 step 4)

const NUMERIC_TYPES = ['integer', 'double', 'picklistInteger', 'picklistDouble'];
const INTEGER_TYPES = ['integer', 'picklistInteger'];

/** The transform used when a row names none: inferred from the target field (§6.6 table, last column). */
export function inferTransform(field: TargetField): Transform {
  const name = field.referenceName;
  const type = field.type;
  if (same(name, PRIORITY)) return 'priority';
  if (same(name, TAGS)) return 'tags';
  if (same(name, RISK)) return 'risk';
  if (same(name, ASSIGNED_TO) || type === 'identity') return 'identity';
  if (type === 'html' || HTML_FIELDS.some((html) => same(name, html))) return 'html';
  // The name only decides when the type is unknown: a known type is the better witness.
  if (type === 'dateTime' || (type === undefined && name.includes('Date'))) return 'date';
  if (type !== undefined && NUMERIC_TYPES.includes(type)) return 'number';
  return 'text';
}

/** Whether a transform can write into a field of that type (used at save time to refuse a row). */
export function transformFits(transform: Transform, field: TargetField): boolean {
  const { referenceName: name, type } = field;
  if (type === undefined) return true;
  switch (transform) {
    case 'priority':
      return INTEGER_TYPES.includes(type) || same(name, PRIORITY);
    case 'tags':
      return same(name, TAGS);
    case 'date':
      return type === 'dateTime';
    case 'identity':
      return type === 'identity' || same(name, ASSIGNED_TO);
    case 'risk':
      return type === 'string' || type === 'picklistString' || same(name, RISK);
    case 'html':
      return type === 'html' || type === 'string' || type === 'plainText';
    case 'text':
      return type === 'string' || type === 'plainText' || type === 'html' || type === 'picklistString';
    case 'number':
      return NUMERIC_TYPES.includes(type);
  }
}

/** One value through one transform for one field: a writable value, undefined to skip, or MappingValueError. */
export function transformValue(
  transform: Transform,
  value: unknown,
  field: TargetField,
): string | number | undefined {
  if (isEmpty(value)) return undefined;
  const fail = failFor(field);
  let written: string | number | undefined;
  switch (transform) {
    case 'priority':
      written =
        toPriorityNumber(value) ??
        fail(`${show(value)} is not a priority: use 1–4 or critical/high/medium/low`);
      break;
    case 'tags': {
      const joined = uniqueTags(tagNames(value)).join('; ');
      written = joined || undefined;
      break;
    }
    case 'date':
      written =
        toIsoDate(value) ??
        fail(`${show(value)} is not a date: use an ISO-8601 date such as 2025-03-31, or epoch milliseconds`);
      break;
    case 'identity':
      written = toIdentity(value);
      break;
    case 'risk':
      written = toRiskValue(value, field) ?? fail(`${show(value)} is not a risk: use 1–3 or high/medium/low`);
      break;
    case 'html':
      written = escapeHtmlText(asText(value)).replace(/\r\n|\r|\n/g, '<br>');
      break;
    case 'text':
      written = asText(value);
      break;
    case 'number':
      written = toNumber(value, field, fail);
      break;
  }
  return written === undefined || written === '' ? undefined : checkWritable(written, field);
}

/** Throws the MappingValueError of a field; one per field, not one closure per value. */
const failures = new WeakMap<TargetField, (reason: string) => never>();
function failFor(field: TargetField): (reason: string) => never {
  let fail = failures.get(field);
  if (!fail) {
    fail = (reason: string): never => {
      throw new MappingValueError(field.referenceName, reason);
    };
    failures.set(field, fail);
  }
  return fail;
}

/** The checks every value passes last: the field's allowed values, and a `string` field's length. */
function checkWritable(value: string | number, field: TargetField): string | number {
  const allowed = field.allowedValues ?? [];
  // Azure DevOps lists no allowed values for an unrestricted field: an empty list restricts nothing.
  if (allowed.length && !allowed.includes(String(value))) {
    const listed = allowed.slice(0, MAX_LISTED_VALUES).map((allowedValue) => `'${allowedValue}'`);
    const more = allowed.length > MAX_LISTED_VALUES ? ` and ${allowed.length - MAX_LISTED_VALUES} more` : '';
    throw new MappingValueError(
      field.referenceName,
      `${show(value)} is not one of ${listed.join(', ')}${more}`,
    );
  }
  if (field.type === 'string' && typeof value === 'string' && value.length > MAX_STRING_FIELD_LENGTH) {
    throw new MappingValueError(
      field.referenceName,
      `${show(value)} is longer than ${MAX_STRING_FIELD_LENGTH} characters (${value.length})`,
    );
  }
  return value;
}

/** A value as the error sentence quotes it, cut short. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? value : asText(value);
  return `'${text.length > 60 ? `${text.slice(0, 59)}…` : text}'`;
}

/** Objects and arrays as JSON, dates as ISO-8601, other values as strings; trimmed. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeHtmlText(text: string): string {
  return text.replace(/[&<>"]/g, (character) => HTML_ESCAPES[character] ?? character);
}

const PRIORITY_WORDS: ReadonlyArray<readonly [string, number]> = [
  ['critical', 1],
  ['high', 2],
  ['med', 3],
  ['low', 4],
];

function toPriorityNumber(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 1 && value <= 4 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (/^[1-4]$/.test(text)) return Number(text);
  return PRIORITY_WORDS.find(([word]) => text.includes(word))?.[1];
}

const RISK_VALUES = ['1 - High', '2 - Medium', '3 - Low'] as const;
const RISK_WORDS = ['high', 'medium', 'low'] as const;

/**
 * 1/2/3, high/medium/low or the full value → "1 - High"/"2 - Medium"/"3 - Low"; a field that lists only
 * "High"/"Medium"/"Low" (a custom picklist) gets those instead.
 */
function toRiskValue(value: unknown, field: TargetField): string | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const lower = text.toLowerCase();
  const index = [0, 1, 2].find(
    (i) => lower === String(i + 1) || lower === RISK_WORDS[i] || lower === RISK_VALUES[i]?.toLowerCase(),
  );
  if (index === undefined) return undefined;
  const full = RISK_VALUES[index] as string;
  const word = RISK_WORDS[index] as string;
  const allowed = field.allowedValues ?? [];
  if (!allowed.length || allowed.includes(full)) return full;
  return allowed.find((allowedValue) => same(allowedValue, word)) ?? full;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Date, ISO-8601 string or epoch milliseconds → ISO-8601 (UTC); undefined when it is not one. */
function toIsoDate(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'number') {
    const date = new Date(value);
    return Number.isFinite(value) && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = ISO_DATE.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  // Date.parse rolls 2025-02-30 over to March: check the calendar first.
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth) return undefined;
  if (Number(hour ?? 0) > 23 || Number(minute ?? 0) > 59 || Number(second ?? 0) > 59) return undefined;
  // Without an offset the time is read as UTC, never as the machine's local time.
  const zone = !offset || /^z$/i.test(offset) ? 'Z' : offset.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const time = hour === undefined ? '00:00:00' : `${hour}:${minute}:${second ?? '00'}${fraction ?? ''}`;
  const parsed = Date.parse(`${year}-${month}-${day}T${time}${zone}`);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}

/** A person: a name or email as given; an identity object by its unique name, email or display name. */
function toIdentity(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  const record = asRecord(value);
  const name = firstIn(record, ['uniqueName', 'email', 'displayName', 'name']);
  return typeof name === 'string' ? name.trim() : undefined;
}

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

function toNumber(value: unknown, field: TargetField, fail: (reason: string) => never): number {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && NUMBER_TEXT.test(value.trim())
        ? Number(value.trim())
        : Number.NaN;
  if (!Number.isFinite(number)) return fail(`${show(value)} is not a number`);
  if (field.type !== undefined && INTEGER_TYPES.includes(field.type)) {
    if (!Number.isInteger(number)) return fail(`${show(value)} is not a whole number`);
    if (Math.abs(number) > INT32_MAX) return fail(`${show(value)} is out of range for a whole-number field`);
  }
  return number;
}

/** Tag names of a value: array items (strings, numbers, `{ name }`) or a string split on `;`/`,`. */
function tagNames(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      const name = typeof item === 'object' && item !== null ? own(asRecord(item), 'name') : item;
      // `;` separates tags in Azure DevOps: inside one tag it becomes `,`, as the default mapping does.
      return typeof name === 'string' || typeof name === 'number' ? [String(name).replaceAll(';', ',')] : [];
    });
  }
  if (typeof value === 'string') return value.split(/[;,]/);
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  const name = own(asRecord(value), 'name');
  return typeof name === 'string' ? [name] : [];
}

function splitTagText(text: string): string[] {
  return text.split(';');
}

/** Trimmed, empty ones dropped, de-duplicated case-insensitively (the first spelling wins). */
function uniqueTags(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const name of names) {
    const tag = name.trim();
    const key = tag.toLowerCase();
    if (!tag || seen.has(key)) continue;
    seen.add(key);
    result.push(tag);
  }
  return result;
}
