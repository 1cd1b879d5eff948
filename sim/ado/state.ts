import { createHash } from 'node:crypto';
import { projectNotFound, typeNotFound } from './errors.ts';
import { findType, type TypeDef } from './processes.ts';
import type { ProcessName, SimWorkItem } from './types.ts';

/** Organization state: projects, work items (live and in the recycle bin), id counter, tag dictionary. */

export interface ProjectRecord {
  id: string;
  name: string;
  process: ProcessName;
  /** Tag spellings known to the project: the first spelling of a tag wins, case-insensitively. */
  tags: Map<string, string>;
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

/** Deterministic GUID-shaped id from a text, so project ids stay stable across restarts. */
const guidOf = (text: string) => {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export class SimState {
  readonly projects: ProjectRecord[] = [];
  readonly items = new Map<number, ItemRecord>();
  readonly identity: SimIdentity;
  private nextId = 1;

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

  addProject(name: string, process: ProcessName): ProjectRecord {
    const existing = this.findProject(name);
    if (existing) {
      if (existing.process !== process)
        throw new Error(`Project ${name} already exists with ${existing.process}`);
      return existing;
    }
    const project = {
      id: guidOf(`project:${name.toLowerCase()}`),
      name,
      process,
      tags: new Map<string, string>(),
    };
    this.projects.push(project);
    return project;
  }

  /** Projects are found by name (case-insensitively) or by id, as in the service's URLs. */
  findProject(nameOrId: string): ProjectRecord | undefined {
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
    return [...seen.values()].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })).join('; ');
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
