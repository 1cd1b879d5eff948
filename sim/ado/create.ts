import { badRequest, fieldNotFound, invalidFieldStatus, linkError, ruleError } from './errors.ts';
import { coerce } from './field-rules.ts';
import { FIELDS, type FieldDef, findField, type TypeDef } from './processes.ts';
import type { ItemRecord, ProjectRecord, SimState } from './state.ts';
import type { SimRelation } from './types.ts';

/** Work item creation: JSON Patch parsing and the work item type rules the service enforces. */

const PARENT = 'System.LinkTypes.Hierarchy-Reverse';
const CHILD = 'System.LinkTypes.Hierarchy-Forward';
const LINK_NAMES: Record<string, string> = {
  [PARENT]: 'Parent',
  [CHILD]: 'Child',
  'System.LinkTypes.Related': 'Related',
  Hyperlink: 'Hyperlink',
};
const TITLE_MAX = 255;

export interface CreateInput {
  values: Map<FieldDef, unknown>;
  relations: Array<{ rel: string; url: string; attributes: Record<string, unknown> }>;
}

const invalidPatch = () =>
  badRequest(
    'You must pass a valid patch document in the body of the request.',
    'VssPropertyValidationException',
  );

/** Reads a JSON Patch document for a create: `add` on `/fields/<name>` and `/relations/-` only. */
export function parseCreatePatch(type: TypeDef, body: unknown): CreateInput {
  if (!Array.isArray(body) || body.length === 0) throw invalidPatch();
  const input: CreateInput = { values: new Map(), relations: [] };
  for (const raw of body) {
    if (typeof raw !== 'object' || raw === null) throw invalidPatch();
    const { op, path, value } = raw as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof op !== 'string' || typeof path !== 'string') throw invalidPatch();
    if (op.toLowerCase() !== 'add') {
      throw badRequest(`The operation '${op}' is not supported when creating a work item: use 'add'.`);
    }
    const fieldMatch = /^\/fields\/(.+)$/i.exec(path);
    if (fieldMatch) {
      const name = fieldMatch[1] ?? '';
      const field = findField(type, name);
      if (!field) throw fieldNotFound(name);
      if (field.readOnly) throw invalidFieldStatus(field.referenceName, 'ReadOnly');
      input.values.set(field, value);
    } else if (/^\/relations\/-$/i.test(path)) {
      const rel = value as { rel?: unknown; url?: unknown; attributes?: unknown } | null;
      if (typeof rel?.rel !== 'string' || typeof rel.url !== 'string') {
        throw badRequest('A relation needs a "rel" and a "url".', 'WorkItemLinkValidationException');
      }
      const attributes = typeof rel.attributes === 'object' && rel.attributes !== null ? rel.attributes : {};
      input.relations.push({ rel: rel.rel, url: rel.url, attributes: attributes as Record<string, unknown> });
    } else {
      throw badRequest(
        `The path '${path}' is not valid for a work item: use /fields/<name> or /relations/-.`,
      );
    }
  }
  return input;
}

/** The title a patch sets, trimmed ('' when none): used to pick title-based faults before creating. */
export function titleOf(input: CreateInput): string {
  const title = input.values.get(FIELDS.title);
  return typeof title === 'string' || typeof title === 'number' ? String(title).trim() : '';
}

function checkTitle(input: CreateInput): string {
  const title = titleOf(input);
  if (!title)
    throw ruleError(
      'Title',
      'System.Title',
      'Required, HasValues, LimitedToValues, AllowsOldValue, InvalidEmpty',
    );
  if (title.length > TITLE_MAX) throw ruleError('Title', 'System.Title', 'InvalidTooLong');
  return title;
}

/** Resolves `{base}/_apis/wit/workItems/{id}` (optionally with a project segment) to a live work item. */
function linkedItem(state: SimState, url: string): ItemRecord {
  let id = Number.NaN;
  try {
    const parsed = new URL(url);
    const match = /\/_apis\/wit\/workitems\/(\d+)$/i.exec(parsed.pathname);
    if (parsed.origin === new URL(state.baseUrl).origin && match) id = Number(match[1]);
  } catch {
    // not a URL: reported below
  }
  if (Number.isNaN(id)) throw linkError('TF201063', `The link target URL '${url}' is not a work item URL.`);
  const item = state.live(id);
  if (!item) {
    throw linkError(
      'TF201035',
      `The work item link cannot be saved because work item ${id} does not exist or you do not have permission to read it.`,
    );
  }
  return item;
}

/** Validates a create and stores the new work item; `createdDate` lets seeding backdate it. */
export function createWorkItem(
  state: SimState,
  project: ProjectRecord,
  type: TypeDef,
  input: CreateInput,
  createdDate?: Date,
): ItemRecord {
  const title = checkTitle(input);
  const fields: Record<string, unknown> = {};
  for (const [field, value] of input.values) {
    const coerced = coerce(state, project, field, value);
    if (coerced !== undefined) fields[field.referenceName] = coerced;
  }
  const initial = type.states[0] ?? 'New';
  if (
    fields['System.State'] !== undefined &&
    String(fields['System.State']).toLowerCase() !== initial.toLowerCase()
  ) {
    throw ruleError('State', 'System.State', 'InvalidListValue');
  }

  const relations: SimRelation[] = [];
  const parents: ItemRecord[] = [];
  for (const r of input.relations) {
    const name = LINK_NAMES[r.rel];
    if (!name || r.rel === CHILD)
      throw linkError('TF201063', `The link type '${r.rel}' is not supported on create.`);
    if (r.rel === 'Hyperlink') {
      relations.push({ rel: r.rel, url: r.url, attributes: { ...r.attributes, isLocked: false, name } });
      continue;
    }
    const target = linkedItem(state, r.url);
    if (r.rel === PARENT) {
      if (parents.length > 0) {
        throw linkError(
          'TF201036',
          `You can only add one link of type '${name}' to a work item: it already has a parent (${parents[0]?.id}).`,
        );
      }
      parents.push(target);
    }
    relations.push({
      rel: r.rel,
      url: state.itemUrl(target.id),
      attributes: { ...r.attributes, isLocked: false, name },
    });
  }

  // Tags join the project's tag list only once the work item is saved.
  const tags = fields['System.Tags'];
  delete fields['System.Tags'];
  const normalisedTags = typeof tags === 'string' ? state.normaliseTags(project, tags) : '';
  if (normalisedTags) fields['System.Tags'] = normalisedTags;
  const id = state.allocateId();
  const now = createdDate ?? new Date();
  const item: ItemRecord = {
    id,
    rev: 1,
    project: project.name,
    type: type.name,
    createdAt: now,
    deleted: false,
    relations,
    fields: {
      'System.Id': id,
      'System.AreaPath': project.name,
      'System.TeamProject': project.name,
      'System.IterationPath': project.name,
      'System.WorkItemType': type.name,
      'System.State': initial,
      'System.Reason': 'New',
      'System.CreatedDate': now.toISOString(),
      'System.CreatedBy': state.identity,
      'System.ChangedDate': now.toISOString(),
      'System.ChangedBy': state.identity,
      'System.CommentCount': 0,
      ...defaults(type),
      ...fields,
      'System.Title': title,
      'System.Rev': 1,
    },
  };
  state.items.set(id, item);
  for (const parent of parents) {
    parent.relations.push({
      rel: CHILD,
      url: state.itemUrl(id),
      attributes: { isLocked: false, name: 'Child' },
    });
    parent.rev += 1;
    parent.fields['System.Rev'] = parent.rev;
    parent.fields['System.ChangedDate'] = now.toISOString();
  }
  return item;
}

function defaults(type: TypeDef): Record<string, unknown> {
  return Object.fromEntries(
    type.fields.filter((d) => d.defaultValue !== undefined).map((d) => [d.referenceName, d.defaultValue]),
  );
}
