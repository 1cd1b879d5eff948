import { fieldInstanceJson } from './field-wire.ts';
import { PROCESSES, type TypeDef } from './processes.ts';
import {
  guidOf,
  type ItemRecord,
  type OperationRecord,
  type ProcessRecord,
  type ProjectRecord,
  type SimState,
} from './state.ts';

/** JSON shapes the service answers with (work items, types, fields, projects, operations, processes). */

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

const STATE_CATEGORY = (index: number, count: number, name: string) =>
  name === 'Removed'
    ? 'Removed'
    : index === 0
      ? 'Proposed'
      : index === count - 1
        ? 'Completed'
        : 'InProgress';

/** A project's work item type (WorkItemType), its fields as WorkItemTypeFieldInstance (field-wire.ts). */
export function typeJson(state: SimState, project: ProjectRecord, type: TypeDef): Record<string, unknown> {
  const types = PROCESSES[project.process];
  const fields = type.fields.map((field) => fieldInstanceJson(state, project.id, field, type, types));
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

/** TeamProjectReference, as `GET /_apis/projects` lists it. */
export function projectJson(state: SimState, project: ProjectRecord): Record<string, unknown> {
  return {
    id: project.id,
    name: project.name,
    ...(project.description !== undefined && { description: project.description }),
    url: `${state.baseUrl}/_apis/projects/${project.id}`,
    state: state.projectState(project),
    revision: project.revision,
    visibility: project.visibility,
    lastUpdateTime: project.lastUpdateTime,
  };
}

/** TeamProject, as `GET /_apis/projects/{project}` answers it (capabilities only when asked for). */
export function teamProjectJson(
  state: SimState,
  project: ProjectRecord,
  includeCapabilities: boolean,
): Record<string, unknown> {
  const url = `${state.baseUrl}/_apis/projects/${project.id}`;
  const teamId = guidOf(`team:${project.id}`);
  return {
    ...projectJson(state, project),
    ...(includeCapabilities && {
      capabilities: {
        versioncontrol: {
          sourceControlType: project.sourceControlType,
          gitEnabled: project.sourceControlType === 'Git' ? 'True' : 'False',
          tfvcEnabled: project.sourceControlType === 'Tfvc' ? 'True' : 'False',
        },
        processTemplate: {
          templateName: project.processRecord.name,
          templateTypeId: project.processRecord.typeId,
        },
      },
    }),
    _links: {
      self: { href: url },
      collection: { href: `${state.baseUrl}/_apis/projectCollections/${guidOf('collection')}` },
      web: { href: `${state.baseUrl}/${encodeURIComponent(project.name)}` },
    },
    defaultTeam: { id: teamId, name: `${project.name} Team`, url: `${url}/teams/${teamId}` },
  };
}

/** OperationReference (the 202 of a creation) or Operation (`GET /_apis/operations/{id}`). */
export function operationJson(
  state: SimState,
  operation: OperationRecord,
  full: boolean,
): Record<string, unknown> {
  const url = `${state.baseUrl}/_apis/operations/${operation.id}`;
  if (!full) return { id: operation.id, status: 'queued', url };
  const status = state.operationStatus(operation);
  return {
    id: operation.id,
    status,
    url,
    _links: { self: { href: url } },
    ...(status === 'failed' && { resultMessage: operation.failure }),
  };
}

/** ProcessInfo of `GET /_apis/work/processes`; `$expand=projects` adds the usable projects using it. */
export function processJson(
  state: SimState,
  process: ProcessRecord,
  expandProjects: boolean,
): Record<string, unknown> {
  const projects = state.projects
    .filter((p) => p.processRecord === process)
    .map((p) => ({
      id: p.id,
      name: p.name,
      ...(p.description !== undefined && { description: p.description }),
      url: `vstfs:///Classification/TeamProject/${p.id}`,
    }));
  return {
    typeId: process.typeId,
    name: process.name,
    referenceName: process.referenceName,
    description: process.description,
    ...(expandProjects && projects.length > 0 && { projects }),
    parentProcessTypeId: process.parentProcessTypeId,
    isEnabled: process.isEnabled,
    isDefault: process.isDefault,
    customizationType: process.customizationType,
  };
}

/** Process of the core area, `GET /_apis/process/processes` (what clients list templates with). */
export function coreProcessJson(state: SimState, process: ProcessRecord): Record<string, unknown> {
  const url = `${state.baseUrl}/_apis/process/processes/${process.typeId}`;
  return {
    id: process.typeId,
    description: process.description,
    isDefault: process.isDefault,
    type: process.customizationType,
    url,
    name: process.name,
    _links: { self: { href: url } },
  };
}
