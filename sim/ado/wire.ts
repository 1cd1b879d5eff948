import type { FieldDef, TypeDef } from './processes.ts';
import type { ItemRecord, ProjectRecord, SimState } from './state.ts';

/** JSON shapes the service answers with (work items, types, fields, projects). */

export interface WorkItemView {
  relations: boolean;
  links: boolean;
  /** Only these fields (reference names, case-insensitive); all when absent. */
  fields?: string[];
}

export function workItemJson(state: SimState, item: ItemRecord, view: WorkItemView): Record<string, unknown> {
  const url = state.itemUrl(item.id);
  let fields = item.fields;
  if (view.fields) {
    const wanted = new Set(view.fields.map((name) => name.toLowerCase()));
    fields = Object.fromEntries(
      Object.entries(item.fields).filter(([name]) => wanted.has(name.toLowerCase())),
    );
  }
  const json: Record<string, unknown> = { id: item.id, rev: item.rev, fields: structuredClone(fields) };
  // Links to work items in the recycle bin are not shown (they come back if the item is restored).
  const relations = item.relations.filter((r) => {
    const target = /\/_apis\/wit\/workItems\/(\d+)$/.exec(r.url)?.[1];
    return r.rel === 'Hyperlink' || target === undefined || state.live(Number(target)) !== undefined;
  });
  if (view.relations && relations.length > 0) json.relations = structuredClone(relations);
  if (view.links) {
    const typeUrl = `${state.baseUrl}/${encodeURIComponent(item.project)}/_apis/wit/workItemTypes/${encodeURIComponent(item.type)}`;
    json._links = {
      self: { href: url },
      workItemUpdates: { href: `${url}/updates` },
      workItemRevisions: { href: `${url}/revisions` },
      workItemComments: { href: `${url}/comments` },
      html: { href: state.webUrl(item.project, item.id) },
      workItemType: { href: typeUrl },
      fields: { href: `${state.baseUrl}/_apis/wit/fields` },
    };
  }
  json.url = url;
  return json;
}

export function fieldJson(state: SimState, field: FieldDef): Record<string, unknown> {
  return {
    defaultValue: field.defaultValue ?? null,
    allowedValues: (field.allowedValues ?? []).map(String),
    dependentFields: [],
    alwaysRequired: field.alwaysRequired ?? false,
    referenceName: field.referenceName,
    name: field.name,
    url: `${state.baseUrl}/_apis/wit/fields/${field.referenceName}`,
  };
}

const STATE_CATEGORY = (index: number, count: number, name: string) =>
  name === 'Removed'
    ? 'Removed'
    : index === 0
      ? 'Proposed'
      : index === count - 1
        ? 'Completed'
        : 'InProgress';

export function typeJson(state: SimState, project: ProjectRecord, type: TypeDef): Record<string, unknown> {
  const fields = type.fields.map((field) => fieldJson(state, field));
  const live = type.states.filter((name) => name !== 'Removed');
  return {
    name: type.name,
    referenceName: type.referenceName,
    description: `${type.name} work item type of the ${project.process} process.`,
    color: type.color,
    icon: {
      id: type.icon,
      url: `${state.baseUrl}/_apis/wit/workItemIcons/${type.icon}?color=${type.color}&v=2`,
    },
    isDisabled: false,
    fieldInstances: fields,
    fields,
    transitions: {},
    states: type.states.map((name, index) => ({
      name,
      color: index === 0 ? 'b2b2b2' : '007acc',
      category: STATE_CATEGORY(live.indexOf(name), live.length, name),
    })),
    url: `${state.baseUrl}/${project.id}/_apis/wit/workItemTypes/${encodeURIComponent(type.name)}`,
  };
}

export function projectJson(state: SimState, project: ProjectRecord): Record<string, unknown> {
  return {
    id: project.id,
    name: project.name,
    url: `${state.baseUrl}/_apis/projects/${project.id}`,
    state: 'wellFormed',
    revision: 1,
    visibility: 'private',
    lastUpdateTime: '2024-01-01T00:00:00.000Z',
  };
}
