/** Public shapes of the Azure DevOps Boards simulator (a local stand-in written from the REST 7.1 contract). */

export type ProcessName = 'Agile' | 'Scrum' | 'CMMI' | 'Basic';

export interface SimFaults {
  /** Milliseconds added to every answer (creates too), counted while the request is in flight. */
  latencyMs?: number;
  /** Share (0..1) of requests answered 429 + Retry-After (seconds) + a TF400733 JSON body. */
  throttleRate?: number;
  /** Retry-After value of throttled answers, in seconds; default 1. */
  retryAfterSeconds?: number;
  /** Share (0..1) of requests answered 503 with a JSON error body. */
  errorRate?: number;
  /** Share (0..1) of CREATES where the item IS created, then the socket is destroyed with no answer. */
  dropRate?: number;
  /** Azure DevOps' usage-based throttling (delays, then 429), off when absent; see SimRateLimit. */
  rateLimit?: SimRateLimit;
}

/**
 * Azure DevOps' published rate limit ("Rate and usage limits"): every authenticated request costs TSTUs
 * (a unit of server load) charged to the identity (the PAT: one identity) within a sliding window. With
 * usage (TSTUs charged within the window, before the request) `u` and `limitTstu` `L`:
 * `u ≥ L × hardLimitFactor` → 429 TF400733, not charged; `u ≥ L` → held `min(maxDelayMs, ms until u < L)`,
 * then answered normally with `X-RateLimit-Delay` and `Retry-After`; `u ≥ L × warnFraction` → answered
 * normally with `X-RateLimit-Resource/Limit/Remaining/Reset`; below → no rate-limit header.
 */
export interface SimRateLimit {
  /** TSTUs allowed per window before delays start (the service's: 200). */
  limitTstu: number;
  /** The sliding window, ms; default 300,000 (the service's 5 minutes). */
  windowMs?: number;
  /** TSTUs charged for every authenticated request that is not a work item create; default 0.1. */
  tstuPerRequest?: number;
  /** TSTUs charged for a work item create (`POST .../workitems/$Type`), instead of tstuPerRequest; default 1. */
  tstuPerCreate?: number;
  /** Share (0..1) of limitTstu from which answers carry the rate-limit headers; default 0.5. */
  warnFraction?: number;
  /** Usage ≥ limitTstu × this (≥ 1) is answered 429 instead of delayed; default 1.5. */
  hardLimitFactor?: number;
  /** Longest hold of a delayed request, ms; default 10,000. */
  maxDelayMs?: number;
}

export interface SimProject {
  name: string;
  process: ProcessName;
}

export interface AdoSimulatorOptions {
  /** The only personal access token accepted (Basic auth, any user name). */
  pat: string;
  /** Default: one project per process ("Agile Project", "Scrum Project", "CMMI Project", "Basic Project"). */
  projects?: SimProject[];
  faults?: SimFaults;
  /** Seed of the PRNG that draws the fault rates, so runs are reproducible. */
  seed?: number;
  /** Projects per `GET /_apis/projects` answer when the request has no `$top`; default 100 (the service's). */
  projectPageSize?: number;
  /**
   * Largest page answered even when `$top` asks for more; default none (the service honours `$top`).
   * Lets a test make a client that always sends a large `$top` follow continuation tokens.
   */
  projectMaxPageSize?: number;
  /** Milliseconds from `POST /_apis/projects` until its operation ends (succeeded or failed); default 1,500. */
  projectCreateDelayMs?: number;
}

/** Project states of the REST contract that the simulator produces. */
export type SimProjectState = 'wellFormed' | 'createPending' | 'new';

/** A project as tests see it (a snapshot). */
export interface SimProjectInfo {
  id: string;
  name: string;
  description?: string;
  /** wellFormed once usable; createPending (queued) or new (being created) while its operation runs. */
  state: SimProjectState;
  visibility: 'private' | 'public';
  /** Name of the process the project was created with (a system or an inherited one). */
  processName: string;
  processTypeId: string;
  /** The system process whose work item types the project has (an inherited process's parent). */
  process: ProcessName;
  sourceControlType: 'Git' | 'Tfvc';
}

export type SimOperationStatus = 'queued' | 'inProgress' | 'succeeded' | 'failed' | 'cancelled';

/** A long-running operation (project creation) as tests see it. */
export interface SimOperation {
  id: string;
  projectId: string;
  projectName: string;
  status: SimOperationStatus;
  resultMessage?: string;
}

/** A process (`GET /_apis/work/processes`) as tests see it. */
export interface SimProcess {
  typeId: string;
  name: string;
  referenceName: string | null;
  description: string;
  parentProcessTypeId: string;
  isEnabled: boolean;
  isDefault: boolean;
  customizationType: 'system' | 'inherited';
}

export interface InheritedProcessOptions {
  /** Default true; a disabled process is listed but refused by project creation. */
  enabled?: boolean;
  description?: string;
}

export interface SimRelation {
  rel: string;
  url: string;
  attributes: Record<string, unknown>;
}

export interface SimWorkItem {
  id: number;
  project: string;
  type: string;
  /** Reference name → value, as the service answers them (identities as objects, dates as ISO strings). */
  fields: Record<string, unknown>;
  relations: SimRelation[];
  createdAt: Date;
  deleted: boolean;
}

export type FailNextOp = 'create' | 'any';
export type FailNextKind = 'throttle' | 'unavailable' | 'drop' | 'reject';

export interface SimStats {
  /** Every HTTP request received, authenticated or not. */
  requests: number;
  /** Create requests (POST .../workitems/$Type) received, whatever their answer. */
  creates: number;
  /** Create requests being handled right now (from request start to answer, latency included). */
  createsInFlight: number;
  /** Maximum of createsInFlight since start or the last resetStats(). */
  peakConcurrentCreates: number;
  /** Σ of the create requests' durations (request start to answer), ms: ÷ wall time = average in flight. */
  createMs: number;
  /** Answers given with 429. */
  throttled: number;
  /** Create requests whose socket was destroyed without an answer. */
  dropped: number;
  /** Requests to `/_apis/projects` and `/_apis/projects/{project}` (list, get, create). */
  projectRequests: number;
  /** Of those, `POST /_apis/projects` (project creations asked for, whatever their answer). */
  projectCreates: number;
  /** Requests to `/_apis/operations/{id}`. */
  operationRequests: number;
  /**
   * Requests to `/_apis/work/processes[/{id}]` and `/_apis/process/processes[/{id}]`, and to the process-level
   * types and fields under them (`/_apis/work/processes/{id}/workItemTypes[/{ref}/fields]`).
   */
  processRequests: number;
  /** Requests to `[/{project}]/_apis/wit/fields[/{field}]` (field definitions). */
  fieldRequests: number;
  /** Requests to `/{project}/_apis/wit/workitemtypes[/{type}[/fields]]` (a project's types and their fields). */
  workItemTypeRequests: number;
  /** TSTUs charged by the rate-limit mode (`faults.rateLimit`); 0 while it is off. */
  tstuCharged: number;
  /** Requests the rate-limit mode held before answering them (`X-RateLimit-Delay`). */
  rateLimitDelayed: number;
  /** Σ of those holds, ms. */
  rateLimitDelayedMs: number;
  /** Requests the rate-limit mode refused with 429 TF400733 (also counted in `throttled`). */
  rateLimitRejected: number;
}

export interface AdoSimulator {
  /** http://127.0.0.1:PORT, the organization base URL a client is configured with. */
  url: string;
  close(): Promise<void>;
  /** Replaces the rate-based faults (one-shot faults queued with failNext stay queued). */
  setFaults(faults: SimFaults): void;
  /**
   * Queues deterministic one-shot faults; they take precedence over rates. 'drop' and 'reject' only ever
   * apply to creates. With `title`, only creates whose System.Title equals it consume the fault.
   */
  failNext(op: FailNextOp, kind: FailNextKind, count?: number, title?: string): void;
  /** Titles for which a create answers 400 TF401320 (a rule error): lets tests make specific items fail. */
  rejectTitles(titles: Iterable<string>): void;
  /**
   * Adds a usable (wellFormed) project at once, as if created long ago. `process` is a system process
   * name or the name of a process added with addInheritedProcess().
   */
  addProject(name: string, process: string): void;
  /** Creates a work item directly, as a human would in the UI (no tag unless given). */
  seedWorkItem(project: string, type: string, fields: Record<string, unknown>): SimWorkItem;
  /** Work items not deleted, oldest first (snapshots). */
  workItems(project?: string): SimWorkItem[];
  /** Work items in the recycle bin (deleted, not destroyed). */
  recycleBin(project?: string): SimWorkItem[];
  readonly stats: SimStats;
  resetStats(): void;
}

/**
 * The simulator's project, operation and process knobs (what `startAdoSimulator` answers besides
 * AdoSimulator). A separate interface so that stand-ins typed as AdoSimulator (the bench's thread proxy)
 * need not implement them.
 */
export interface AdoProjectControls {
  /**
   * Adds an inherited process (customizationType "inherited") whose projects behave as the system parent's;
   * answers its typeId. Throws on an unknown parent or a name already used.
   */
  addInheritedProcess(
    name: string,
    parentProcessName: ProcessName,
    options?: InheritedProcessOptions,
  ): string;
  /** Every project, those being created included, in list order (snapshots). */
  projects(): SimProjectInfo[];
  /** Every project creation operation, oldest first (snapshots). */
  operations(): SimOperation[];
  /** Every process, as `GET /_apis/work/processes` lists them. */
  processes(): SimProcess[];
  /**
   * Delay from `POST /_apis/projects` until its operation ends. Read when an operation is looked at, so
   * it applies to creations under way too: `setProjectCreateDelay(0)` ends them all now.
   */
  setProjectCreateDelay(ms: number): void;
  /** The next `count` (default 1) project creations are accepted (202), then their operation ends `failed`. */
  failNextProjectCreate(resultMessage?: string, count?: number): void;
}
