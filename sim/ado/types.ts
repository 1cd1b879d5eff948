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
  addProject(name: string, process: ProcessName): void;
  /** Creates a work item directly, as a human would in the UI (no tag unless given). */
  seedWorkItem(project: string, type: string, fields: Record<string, unknown>): SimWorkItem;
  /** Work items not deleted, oldest first (snapshots). */
  workItems(project?: string): SimWorkItem[];
  /** Work items in the recycle bin (deleted, not destroyed). */
  recycleBin(project?: string): SimWorkItem[];
  readonly stats: SimStats;
  resetStats(): void;
}
