import type { ComponentRecord, SimState, SimUser, WorkspaceRecord } from './state.ts';
import type { ArdoqComponentJson, ArdoqWorkspaceJson } from './types.ts';

/** JSON shapes the API answers with, built from the compact records one page at a time. */

export function componentJson(state: SimState, record: ComponentRecord): ArdoqComponentJson {
  const user = state.users[record.author] ?? (state.users[0] as SimUser);
  const customFields: Record<string, unknown> = structuredClone(record.customFields) as Record<
    string,
    unknown
  >;
  if (record.order !== undefined) customFields.capability_map_order_level_0 = record.order;
  return {
    _id: record._id,
    name: record.name,
    type: record.type.name,
    typeId: record.type.id,
    parent: record.parent,
    rootWorkspace: record.rootWorkspace,
    description: record.description,
    componentKey: record.componentKey,
    customFields,
    _meta: {
      created: record.created,
      createdBy: user._id,
      lastUpdated: record.lastUpdated,
      lastModifiedBy: user._id,
      lastModifiedByName: user.name,
      lastModifiedByEmail: user.email,
    },
    color: record.type.color,
    icon: record.type.icon,
    shape: null,
    image: null,
    _version: record.version,
  };
}

export function workspaceJson(workspace: WorkspaceRecord): ArdoqWorkspaceJson {
  return {
    _id: workspace._id,
    name: workspace.name,
    description: workspace.description,
    componentModel: workspace.componentModel,
    _meta: { created: workspace.created, lastUpdated: workspace.lastUpdated },
    _version: workspace.version,
  };
}

/** `GET /api/v2/workspaces/{id}/context`: the workspace's metamodel (types with levels, fields). */
export function contextJson(state: SimState, workspace: WorkspaceRecord): Record<string, unknown> {
  return {
    _id: workspace._id,
    name: workspace.name,
    componentModel: workspace.componentModel,
    componentTypes: workspace.types.map((t) => ({ id: t.id, name: t.name, level: t.level })),
    referenceTypes: state.referenceTypes(),
    fields: state.fieldsOf(workspace),
  };
}
