import { createHash, randomUUID } from 'node:crypto';
import { projectNotFound, typeNotFound } from './errors.ts';
import { compareNames, findType, NO_PARENT_PROCESS, SYSTEM_PROCESSES, type TypeDef } from './processes.ts';
import type {
  InheritedProcessOptions,
  ProcessName,
  SimOperationStatus,
  SimProcess,
  SimProjectState,
  SimWorkItem,
} from './types.ts';

/**
 * Organization state: processes, projects (usable ones and those being created), project creation
 * operations, work items (live and in the recycle bin), id counter, tag dictionary.
 */

/** A process; `base` is the system process whose work item types its projects have. */
export interface ProcessRecord extends SimProcess {
  base: ProcessName;
}

export interface ProjectRecord {
  id: string;
  name: string;
  /** The system process whose work item types, fields and states the project has. */
  process: ProcessName;
  /** The process the project was created with (system, or inherited from `process`). */
  processRecord: ProcessRecord;
  description?: string;
  visibility: 'private' | 'public';
  sourceControlType: 'Git' | 'Tfvc';
  revision: number;
  lastUpdateTime: string;
  /** Creation order: the order of `GET /_apis/projects` and what its continuation tokens point into. */
  seq: number;
  /** Tag spellings known to the project: the first spelling of a tag wins, case-insensitively. */
  tags: Map<string, string>;
}

/** A project creation queued by `POST /_apis/projects`. */
export interface OperationRecord {
  id: string;
  project: ProjectRecord;
  /** Date.now() of the POST. */
  startedAt: number;
  /** Set when the creation is to fail (fault knob): its resultMessage. */
  failure?: string;
  /** Set once the delay has passed. */
  ended?: 'succeeded' | 'failed';
}

export interface NewProject {
  name: string;
  process: ProcessRecord;
  description?: string;
  visibility: 'private' | 'public';
  sourceControlType: 'Git' | 'Tfvc';
}

export interface ItemRecord extends SimWorkItem {
  rev: number;
}

/** The single identity every change is made by (the PAT's owner). */
export interface SimIdentity {
  displayName: string;
  url: string;
  _links: { avatar: { href: string } };
  id: string;
  uniqueName: string;
  imageUrl: string;
  descriptor: string;
}

/**
 * Deterministic id from a text, so project ids stay stable across restarts: a name-based (version 5,
 * SHA-1) RFC 4122 UUID, the shape Azure DevOps' own GUIDs have.
 */
export const guidOf = (text: string) => {
  const h = createHash('sha1').update(text).digest('hex');
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export class SimState {
  /** Usable (wellFormed) projects; those being created are in `creations` until their operation ends. */
  readonly projects: ProjectRecord[] = [];
  /** Operations of the creations under way, oldest first. */
  readonly creations: OperationRecord[] = [];
  readonly operations = new Map<string, OperationRecord>();
  readonly processes: ProcessRecord[] = SYSTEM_PROCESSES.map((p) => ({
    typeId: p.typeId,
    name: p.name,
    referenceName: null,
    description: p.description,
    parentProcessTypeId: NO_PARENT_PROCESS,
    isEnabled: true,
    isDefault: p.isDefault,
    customizationType: 'system',
    base: p.name,
  }));
  readonly items = new Map<number, ItemRecord>();
  readonly identity: SimIdentity;
  /** Delay from a project creation's POST until its operation ends; read whenever an operation is looked at. */
  projectCreateDelayMs = 1_500;
  /** Page size of `GET /_apis/projects` without `$top`; undefined: the service's 100. */
  projectPageSize: number | undefined;
  /** Largest page even with a larger `$top`; undefined: `$top` is honoured. */
  projectMaxPageSize: number | undefined;
  private nextId = 1;
  private nextSeq = 1;
  private nextRevision = 1;

  constructor(readonly baseUrl: string) {
    const id = guidOf('simulator-user');
    const descriptor = 'aad.c2ltdWxhdG9yLXVzZXI';
    this.identity = {
      displayName: 'ADO Simulator User',
      url: `${baseUrl}/_apis/Identities/${id}`,
      _links: { avatar: { href: `${baseUrl}/_apis/GraphProfile/MemberAvatars/${descriptor}` } },
      id,
      uniqueName: 'simulator.user@example.com',
      imageUrl: `${baseUrl}/_apis/GraphProfile/MemberAvatars/${descriptor}`,
      descriptor,
    };
  }

  /** A process by name (case-insensitively) or type id. */
  findProcess(nameOrTypeId: string): ProcessRecord | undefined {
    const wanted = nameOrTypeId.toLowerCase();
    return this.processes.find((p) => p.name.toLowerCase() === wanted || p.typeId === wanted);
  }

  addInheritedProcess(
    name: string,
    parentName: string,
    options: InheritedProcessOptions = {},
  ): ProcessRecord {
    const parent = this.findProcess(parentName);
    if (parent?.customizationType !== 'system')
      throw new Error(`addInheritedProcess: ${parentName} is not a system process`);
    if (!name.trim() || this.findProcess(name)) throw new Error(`addInheritedProcess: ${name} is taken`);
    const typeId = guidOf(`process:${name.toLowerCase()}`);
    const process: ProcessRecord = {
      typeId,
      name,
      // The service names inherited processes "Inherited.<typeId without dashes>".
      referenceName: `Inherited.${typeId.replace(/-/g, '')}`,
      description: options.description ?? '',
      parentProcessTypeId: parent.typeId,
      isEnabled: options.enabled ?? true,
      isDefault: false,
      customizationType: 'inherited',
      base: parent.base,
    };
    this.processes.push(process);
    return process;
  }

  private newProject(spec: NewProject): ProjectRecord {
    return {
      id: guidOf(`project:${spec.name.toLowerCase()}`),
      name: spec.name,
      process: spec.process.base,
      processRecord: spec.process,
      ...(spec.description !== undefined && { description: spec.description }),
      visibility: spec.visibility,
      sourceControlType: spec.sourceControlType,
      revision: this.nextRevision++,
      lastUpdateTime: new Date().toISOString(),
      seq: this.nextSeq++,
      tags: new Map<string, string>(),
    };
  }

  /** A usable project at once (the startup projects and `addProject()`). */
  addProject(name: string, processName: string): ProjectRecord {
    const process = this.findProcess(processName);
    if (!process) throw new Error(`addProject: unknown process ${processName}`);
    const existing = this.findProject(name);
    if (existing) {
      if (existing.processRecord !== process)
        throw new Error(`Project ${name} already exists with ${existing.processRecord.name}`);
      return existing;
    }
    if (this.pendingProject(name)) throw new Error(`Project ${name} is being created`);
    const project = this.newProject({ name, process, visibility: 'private', sourceControlType: 'Git' });
    this.projects.push(project);
    return project;
  }

  /** Queues a creation (`POST /_apis/projects`): the project is usable once its operation succeeded. */
  queueProjectCreation(spec: NewProject, failure?: string): OperationRecord {
    const operation: OperationRecord = {
      id: randomUUID(),
      project: this.newProject(spec),
      startedAt: Date.now(),
      ...(failure !== undefined && { failure }),
    };
    this.operations.set(operation.id, operation);
    this.creations.push(operation);
    return operation;
  }

  /** Ends the creations whose delay has passed: the project becomes usable, or is dropped if it failed. */
  settle(): void {
    if (this.creations.length === 0) return;
    const now = Date.now();
    for (const operation of [...this.creations]) {
      const endsAt = operation.startedAt + Math.max(0, this.projectCreateDelayMs);
      if (now < endsAt) continue;
      this.creations.splice(this.creations.indexOf(operation), 1);
      operation.ended = operation.failure === undefined ? 'succeeded' : 'failed';
      if (operation.ended === 'failed') continue;
      operation.project.lastUpdateTime = new Date(endsAt).toISOString();
      operation.project.revision = this.nextRevision++;
      this.projects.push(operation.project);
    }
  }

  /** queued for the first third of the delay, then inProgress, then how it ended. */
  operationStatus(operation: OperationRecord): SimOperationStatus {
    this.settle();
    if (operation.ended) return operation.ended;
    const elapsed = Date.now() - operation.startedAt;
    return elapsed < this.projectCreateDelayMs / 3 ? 'queued' : 'inProgress';
  }

  /** The project-state names of the contract: createPending while queued, new while being created. */
  projectState(project: ProjectRecord): SimProjectState {
    const operation = this.creations.find((o) => o.project === project);
    if (!operation) return 'wellFormed';
    return this.operationStatus(operation) === 'queued' ? 'createPending' : 'new';
  }

  private pendingProject(nameOrId: string): ProjectRecord | undefined {
    const wanted = nameOrId.toLowerCase();
    return this.creations.find((o) => o.project.name.toLowerCase() === wanted || o.project.id === wanted)
      ?.project;
  }

  /** A name in use, by a usable project or one being created (case-insensitively). */
  nameTaken(name: string): ProjectRecord | undefined {
    return this.findProject(name) ?? this.pendingProject(name);
  }

  /** Every project, those being created included, in creation order. */
  allProjects(): ProjectRecord[] {
    this.settle();
    return [...this.projects, ...this.creations.map((o) => o.project)].sort((a, b) => a.seq - b.seq);
  }

  /**
   * Usable projects only, by name (case-insensitively) or by id, as in the service's URLs: a project
   * being created is not found yet.
   */
  findProject(nameOrId: string): ProjectRecord | undefined {
    this.settle();
    const wanted = nameOrId.toLowerCase();
    return this.projects.find((p) => p.name.toLowerCase() === wanted || p.id === wanted);
  }

  project(nameOrId: string): ProjectRecord {
    const project = this.findProject(nameOrId);
    if (!project) throw projectNotFound(nameOrId);
    return project;
  }

  type(project: ProjectRecord, name: string): TypeDef {
    const type = findType(project.process, name);
    if (!type) throw typeNotFound(name);
    return type;
  }

  allocateId(): number {
    return this.nextId++;
  }

  /** A work item a client can see: not in the recycle bin (destroyed ones are gone from `items`). */
  live(id: number): ItemRecord | undefined {
    const item = this.items.get(id);
    return item && !item.deleted ? item : undefined;
  }

  /** ADO keeps tags as one string, "a; b": trimmed, de-duplicated case-insensitively, project spelling kept. */
  normaliseTags(project: ProjectRecord, raw: string): string {
    const seen = new Map<string, string>();
    for (const part of raw.split(';')) {
      const tag = part.trim();
      if (!tag || seen.has(tag.toLowerCase())) continue;
      const known = project.tags.get(tag.toLowerCase()) ?? tag;
      project.tags.set(tag.toLowerCase(), known);
      seen.set(tag.toLowerCase(), known);
    }
    return [...seen.values()].sort(compareNames).join('; ');
  }

  itemUrl(id: number): string {
    return `${this.baseUrl}/_apis/wit/workItems/${id}`;
  }

  webUrl(project: string, id: number): string {
    return `${this.baseUrl}/${encodeURIComponent(project)}/_workitems/edit/${id}`;
  }

  /** Snapshots for tests (they cannot change the simulator's state through them). */
  list(project: string | undefined, deleted: boolean): SimWorkItem[] {
    const wanted = project?.toLowerCase();
    return [...this.items.values()]
      .filter((i) => i.deleted === deleted && (!wanted || i.project.toLowerCase() === wanted))
      .sort((a, b) => a.id - b.id)
      .map((item) => this.snapshot(item));
  }

  snapshot({ id, project, type, fields, relations, createdAt, deleted }: ItemRecord): SimWorkItem {
    return structuredClone({ id, project, type, fields, relations, createdAt, deleted });
  }
}
