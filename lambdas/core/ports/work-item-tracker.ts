/**
 * The `WorkItemTracker` port: what the core needs from Azure DevOps Boards. One instance talks to one
 * organization with one PAT (see `WorkItemTrackerFactory`). Adapters throw only the error classes below.
 */

/** The identity that last changed a work item (`System.ChangedBy`), as Azure DevOps returns it. */
export type IdentityRef = Record<string, unknown> & { displayName?: string; uniqueName?: string };

/** A project as Azure DevOps lists it (TeamProjectReference); the optional keys as it sends them. */
export interface AdoProject {
  id: string;
  name: string;
  description?: string;
  url?: string;
  /** `wellFormed` once usable; `createPending`, `new`… while being created. */
  state?: string;
  revision?: number;
  visibility?: string;
  lastUpdateTime?: string;
}

/** A project with its process (`includeCapabilities=true`). */
export interface AdoProjectDetails extends AdoProject {
  processTypeId?: string;
  processName?: string;
}

/** A project to create (the route's body, validated). */
export interface NewAdoProject {
  name: string;
  description?: string;
  visibility: 'private' | 'public';
  processTypeId: string;
  sourceControl: 'Git' | 'Tfvc';
}

/** An asynchronous operation (project creation). */
export interface AdoOperation {
  id: string;
  status: 'notSet' | 'queued' | 'inProgress' | 'cancelled' | 'succeeded' | 'failed';
  url?: string;
  resultMessage?: string;
}

/** A process of the organization (system or inherited). */
export interface AdoProcess {
  typeId: string;
  name: string;
  referenceName?: string;
  description: string;
  /** The system process an inherited one derives from (all zeros for a system process). */
  parentProcessTypeId?: string;
  isEnabled: boolean;
  isDefault: boolean;
  customizationType?: string;
}

/** A link from a work item to its Ardoq component. `comment` carries our marker for reconciliation. */
export interface Hyperlink {
  url: string;
  comment?: string;
}

export interface NewWorkItem {
  /** Work item type name in the project's process, e.g. `User Story`, `Product Backlog Item`. */
  type: string;
  /** Field reference name → value; only fields that exist on the type. */
  fields: Record<string, string | number>;
  /** Azure DevOps id of the parent work item (Hierarchy-Reverse link). */
  parentId?: number;
  hyperlink?: Hyperlink;
}

export interface CreatedWorkItem {
  id: number;
  /** Web link `{base}/{project}/_workitems/edit/{id}` (not the REST URL). */
  webUrl: string;
  changedBy?: IdentityRef;
  /** Time the create waited because Azure DevOps throttled (announced delays, its rate-limit budget), ms. */
  throttledMs?: number;
}

export interface WorkItemDetails {
  id: number;
  type: string;
  title: string;
  tags: string[];
  parentId?: number;
  hyperlinks: Hyperlink[];
  webUrl: string;
  changedBy?: IdentityRef;
}

/** Conditions for a WIQL search inside one project; the adapter builds and escapes the query. */
export interface WorkItemSearch {
  /** Work item types to include (any when absent). */
  types?: string[];
  /** Tag the work items must carry, e.g. `ardoq-sync`. */
  tag: string;
  /** Exact title. */
  title?: string;
  /** Only items created at or after this instant. */
  createdSince?: Date;
}

/** A work item type of a project, as the types list describes it. */
export interface WorkItemTypeInfo {
  /** E.g. Epic, Feature, User Story, Task, Bug… */
  name: string;
  /** E.g. `Microsoft.VSTS.WorkItemTypes.UserStory`, when the answer carries it. */
  referenceName?: string;
  isDisabled?: boolean;
  /** The fields with their names and allowed values, when the answer carries them. */
  fieldDetails?: FieldInstance[];
  /**
   * Reference names of its fields when the list carried them (Azure DevOps' list does), else null:
   * ask `listFields` then.
   */
  fields: string[] | null;
}

/** A field of a work item type: its name, and the values it is limited to when it is. */
export interface FieldInstance {
  referenceName: string;
  name: string;
  allowedValues?: string[];
}

/** A field as a project (or the organization) defines it: its Azure DevOps type (`wit/fields`). */
export interface FieldDefinition {
  referenceName: string;
  name: string;
  /** `string`, `integer`, `double`, `dateTime`, `html`, `plainText`, `identity`, `treePath`, `boolean`… */
  type: string;
  readOnly: boolean;
  isIdentity: boolean;
}

/** A work item type of a process with its fields (the process API: no project needed). */
export interface ProcessTypeInfo {
  name: string;
  referenceName: string;
  isDisabled: boolean;
  fields: Array<FieldInstance & { type?: string; readOnly: boolean }>;
}

/**
 * Fields Azure DevOps sets itself: a tracker leaves them out of a create (writing them fails or needs
 * `bypassRules`, old defect 12), and no mapping may target them.
 */
export const READ_ONLY_FIELDS: ReadonlySet<string> = new Set([
  'System.Id',
  'System.Rev',
  'System.ChangedBy',
  'System.ChangedDate',
  'System.CreatedBy',
  'System.CreatedDate',
  'System.AuthorizedDate',
  'System.RevisedDate',
  'System.Watermark',
]);

/** Options of one create. */
export interface CreateWorkItemOptions {
  /**
   * Awaited immediately before each physical send of this create (after any pacing wait, before each
   * in-call retry). If it throws, that error propagates and nothing more is sent.
   */
  beforeSend?: () => Promise<void>;
}

export interface WorkItemTracker {
  /** Lists the organization's projects, every page (also the connection test). */
  listProjects(): Promise<AdoProject[]>;
  /** One project with its process, by id or name; null when Azure DevOps does not know it. */
  getProject(idOrName: string): Promise<AdoProjectDetails | null>;
  /** Queues a project's creation: Azure DevOps answers with an operation to follow. */
  createProject(project: NewAdoProject): Promise<AdoOperation>;
  getOperation(id: string): Promise<AdoOperation>;
  /** The organization's processes (system and inherited, disabled ones included). */
  listProcesses(): Promise<AdoProcess[]>;
  /** The work item types of a project, with their fields when the answer carries them (one request). */
  listWorkItemTypes(project: string): Promise<WorkItemTypeInfo[]>;
  /** Reference names of the fields of one work item type (e.g. `System.Title`). */
  listFields(project: string, type: string): Promise<string[]>;
  /** Every field of a project with its type and whether it is read only (one request). */
  listFieldDefinitions(project: string): Promise<FieldDefinition[]>;
  /** The work item types of a process and their fields, for a project that does not exist yet. */
  listProcessTypes(processTypeId: string): Promise<ProcessTypeInfo[]>;
  createWorkItem(
    project: string,
    item: NewWorkItem,
    options?: CreateWorkItemOptions,
  ): Promise<CreatedWorkItem>;
  /** Ids of work items matching the search (WIQL; fails above 20,000 results). */
  searchWorkItems(project: string, search: WorkItemSearch): Promise<number[]>;
  /** Reads work items by id with relations; any number of ids (≤ 200 per call inside); missing ids omitted. */
  getWorkItems(ids: readonly number[]): Promise<WorkItemDetails[]>;
  /** Sends ≤ 200 work items to the recycle bin (never destroys). */
  deleteWorkItems(project: string, ids: readonly number[]): Promise<void>;
}

export interface TrackerConnection {
  /**
   * Organization name (→ `https://dev.azure.com/{name}`) or a full base URL on an allowed origin
   * (see `#core/configurations/ado-organization.ts`).
   */
  organization: string;
  pat: string;
}

/**
 * Builds the tracker of one organization and PAT. Sends nothing itself; throws `AdoHostNotAllowedError`
 * when the organization's address is not one the PAT may be sent to.
 */
export type WorkItemTrackerFactory = (connection: TrackerConnection) => WorkItemTracker;

/**
 * Base of every Azure DevOps error. `status` is the HTTP status and `code` the TF/VS code of the answer
 * when there was one. Only `AdoRejectedError` carries Azure DevOps' own (PAT-scrubbed) message, as per-item
 * feedback; answers to clients use `describeAdoFailure`, which never repeats upstream text.
 */
export class AdoError extends Error {
  override readonly name: string = 'AdoError';
  readonly status?: number;
  readonly code?: string;
  constructor(message: string, status?: number, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (status !== undefined) this.status = status;
    if (options.code !== undefined) this.code = options.code;
  }
}

/**
 * 401, 403, a permission TF code, or a 203/200 HTML sign-in page: the PAT is wrong, expired or lacks
 * scope. Permanent: fails the sync.
 */
export class AdoAuthError extends AdoError {
  override readonly name: string = 'AdoAuthError';
}

/**
 * The organization's address is not one a PAT may be sent to (not dev.azure.com, not
 * `{organization}.visualstudio.com`, not in `ADO_ALLOWED_ORIGINS`). Nothing was sent. Permanent, and an
 * `AdoAuthError` so that a sync fails at once.
 */
export class AdoHostNotAllowedError extends AdoAuthError {
  override readonly name = 'AdoHostNotAllowedError';
  constructor(
    /** Why, in our own words (names the origin, never the PAT). */
    readonly problem: string,
  ) {
    super(`Azure DevOps organization not allowed: ${problem}`);
  }
}

/** 429, 503 or TF400733: wait `retryAfterMs` (from Retry-After / X-RateLimit-Delay) and try again. */
export class AdoThrottledError extends AdoError {
  override readonly name = 'AdoThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    status?: number,
    code?: string,
  ) {
    super(message, status, code === undefined ? {} : { code });
  }
}

/**
 * Other 5xx, TF400898 (an internal Azure DevOps error), network failures, timeouts: the request may or
 * may not have taken effect.
 */
export class AdoTransientError extends AdoError {
  override readonly name = 'AdoTransientError';
  /** `answer`: Azure DevOps answered with a failure; `timeout`/`network`: no usable answer at all. */
  readonly kind: 'answer' | 'timeout' | 'network';
  constructor(
    message: string,
    status?: number,
    options: { cause?: unknown; code?: string; kind?: 'answer' | 'timeout' | 'network' } = {},
  ) {
    const { kind = 'answer', ...rest } = options;
    super(message, status, rest);
    this.kind = kind;
  }
}

/** 400/404 rule or field errors: permanent for this item (or this project, `projectMissing`). */
export class AdoRejectedError extends AdoError {
  override readonly name = 'AdoRejectedError';
  constructor(
    message: string,
    status?: number,
    /** TF code from the message, e.g. TF401320. */
    code?: string,
    /** The project does not exist or is not visible (TF200016). */
    readonly projectMissing = false,
  ) {
    super(message, status, code === undefined ? {} : { code });
  }
}

/** ` (HTTP 401, TF400813)`: the status and code when known and well-formed, else ''. */
function reference(error: AdoError): string {
  const parts: string[] = [];
  const status = error.status;
  if (status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599) {
    parts.push(`HTTP ${status}`);
  }
  if (error.code !== undefined && /^(TF|VS)\d{1,8}$/.test(error.code)) parts.push(error.code);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/**
 * One sentence for a user about a failed Azure DevOps call: our words, the HTTP status and the TF/VS
 * code, never text taken from the answer (an answer may come from anywhere and carry anything).
 */
export function describeAdoFailure(error: unknown): string {
  if (!(error instanceof AdoError)) return 'The Azure DevOps request failed';
  const ref = reference(error);
  if (error instanceof AdoHostNotAllowedError) return `No request was sent: ${error.problem}`;
  if (error instanceof AdoAuthError) {
    const status = error.status ?? 0;
    if (status >= 300 && status < 400) {
      return `Azure DevOps redirected the request${ref}, usually to a sign-in page: check the organization and the PAT`;
    }
    if (status >= 200 && status < 300) {
      return `Azure DevOps answered with a sign-in page instead of JSON${ref}: the PAT is invalid, expired or lacks access`;
    }
    return `Azure DevOps refused the PAT${ref}: it is wrong, expired or lacks access`;
  }
  if (error instanceof AdoThrottledError) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1_000));
    return `Azure DevOps is throttling requests${ref}: retry in ${seconds} s`;
  }
  if (error instanceof AdoTransientError) {
    if (error.kind === 'timeout') return 'Azure DevOps did not answer in time';
    if (error.kind === 'network') return 'Azure DevOps could not be reached (network failure)';
    return `Azure DevOps failed${ref}: try again later`;
  }
  if (error instanceof AdoRejectedError) {
    return error.projectMissing
      ? `The Azure DevOps project does not exist or is not visible${ref}`
      : `Azure DevOps rejected the request${ref}`;
  }
  return `The Azure DevOps request failed${ref}`;
}
