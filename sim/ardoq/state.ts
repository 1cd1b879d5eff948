import { MODEL_FIELDS, MODEL_TYPES, REFERENCE_TYPES, type TypeDef } from './model.ts';
import { oid, typeIdOf } from './random.ts';
import type { NewArdoqComponent } from './types.ts';

/**
 * The organization's state: workspaces in creation order, each with its components in wire order, kept as
 * compact records (shared strings and custom-field objects) and turned into Ardoq JSON one page at a time
 * (wire.ts), so that a 50,000-component workspace stays light.
 */

export interface SimUser {
  _id: string;
  name: string;
  email: string;
}

export interface TypeRecord extends TypeDef {
  id: string;
}

export interface ComponentRecord {
  _id: string;
  name: string;
  type: TypeRecord;
  parent: string | null;
  rootWorkspace: string;
  description: string;
  componentKey: string;
  /** May be shared between generated components: never mutated, copied on the wire. */
  customFields: Readonly<Record<string, unknown>>;
  /** When set, answered as customFields.capability_map_order_level_0 (generated components share the rest). */
  order?: number;
  created: string;
  lastUpdated: string;
  /** Index into `SimState.users`: who created and last changed it. */
  author: number;
  version: number;
}

export interface WorkspaceRecord {
  _id: string;
  name: string;
  description: string;
  componentModel: string;
  created: string;
  lastUpdated: string;
  version: number;
  types: TypeRecord[];
  /** Components in wire order. */
  items: ComponentRecord[];
  keyPrefix: string;
  nextKey: number;
}

/** When the seeded organization was made: ids and dates derive from it, never from the clock. */
export const EPOCH_MS = Date.UTC(2024, 0, 15, 9, 0, 0);
const DAY_MS = 86_400_000;

export const isoAt = (ms: number) => new Date(ms).toISOString();

/** A key prefix from a workspace name: its first four letters or digits, upper case ("Demo Planning" → DEMO). */
export const keyPrefixOf = (name: string) =>
  name
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 4)
    .toUpperCase() || 'WS';

export class SimState {
  readonly workspaces: WorkspaceRecord[] = [];
  readonly workspaceById = new Map<string, WorkspaceRecord>();
  readonly componentById = new Map<string, ComponentRecord>();
  readonly users: SimUser[];
  private added = 0;

  constructor(readonly seed: number) {
    const user = (n: number, name: string, email: string) => ({
      _id: oid(EPOCH_MS - 400 * DAY_MS, seed, 'user', n),
      name,
      email,
    });
    this.users = [
      user(0, 'Ada Planner', 'ada.planner@example.com'),
      user(1, 'Ben Architect', 'ben.architect@example.com'),
      user(2, 'Chloe Owner', 'chloe.owner@example.com'),
    ];
  }

  /** `key` makes the ids: the same seed and key give the same workspace, model and type ids. */
  createWorkspace(key: string, name: string, description: string, createdMs = EPOCH_MS): WorkspaceRecord {
    const componentModel = oid(createdMs, this.seed, 'model', key);
    const workspace: WorkspaceRecord = {
      _id: oid(createdMs, this.seed, 'workspace', key),
      name,
      description,
      componentModel,
      created: isoAt(createdMs),
      lastUpdated: isoAt(createdMs + 30 * DAY_MS),
      version: 1,
      types: MODEL_TYPES.map((type) => ({ ...type, id: typeIdOf(componentModel, type.name) })),
      items: [],
      keyPrefix: keyPrefixOf(name),
      nextKey: 1,
    };
    if (this.workspaceById.has(workspace._id))
      throw new Error(`Workspace id ${workspace._id} already exists`);
    this.workspaces.push(workspace);
    this.workspaceById.set(workspace._id, workspace);
    return workspace;
  }

  /** A workspace added through the API of the simulator (not seeded): its ids follow a counter. */
  addWorkspace(name: string, description = ''): WorkspaceRecord {
    this.added += 1;
    return this.createWorkspace(`added:${this.added}`, name, description, EPOCH_MS + 60 * DAY_MS);
  }

  nextAddedKey(): number {
    this.added += 1;
    return this.added;
  }

  workspace(id: string): WorkspaceRecord {
    const workspace = this.workspaceById.get(id);
    if (!workspace) throw new Error(`Unknown workspace ${id}`);
    return workspace;
  }

  type(workspace: WorkspaceRecord, name: string, level = 0): TypeRecord {
    let type = workspace.types.find((t) => t.name === name);
    if (!type) {
      type = {
        name,
        level,
        color: '#808080',
        icon: 'fa-circle',
        id: typeIdOf(workspace.componentModel, name),
      };
      workspace.types.push(type);
    }
    return type;
  }

  nextComponentKey(workspace: WorkspaceRecord): string {
    const key = `${workspace.keyPrefix}-${workspace.nextKey}`;
    workspace.nextKey += 1;
    return key;
  }

  /** Registers a record made by a seeder (records are appended in wire order by the caller). */
  register(workspace: WorkspaceRecord, record: ComponentRecord): ComponentRecord {
    if (this.componentById.has(record._id)) throw new Error(`Component id ${record._id} already exists`);
    workspace.items.push(record);
    this.componentById.set(record._id, record);
    return record;
  }

  /** A component added through the simulator's API, at the end of the wire order. */
  addComponent(workspace: WorkspaceRecord, input: NewArdoqComponent): ComponentRecord {
    if (!input.name) throw new Error('addComponent needs a name');
    if (!input._id) this.added += 1;
    const createdMs = EPOCH_MS + 60 * DAY_MS + this.added * 1000;
    const id = input._id ?? oid(createdMs, this.seed, 'component', 'added', this.added);
    if (!/^[0-9a-f]{24}$/.test(id)) throw new Error(`addComponent: ${id} is not a 24-hex Ardoq id`);
    return this.register(workspace, {
      _id: id,
      name: input.name,
      type: this.type(workspace, input.type, input.typeLevel ?? 0),
      parent: input.parent ?? null,
      rootWorkspace: workspace._id,
      description: input.description ?? '',
      componentKey: input.componentKey ?? this.nextComponentKey(workspace),
      customFields: { ...(input.customFields ?? {}) },
      created: isoAt(createdMs),
      lastUpdated: isoAt(createdMs),
      author: 0,
      version: 1,
    });
  }

  fieldsOf(workspace: WorkspaceRecord): Array<Record<string, unknown>> {
    return MODEL_FIELDS.map((field) => ({
      _id: oid(Date.parse(workspace.created), this.seed, 'field', workspace.componentModel, field.name),
      name: field.name,
      label: field.label,
      type: field.type,
      global: false,
      componentType: workspace.types.filter((t) => field.on.includes(t.name)).map((t) => t.id),
      referenceType: [],
    }));
  }

  /** Ardoq numbers the reference types of a model. */
  referenceTypes(): Array<Record<string, unknown>> {
    return REFERENCE_TYPES.map((name, index) => ({ id: index + 2, name }));
  }
}
