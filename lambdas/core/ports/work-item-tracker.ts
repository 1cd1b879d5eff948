/**
 * The `WorkItemTracker` port: what the core needs from Azure DevOps Boards. One instance talks to one
 * organization with one PAT (see `WorkItemTrackerFactory`). Adapters throw only the error classes below.
 */

/** The identity that last changed a work item (`System.ChangedBy`), as Azure DevOps returns it. */
export type IdentityRef = Record<string, unknown> & { displayName?: string; uniqueName?: string };

export interface AdoProject {
  id: string;
  name: string;
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
  /**
   * Reference names of its fields when the list carried them (Azure DevOps' list does), else null:
   * ask `listFields` then.
   */
  fields: string[] | null;
}

export interface WorkItemTracker {
  /** Lists the organization's projects (also the connection test). */
  listProjects(): Promise<AdoProject[]>;
  /** The work item types of a project, with their fields when the answer carries them (one request). */
  listWorkItemTypes(project: string): Promise<WorkItemTypeInfo[]>;
  /** Reference names of the fields of one work item type (e.g. `System.Title`). */
  listFields(project: string, type: string): Promise<string[]>;
  createWorkItem(project: string, item: NewWorkItem): Promise<CreatedWorkItem>;
  /** Ids of work items matching the search (WIQL; fails above 20,000 results). */
  searchWorkItems(project: string, search: WorkItemSearch): Promise<number[]>;
  /** Reads work items by id with relations; any number of ids (≤ 200 per call inside); missing ids omitted. */
  getWorkItems(ids: readonly number[]): Promise<WorkItemDetails[]>;
  /** Sends ≤ 200 work items to the recycle bin (never destroys). */
  deleteWorkItems(project: string, ids: readonly number[]): Promise<void>;
}

export interface TrackerConnection {
  /** Organization name (→ `https://dev.azure.com/{name}`) or a full base URL (http only for loopback). */
  organization: string;
  pat: string;
}

export type WorkItemTrackerFactory = (connection: TrackerConnection) => WorkItemTracker;

/** Base of every Azure DevOps error; `status` is the HTTP status when there was one. */
export class AdoError extends Error {
  override readonly name: string = 'AdoError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 401, 403, or 203 with an HTML sign-in page: the PAT is wrong, expired or lacks scope. Fails the sync. */
export class AdoAuthError extends AdoError {
  override readonly name = 'AdoAuthError';
}

/** 429, or 503: wait `retryAfterMs` (from Retry-After / X-RateLimit-Delay) and try again. */
export class AdoThrottledError extends AdoError {
  override readonly name = 'AdoThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    status?: number,
  ) {
    super(message, status);
  }
}

/** Other 5xx, network failures, timeouts: the request may or may not have taken effect. */
export class AdoTransientError extends AdoError {
  override readonly name = 'AdoTransientError';
}

/** 400/404 rule or field errors: permanent for this item (or this project, `projectMissing`). */
export class AdoRejectedError extends AdoError {
  override readonly name = 'AdoRejectedError';
  constructor(
    message: string,
    status?: number,
    /** TF code from the message, e.g. TF401320. */
    readonly code?: string,
    /** The project does not exist or is not visible (TF200016 / TF400898). */
    readonly projectMissing = false,
  ) {
    super(message, status);
  }
}
