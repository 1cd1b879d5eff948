import { randomUUID } from 'node:crypto';
import {
  AdoAuthError,
  type AdoOperation,
  type AdoProcess,
  type AdoProject,
  type AdoProjectDetails,
  AdoRejectedError,
  AdoTransientError,
  type CreatedWorkItem,
  type CreateWorkItemOptions,
  type FieldDefinition,
  type Hyperlink,
  type IdentityRef,
  type NewAdoProject,
  type NewWorkItem,
  type ProcessTypeInfo,
  READ_ONLY_FIELDS,
  type WorkItemDetails,
  type WorkItemSearch,
  type WorkItemTracker,
  type WorkItemTrackerFactory,
  type WorkItemTypeInfo,
} from '#core/ports/work-item-tracker.ts';

/**
 * An in-memory Azure DevOps organization behind the `WorkItemTracker` port, for unit tests. It behaves
 * like the REST adapter talking to the real service (FACTS.md, DESIGN.md §5) and passes the same contract
 * suite (test/support/tracker-contract.ts); on top it scripts failures and counts calls.
 */

export type FakeProcess = 'Agile' | 'Scrum' | 'CMMI' | 'Basic';
export type TrackerMethod = keyof WorkItemTracker;

/** A work item as the fake stores it (a snapshot: changing it changes nothing). */
export interface FakeWorkItem {
  id: number;
  project: string;
  type: string;
  title: string;
  /** Reference name → value, as written (tags excluded: see `tags`). */
  fields: Record<string, string | number>;
  tags: string[];
  parentId?: number;
  hyperlinks: Hyperlink[];
  createdAt: Date;
  deleted: boolean;
}

export interface FakeTrackerOptions {
  /** Organization base URL of web links; default `https://dev.azure.com/fake-org`. */
  baseUrl?: string;
  /** Default: one project per process, named as in the simulator ("Agile Project", ...). */
  projects?: Array<{ name: string; process: FakeProcess }>;
  /** Time of `createdAt` (and so of `createdSince` searches); default the system clock. */
  now?: () => Date;
}

const PRIORITY = 'Microsoft.VSTS.Common.Priority';
const ACCEPTANCE = 'Microsoft.VSTS.Common.AcceptanceCriteria';
const RISK = 'Microsoft.VSTS.Common.Risk';
const VALUE_AREA = 'Microsoft.VSTS.Common.ValueArea';
const BUSINESS_VALUE = 'Microsoft.VSTS.Common.BusinessValue';
const SEVERITY = 'Microsoft.VSTS.Common.Severity';
const ACTIVITY = 'Microsoft.VSTS.Common.Activity';
const EFFORT = 'Microsoft.VSTS.Scheduling.Effort';
const STORY_POINTS = 'Microsoft.VSTS.Scheduling.StoryPoints';
const REMAINING = 'Microsoft.VSTS.Scheduling.RemainingWork';
const REPRO = 'Microsoft.VSTS.TCM.ReproSteps';
const DUE = 'Microsoft.VSTS.Scheduling.DueDate';

/** Fields the service sets itself. */
const SERVICE_FIELDS = [
  'System.Id',
  'System.Rev',
  'System.WorkItemType',
  'System.TeamProject',
  'System.CreatedBy',
  'System.CreatedDate',
  'System.ChangedBy',
  'System.ChangedDate',
  'System.CommentCount',
];
const COMMON = [
  ...SERVICE_FIELDS,
  'System.Title',
  'System.Description',
  'System.Tags',
  'System.State',
  'System.Reason',
  'System.AreaPath',
  'System.IterationPath',
  'System.AssignedTo',
  'System.History',
];
const ALLOWED: Record<string, readonly (string | number)[]> = {
  [PRIORITY]: [1, 2, 3, 4],
  [RISK]: ['1 - High', '2 - Medium', '3 - Low'],
  [VALUE_AREA]: ['Architectural', 'Business'],
};
const INTEGER_FIELDS = new Set([PRIORITY, BUSINESS_VALUE]);
/** Azure DevOps' field types (`wit/fields`) of the fields the fake knows; the rest are `string`. */
const FIELD_TYPES: Record<string, string> = {
  'System.Id': 'integer',
  'System.Rev': 'integer',
  'System.CommentCount': 'integer',
  'System.CreatedDate': 'dateTime',
  'System.ChangedDate': 'dateTime',
  'System.Description': 'html',
  'System.Tags': 'plainText',
  'System.History': 'history',
  'System.AreaPath': 'treePath',
  'System.IterationPath': 'treePath',
  [ACCEPTANCE]: 'html',
  [REPRO]: 'html',
  [PRIORITY]: 'integer',
  [BUSINESS_VALUE]: 'integer',
  [EFFORT]: 'double',
  [STORY_POINTS]: 'double',
  [REMAINING]: 'double',
  [DUE]: 'dateTime',
};

// Type → fields beyond COMMON, as the stock processes define them. AcceptanceCriteria sits on the
// backlog-item level (and Feature in Agile/Scrum); Basic has none.
const TEST_TYPES: Record<string, string[]> = { 'Test Case': [PRIORITY], 'Test Plan': [], 'Test Suite': [] };
const PROCESSES: Record<FakeProcess, Record<string, string[]>> = {
  Agile: {
    Epic: [PRIORITY, RISK, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    Feature: [PRIORITY, RISK, ACCEPTANCE, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    'User Story': [PRIORITY, RISK, ACCEPTANCE, VALUE_AREA, STORY_POINTS],
    Task: [PRIORITY, ACTIVITY, REMAINING],
    Bug: [PRIORITY, SEVERITY, REPRO, STORY_POINTS],
    Issue: [PRIORITY, DUE],
    ...TEST_TYPES,
  },
  Scrum: {
    Epic: [PRIORITY, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    Feature: [PRIORITY, ACCEPTANCE, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    'Product Backlog Item': [PRIORITY, ACCEPTANCE, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    Task: [PRIORITY, ACTIVITY, REMAINING],
    Bug: [PRIORITY, SEVERITY, REPRO, EFFORT],
    Impediment: [PRIORITY],
    ...TEST_TYPES,
  },
  CMMI: {
    Epic: [PRIORITY, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    Feature: [PRIORITY, VALUE_AREA, BUSINESS_VALUE, EFFORT],
    Requirement: [PRIORITY, ACCEPTANCE, RISK, VALUE_AREA],
    Task: [PRIORITY, ACTIVITY, REMAINING],
    Bug: [PRIORITY, SEVERITY, REPRO],
    Risk: [PRIORITY, SEVERITY],
    Issue: [PRIORITY, DUE],
    'Change Request': [PRIORITY],
    ...TEST_TYPES,
  },
  Basic: {
    Epic: [PRIORITY],
    Issue: [PRIORITY, EFFORT],
    Task: [PRIORITY, ACTIVITY, REMAINING],
    ...TEST_TYPES,
  },
};

const TITLE_MAX = 255;
const WIQL_LIMIT = 20_000;
const MAX_IDS_PER_CALL = 200;

/** The system processes, with the type ids Azure DevOps gives them in every organization. */
const FAKE_PROCESSES: Array<{ name: FakeProcess; typeId: string }> = [
  { name: 'Agile', typeId: 'adcc42ab-9882-485e-a3ed-7678f01f66bc' },
  { name: 'Scrum', typeId: '6b724908-ef14-45cf-84f8-768b5384da45' },
  { name: 'CMMI', typeId: '27450541-8e31-4150-9947-dc59f998fc01' },
  { name: 'Basic', typeId: 'b8a3a935-7e91-48b8-a94c-606d37c3e9f2' },
];

const DEFAULT_PROJECTS: Array<{ name: string; process: FakeProcess }> = [
  { name: 'Agile Project', process: 'Agile' },
  { name: 'Scrum Project', process: 'Scrum' },
  { name: 'CMMI Project', process: 'CMMI' },
  { name: 'Basic Project', process: 'Basic' },
];

interface ProjectRecord {
  id: string;
  name: string;
  process: FakeProcess;
  /** Known tag spellings (lower case → first spelling), as the service keeps them per project. */
  tags: Map<string, string>;
}

type ErrorSource = Error | ((created?: CreatedWorkItem) => Error);

interface Scripted {
  method: TrackerMethod | 'any';
  error: ErrorSource;
  remaining: number;
}

/** A gate on the next create: `started` resolves once the create is waiting, `release` lets it go on. */
export interface HeldCreate {
  started: Promise<void>;
  release(): void;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const projectMissing = (name: string) =>
  new AdoRejectedError(
    `TF200016: The following project does not exist: ${name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
    404,
    'TF200016',
    true,
  );
const ruleError = (field: string, code: string) =>
  new AdoRejectedError(`TF401320: Rule Error for field ${field}. Error code: ${code}.`, 400, 'TF401320');

function checkIds(ids: readonly number[]): void {
  const invalid = ids.find((id) => !Number.isSafeInteger(id) || id <= 0);
  if (invalid !== undefined) throw new Error(`invalid work item id ${invalid}`);
}

/** Identity fields: `wit/fields` types them `string` and flags them `isIdentity`. */
const IDENTITY_FIELDS = new Set(['System.CreatedBy', 'System.ChangedBy', 'System.AssignedTo']);

/** A field as `wit/fields` describes it. */
function fieldDefinition(referenceName: string): FieldDefinition {
  return {
    referenceName,
    name: referenceName.split('.').at(-1) ?? referenceName,
    type: FIELD_TYPES[referenceName] ?? 'string',
    readOnly: SERVICE_FIELDS.includes(referenceName),
    isIdentity: IDENTITY_FIELDS.has(referenceName),
  };
}

const toError = (source: ErrorSource, created?: CreatedWorkItem): Error =>
  typeof source === 'function' ? source(created) : source;

export class FakeWorkItemTracker implements WorkItemTracker {
  readonly baseUrl: string;
  /** The identity of the PAT's owner: every change is made by it. */
  readonly identity: IdentityRef = {
    displayName: 'Fake ADO User',
    uniqueName: 'fake.user@example.com',
    id: '6f1c2a4e-0000-4000-8000-000000000001',
  };
  /** Calls per method, scripted failures included (calls refused by `fakeTrackerFactory` excluded). */
  readonly calls: Record<TrackerMethod, number> = {
    listProjects: 0,
    listWorkItemTypes: 0,
    listFields: 0,
    createWorkItem: 0,
    searchWorkItems: 0,
    getWorkItems: 0,
    deleteWorkItems: 0,
    listFieldDefinitions: 0,
    listProcessTypes: 0,
    getProject: 0,
    createProject: 0,
    getOperation: 0,
    listProcesses: 0,
  };
  /**
   * `getOperation` calls before a created project's operation succeeds (0: it is done at once); until
   * then the project does not exist for the work item methods, as in Azure DevOps.
   */
  projectCreateSteps = 0;
  readonly #operations = new Map<
    string,
    { project: ProjectRecord; remaining: number; status: AdoOperation['status'] }
  >();
  /** false: `listWorkItemTypes` answers names only, as an answer without `fields` would. */
  typesListCarriesFields = true;
  /** Calls refused with `AdoAuthError` by `fakeTrackerFactory` (wrong PAT). */
  authFailures = 0;
  /** Every successful create through the port, in order. */
  readonly createLog: Array<{ project: string; type: string; id: number; title: string; parentId?: number }> =
    [];
  /** The ids of every `deleteWorkItems` call, in order. */
  readonly deleteLog: number[][] = [];

  readonly #projects: ProjectRecord[] = [];
  readonly #items = new Map<number, FakeWorkItem>();
  readonly #now: () => Date;
  readonly #scripted: Scripted[] = [];
  readonly #drops: Array<{ error: ErrorSource }> = [];
  readonly #holds: Array<{ reached: () => void; gate: Promise<void> }> = [];
  #nextId = 1;

  constructor(options: FakeTrackerOptions = {}) {
    this.baseUrl = (options.baseUrl ?? 'https://dev.azure.com/fake-org').replace(/\/+$/, '');
    this.#now = options.now ?? (() => new Date());
    for (const p of options.projects ?? DEFAULT_PROJECTS) this.addProject(p.name, p.process);
  }

  // ---- test controls -------------------------------------------------------------------------------

  addProject(name: string, process: FakeProcess): void {
    const existing = this.#findProject(name);
    if (existing) {
      if (existing.process !== process)
        throw new Error(`Project ${name} already exists (${existing.process})`);
      return;
    }
    this.#projects.push({ id: randomUUID(), name, process, tags: new Map() });
  }

  /**
   * The next `count` calls of `method` (or of any method) throw `error` before doing anything; a
   * function builds a fresh error per failure.
   */
  failNext(method: TrackerMethod | 'any', error: ErrorSource, count = 1): void {
    this.#scripted.push({ method, error, remaining: count });
  }

  /**
   * The next `count` creates succeed but their answer is lost: the work item exists, the caller gets
   * `AdoTransientError` (or what `error` builds from the created item).
   */
  dropNextCreate(count = 1, error?: ErrorSource): void {
    const source =
      error ??
      ((created?: CreatedWorkItem) =>
        new AdoTransientError(
          `The connection was reset before Azure DevOps answered (work item ${created?.id} was created)`,
        ));
    for (let i = 0; i < count; i++) this.#drops.push({ error: source });
  }

  /**
   * Holds the next create until released: after its call is counted, before a scripted failure or any
   * work, so a test can act while the request is "in flight" and still script how it ends.
   */
  holdNextCreate(): HeldCreate {
    let reached!: () => void;
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#holds.push({ reached, gate });
    return { started, release };
  }

  /** Creates a work item directly, as a person would in the web UI: not counted, never failed. */
  seedWorkItem(
    project: string,
    type: string,
    fields: { title: string; tags?: string[] } & Record<string, unknown>,
  ): number {
    const record = this.#project(project);
    const typeName = this.#typeName(record, type);
    const { title, tags, ...rest } = fields;
    const stored: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(rest)) {
      if (typeof value === 'string' || typeof value === 'number') stored[name] = value;
    }
    return this.#store(record, typeName, title, stored, this.#normaliseTags(record, (tags ?? []).join(';')), {
      hyperlinks: [],
    }).id;
  }

  /** Live work items (not in the recycle bin), oldest first. */
  workItems(project?: string): FakeWorkItem[] {
    return this.#list(project, false);
  }

  /** Work items in the recycle bin. */
  recycleBin(project?: string): FakeWorkItem[] {
    return this.#list(project, true);
  }

  // ---- the port ------------------------------------------------------------------------------------

  async listProjects(): Promise<AdoProject[]> {
    this.#enter('listProjects');
    return this.#projects.map((p) => this.#projectRef(p));
  }

  async getProject(idOrName: string): Promise<AdoProjectDetails | null> {
    this.#enter('getProject');
    const project = this.#projects.find((p) => p.id === idOrName) ?? this.#findProject(idOrName);
    if (!project) return null;
    const process = FAKE_PROCESSES.find((p) => p.name === project.process);
    return {
      ...this.#projectRef(project),
      ...(process ? { processTypeId: process.typeId, processName: process.name } : {}),
    };
  }

  async createProject(input: NewAdoProject): Promise<AdoOperation> {
    this.#enter('createProject');
    const process = FAKE_PROCESSES.find((p) => p.typeId === input.processTypeId);
    if (!process)
      throw new AdoRejectedError(`VS403084: unknown process ${input.processTypeId}`, 400, 'VS403084');
    const taken =
      this.#findProject(input.name) ??
      [...this.#operations.values()].find((o) => o.project.name.toLowerCase() === input.name.toLowerCase())
        ?.project;
    if (taken) {
      throw new AdoRejectedError(
        `TF200019: The following project already exists on the Azure DevOps Server: ${input.name}`,
        409,
        'TF200019',
      );
    }
    const project: ProjectRecord = {
      id: randomUUID(),
      name: input.name,
      process: process.name,
      tags: new Map(),
    };
    const id = randomUUID();
    const operation = {
      project,
      remaining: this.projectCreateSteps,
      status: 'queued' as AdoOperation['status'],
    };
    this.#operations.set(id, operation);
    if (operation.remaining <= 0) this.#finishOperation(operation);
    return { id, status: operation.status, url: `${this.baseUrl}/_apis/operations/${id}` };
  }

  async getOperation(id: string): Promise<AdoOperation> {
    this.#enter('getOperation');
    const operation = this.#operations.get(id);
    if (!operation) throw new AdoRejectedError(`Operation ${id} not found`, 404);
    if (operation.status !== 'succeeded') {
      operation.remaining -= 1;
      if (operation.remaining <= 0) this.#finishOperation(operation);
      else operation.status = 'inProgress';
    }
    return { id, status: operation.status, url: `${this.baseUrl}/_apis/operations/${id}` };
  }

  async listProcesses(): Promise<AdoProcess[]> {
    this.#enter('listProcesses');
    return FAKE_PROCESSES.map((p) => ({
      typeId: p.typeId,
      name: p.name,
      description: `${p.name} process`,
      parentProcessTypeId: '00000000-0000-0000-0000-000000000000',
      isEnabled: true,
      isDefault: p.name === 'Agile',
      customizationType: 'system',
    }));
  }

  #finishOperation(operation: { project: ProjectRecord; status: AdoOperation['status'] }): void {
    operation.status = 'succeeded';
    if (!this.#findProject(operation.project.name)) this.#projects.push(operation.project);
  }

  #projectRef(p: ProjectRecord): AdoProject {
    return {
      id: p.id,
      name: p.name,
      url: `${this.baseUrl}/_apis/projects/${p.id}`,
      state: 'wellFormed',
      revision: 1,
      visibility: 'private',
    };
  }

  async listWorkItemTypes(project: string): Promise<WorkItemTypeInfo[]> {
    this.#enter('listWorkItemTypes');
    const record = this.#project(project);
    // Like Azure DevOps, the list carries each type's fields (unless a test turns that off).
    return Object.keys(PROCESSES[record.process]).map((name) => ({
      name,
      fields: this.typesListCarriesFields ? [...COMMON, ...this.#fieldsOf(record, name)] : null,
    }));
  }

  async listFieldDefinitions(project: string): Promise<FieldDefinition[]> {
    this.#enter('listFieldDefinitions');
    const record = this.#project(project);
    const names = new Set(
      Object.keys(PROCESSES[record.process]).flatMap((type) => [...COMMON, ...this.#fieldsOf(record, type)]),
    );
    return [...names].map((referenceName) => fieldDefinition(referenceName));
  }

  async listProcessTypes(processTypeId: string): Promise<ProcessTypeInfo[]> {
    this.#enter('listProcessTypes');
    const process = FAKE_PROCESSES.find((p) => p.typeId === processTypeId);
    if (!process) throw new AdoRejectedError(`VS402363: process ${processTypeId} not found`, 404, 'VS402363');
    return Object.entries(PROCESSES[process.name]).map(([name, extra]) => ({
      name,
      referenceName: `Microsoft.VSTS.WorkItemTypes.${name.replace(/\s+/g, '')}`,
      isDisabled: false,
      // The list answer of the process API carries no allowed values (only a single field's, expanded).
      fields: [...COMMON, ...extra].map((referenceName) => {
        const definition = fieldDefinition(referenceName);
        return {
          referenceName,
          name: definition.name,
          type: definition.type,
          readOnly: definition.readOnly,
        };
      }),
    }));
  }

  async listFields(project: string, type: string): Promise<string[]> {
    this.#enter('listFields');
    const record = this.#project(project);
    return [...COMMON, ...this.#fieldsOf(record, this.#typeName(record, type))];
  }

  async createWorkItem(
    project: string,
    item: NewWorkItem,
    options: CreateWorkItemOptions = {},
  ): Promise<CreatedWorkItem> {
    this.calls.createWorkItem += 1;
    // Like the REST adapter: the guard runs once, right before the request would leave (a held create
    // is "in flight", a scripted failure is the service's answer); if it throws, nothing is created.
    if (options.beforeSend) await options.beforeSend();
    const hold = this.#holds.shift();
    if (hold) {
      hold.reached();
      await hold.gate;
    }
    this.#failIfScripted('createWorkItem');
    const record = this.#project(project);
    const type = this.#typeName(record, item.type);
    const known = new Set(
      this.#fieldsOf(record, type)
        .concat(COMMON)
        .map((f) => f.toLowerCase()),
    );
    const fields: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(item.fields)) {
      if (READ_ONLY_FIELDS.has(name)) continue;
      if (!known.has(name.toLowerCase())) {
        throw new AdoRejectedError(`TF51535: Cannot find field ${name}.`, 400, 'TF51535');
      }
      if (SERVICE_FIELDS.some((f) => same(f, name))) {
        throw new AdoRejectedError(
          `TF401326: Invalid field status 'ReadOnly' for field '${name}'.`,
          400,
          'TF401326',
        );
      }
      fields[name] = value;
    }
    const title = String(fields['System.Title'] ?? '').trim();
    if (!title)
      throw ruleError('Title', 'Required, HasValues, LimitedToValues, AllowsOldValue, InvalidEmpty');
    if (title.length > TITLE_MAX) throw ruleError('Title', 'InvalidTooLong');
    for (const [name, value] of Object.entries(fields)) checkValue(name, value);
    if (item.parentId !== undefined) {
      if (!Number.isSafeInteger(item.parentId) || item.parentId <= 0) {
        throw new Error(`invalid parent work item id ${item.parentId}`);
      }
      if (!this.#live(item.parentId)) {
        throw new AdoRejectedError(
          `TF201035: The work item link cannot be saved because work item ${item.parentId} does not exist or you do not have permission to read it.`,
          400,
          'TF201035',
        );
      }
    }
    const { 'System.Title': _title, 'System.Tags': rawTags, ...rest } = fields;
    const tags = this.#normaliseTags(record, typeof rawTags === 'string' ? rawTags : '');
    const stored = this.#store(record, type, title, rest, tags, {
      hyperlinks: item.hyperlink ? [{ ...item.hyperlink }] : [],
      ...(item.parentId !== undefined ? { parentId: item.parentId } : {}),
    });
    const created: CreatedWorkItem = {
      id: stored.id,
      webUrl: `${this.baseUrl}/${encodeURIComponent(project)}/_workitems/edit/${stored.id}`,
      changedBy: { ...this.identity },
    };
    this.createLog.push({
      project: record.name,
      type,
      id: stored.id,
      title,
      ...(item.parentId !== undefined ? { parentId: item.parentId } : {}),
    });
    const drop = this.#drops.shift();
    if (drop) throw toError(drop.error, created);
    return created;
  }

  async searchWorkItems(project: string, search: WorkItemSearch): Promise<number[]> {
    this.#enter('searchWorkItems');
    const record = this.#project(project);
    if (!search.tag.trim()) throw new Error('a work item search needs a tag');
    if (search.createdSince !== undefined && Number.isNaN(search.createdSince.getTime())) {
      throw new Error('createdSince is not a valid date');
    }
    const ids = [...this.#items.values()]
      .filter(
        (item) =>
          !item.deleted &&
          same(item.project, record.name) &&
          item.tags.some((tag) => same(tag, search.tag.trim())) &&
          (!search.types?.length || search.types.some((t) => same(t, item.type))) &&
          (search.title === undefined || same(item.title, search.title)) &&
          (search.createdSince === undefined || item.createdAt.getTime() >= search.createdSince.getTime()),
      )
      .map((item) => item.id)
      .sort((a, b) => a - b);
    if (ids.length > WIQL_LIMIT) {
      throw new AdoRejectedError(
        `VS402337: The number of work items returned exceeds the size limit of ${WIQL_LIMIT}.`,
        400,
        'VS402337',
      );
    }
    return ids;
  }

  async getWorkItems(ids: readonly number[]): Promise<WorkItemDetails[]> {
    this.#enter('getWorkItems');
    checkIds(ids);
    return ids.flatMap((id) => {
      const item = this.#live(id);
      if (!item) return [];
      const details: WorkItemDetails = {
        id,
        type: item.type,
        title: item.title,
        tags: [...item.tags],
        hyperlinks: item.hyperlinks.map((h) => ({ ...h })),
        webUrl: `${this.baseUrl}/${encodeURIComponent(item.project)}/_workitems/edit/${id}`,
        changedBy: { ...this.identity },
      };
      // A parent in the recycle bin is not shown as a link (it comes back if the parent is restored).
      if (item.parentId !== undefined && this.#live(item.parentId)) details.parentId = item.parentId;
      return [details];
    });
  }

  async deleteWorkItems(project: string, ids: readonly number[]): Promise<void> {
    this.#enter('deleteWorkItems');
    if (ids.length > MAX_IDS_PER_CALL) {
      throw new Error(`deleteWorkItems takes at most ${MAX_IDS_PER_CALL} ids per call, got ${ids.length}`);
    }
    checkIds(ids);
    if (ids.length === 0) return;
    this.#project(project);
    this.deleteLog.push([...ids]);
    // Unknown and already deleted ids are reported per item by the service and tolerated by the adapter.
    for (const id of ids) {
      const item = this.#items.get(id);
      if (item) item.deleted = true;
    }
  }

  // ---- internals -----------------------------------------------------------------------------------

  #enter(method: TrackerMethod): void {
    this.calls[method] += 1;
    this.#failIfScripted(method);
  }

  #failIfScripted(method: TrackerMethod): void {
    const index = this.#scripted.findIndex((s) => s.method === method || s.method === 'any');
    const scripted = this.#scripted[index];
    if (!scripted) return;
    scripted.remaining -= 1;
    if (scripted.remaining <= 0) this.#scripted.splice(index, 1);
    throw toError(scripted.error);
  }

  #findProject(name: string): ProjectRecord | undefined {
    return this.#projects.find((p) => same(p.name, name) || p.id === name);
  }

  #project(name: string): ProjectRecord {
    const project = this.#findProject(name);
    if (!project) throw projectMissing(name);
    return project;
  }

  #typeName(project: ProjectRecord, type: string): string {
    const name = Object.keys(PROCESSES[project.process]).find((t) => same(t, type));
    if (!name) {
      throw new AdoRejectedError(`VS402323: Work item type ${type} does not exist.`, 404, 'VS402323');
    }
    return name;
  }

  #fieldsOf(project: ProjectRecord, type: string): string[] {
    return PROCESSES[project.process][type] ?? [];
  }

  #live(id: number): FakeWorkItem | undefined {
    const item = this.#items.get(id);
    return item && !item.deleted ? item : undefined;
  }

  /** "a; B; a" → trimmed, de-duplicated case-insensitively, the project's first spelling, sorted. */
  #normaliseTags(project: ProjectRecord, raw: string): string[] {
    const seen = new Map<string, string>();
    for (const part of raw.split(';')) {
      const tag = part.trim();
      if (!tag || seen.has(tag.toLowerCase())) continue;
      const known = project.tags.get(tag.toLowerCase()) ?? tag;
      project.tags.set(tag.toLowerCase(), known);
      seen.set(tag.toLowerCase(), known);
    }
    return [...seen.values()].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
  }

  #store(
    project: ProjectRecord,
    type: string,
    title: string,
    fields: Record<string, string | number>,
    tags: string[],
    links: { hyperlinks: Hyperlink[]; parentId?: number },
  ): FakeWorkItem {
    const item: FakeWorkItem = {
      id: this.#nextId++,
      project: project.name,
      type,
      title,
      fields,
      tags,
      hyperlinks: links.hyperlinks,
      createdAt: this.#now(),
      deleted: false,
      ...(links.parentId !== undefined ? { parentId: links.parentId } : {}),
    };
    this.#items.set(item.id, item);
    return item;
  }

  #list(project: string | undefined, deleted: boolean): FakeWorkItem[] {
    return [...this.#items.values()]
      .filter((i) => i.deleted === deleted && (project === undefined || same(i.project, project)))
      .sort((a, b) => a.id - b.id)
      .map((item) => structuredClone(item));
  }
}

function checkValue(field: string, value: string | number): void {
  const allowed = Object.entries(ALLOWED).find(([name]) => same(name, field))?.[1];
  const integer = [...INTEGER_FIELDS].some((name) => same(name, field));
  const number = typeof value === 'number' ? value : Number(String(value).trim());
  if (integer && !Number.isInteger(number)) {
    throw new AdoRejectedError(
      `TF401326: Invalid field status 'InvalidType' for field '${field}'.`,
      400,
      'TF401326',
    );
  }
  if (allowed && !allowed.includes(integer ? number : String(value))) {
    throw ruleError(field, 'LimitedToValues');
  }
}

/**
 * A `WorkItemTrackerFactory` over one fake organization. Every method of a tracker whose PAT differs
 * from `access.pat` throws `AdoAuthError` (read at each call: changing `access.pat` revokes a PAT in
 * the middle of a sync, as an administrator can).
 */
export function fakeTrackerFactory(
  fake: FakeWorkItemTracker,
  access: { pat: string },
): WorkItemTrackerFactory {
  return (connection) => {
    if (!connection.pat) throw new Error('Azure DevOps PAT must not be empty');
    const guard =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (connection.pat !== access.pat) {
          fake.authFailures += 1;
          throw new AdoAuthError(
            'Azure DevOps answered HTTP 203 (a sign-in page): the PAT is invalid, expired or lacks access',
            203,
          );
        }
        return call(...args);
      };
    return {
      listProjects: guard(() => fake.listProjects()),
      getProject: guard((idOrName: string) => fake.getProject(idOrName)),
      createProject: guard((project: NewAdoProject) => fake.createProject(project)),
      getOperation: guard((id: string) => fake.getOperation(id)),
      listProcesses: guard(() => fake.listProcesses()),
      listWorkItemTypes: guard((project: string) => fake.listWorkItemTypes(project)),
      listFields: guard((project: string, type: string) => fake.listFields(project, type)),
      listFieldDefinitions: guard((project: string) => fake.listFieldDefinitions(project)),
      listProcessTypes: guard((processTypeId: string) => fake.listProcessTypes(processTypeId)),
      createWorkItem: guard((project: string, item: NewWorkItem, options?: CreateWorkItemOptions) =>
        fake.createWorkItem(project, item, options),
      ),
      searchWorkItems: guard((project: string, search: WorkItemSearch) =>
        fake.searchWorkItems(project, search),
      ),
      getWorkItems: guard((ids: readonly number[]) => fake.getWorkItems(ids)),
      deleteWorkItems: guard((project: string, ids: readonly number[]) => fake.deleteWorkItems(project, ids)),
    };
  };
}
