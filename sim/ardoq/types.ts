/** Public shapes of the Ardoq simulator (a local stand-in written from the public REST API v2 contract). */

/** One-shot faults queued with `failNext`. */
export type ArdoqFaultKind =
  /** 401 JSON, as an expired or revoked token gets. */
  | 'unauthorized'
  /** 200 with `content-type: text/html` and a sign-in page: a proxy or an SSO portal answered instead. */
  | 'html'
  /** The real answer, but only after `slowMs` (default 30 s), so that a client timeout fires first. */
  | 'slow'
  /** 429 with `Retry-After: <retryAfterSeconds>` and a JSON body. */
  | 'throttle'
  /** 500 JSON. */
  | 'server-error'
  /** The socket is destroyed without an answer. */
  | 'drop';

export const ARDOQ_FAULT_KINDS: readonly ArdoqFaultKind[] = [
  'unauthorized',
  'html',
  'slow',
  'throttle',
  'server-error',
  'drop',
];

export interface ArdoqFaults {
  /** Milliseconds added to every answer (errors and faults too). */
  latencyMs?: number;
  /** Every n-th request that passed authentication answers 429 + Retry-After (0 or absent: never). */
  throttleEvery?: number;
  /** Retry-After of the 429 answers, in seconds; default 1. */
  retryAfterSeconds?: number;
  /** Delay of a 'slow' fault, in milliseconds; default 30,000. */
  slowMs?: number;
}

export interface ArdoqSimulatorOptions {
  /** Loopback port; 0 (the default) picks a free one. */
  port?: number;
  /** The simulator binds the loopback interface only. */
  host?: '127.0.0.1';
  /** The only bearer token accepted; default a random one (read it back from `token`). */
  token?: string;
  /** When set, every request must carry `X-org: <orgLabel>` (as on app.ardoq.com); when absent X-org is ignored. */
  orgLabel?: string;
  /** Components per page of `GET /api/v2/components`; default 100. */
  pageSize?: number;
  /** Workspaces per page of `GET /api/v2/workspaces`; default 50. */
  workspacePageSize?: number;
  /** Seed of every id, name and shuffle of the seeded data; default 1. Same seed → same data. */
  seed?: number;
  /** Milliseconds added to every answer; same as `faults.latencyMs`. */
  latencyMs?: number;
  faults?: ArdoqFaults;
  /** How many requests `requests` keeps (the most recent ones); default 100, 0 keeps none. */
  recordRequests?: number;
  /** Lifetime of a `_links.next` cursor, ms; default 15 minutes. An older cursor answers 400. */
  cursorTtlMs?: number;
}

/** A component as Ardoq REST API v2 answers it (raw: custom fields nested under `customFields`). */
export interface ArdoqComponentJson {
  _id: string;
  name: string;
  /** The component type's name, e.g. "User Story". */
  type: string;
  typeId: string;
  /** The parent component's `_id`, or null for a root. */
  parent: string | null;
  rootWorkspace: string;
  description: string;
  componentKey: string;
  customFields: Record<string, unknown>;
  _meta: {
    created: string;
    createdBy: string;
    lastUpdated: string;
    lastModifiedBy: string;
    lastModifiedByName: string;
    lastModifiedByEmail: string;
  };
  color: string | null;
  icon: string | null;
  shape: string | null;
  image: string | null;
  _version: number;
}

export interface ArdoqWorkspaceJson {
  _id: string;
  name: string;
  description: string;
  componentModel: string;
  _meta: { created: string; lastUpdated: string };
  _version: number;
}

/** What `addComponent` takes; the rest (ids, type id, key, _meta) is filled in. */
export interface NewArdoqComponent {
  name: string;
  /** A type name; a type the workspace's model does not have yet is added to it (level `typeLevel`, default 0). */
  type: string;
  typeLevel?: number;
  /** Any string, even an id that does not exist (Ardoq does not check it for us); default null (a root). */
  parent?: string | null;
  description?: string;
  componentKey?: string;
  customFields?: Record<string, unknown>;
  /** Default: a deterministic 24-hex id. */
  _id?: string;
}

export interface ArdoqWorkspaceRef {
  id: string;
  name: string;
}

/** The odd components of the seeded "Edge cases" workspace (see EDGE_CASE_NOTES in seed-edge-cases.ts). */
export type EdgeCaseKey =
  | 'domain'
  | 'initiative'
  | 'epic'
  | 'feature'
  | 'story1'
  | 'story2'
  | 'longNameStory'
  | 'orphanInitiative'
  | 'epicUnderOrphan'
  | 'featureUnderInitiative'
  | 'storyUnderMisplacedFeature'
  | 'epicUnderEpic'
  | 'featureUnderNestedEpic'
  | 'cycleA'
  | 'cycleB'
  | 'storyUnderCycle'
  | 'selfParent'
  | 'nestedDomain'
  | 'initiativeUnderNestedDomain'
  | 'epicUnderNestedDomain'
  | 'capabilityUnderEpic';

export interface EdgeCaseWorkspace extends ArdoqWorkspaceRef {
  /** Component `_id` of each edge case. */
  ids: Record<EdgeCaseKey, string>;
  /** The `parent` of `orphanInitiative`: a well-formed id that no component has. */
  missingParentId: string;
}

export interface GenerateWorkspaceOptions {
  name: string;
  /** Exactly this many components (Domain → Initiative → Epic → Feature → User Story, well formed). */
  components: number;
  /** Default: the simulator's seed. */
  seed?: number;
  description?: string;
  /** Shuffle the wire order (default true), so that a client cannot rely on parents coming first. */
  shuffle?: boolean;
}

export interface GeneratedWorkspace extends ArdoqWorkspaceRef {
  components: number;
  /** How many components of each type were made. */
  countsByType: Record<string, number>;
}

/** Path kinds counted by `stats.requestsByKind`. */
export type ArdoqPathKind =
  | 'me'
  | 'workspaces'
  | 'workspace'
  | 'context'
  | 'components'
  | 'component'
  | 'other';

export interface ArdoqSimStats {
  /** Every HTTP request received, authenticated or not. */
  requests: number;
  requestsByKind: Record<ArdoqPathKind, number>;
  /** Pages of a paginated list (workspaces, components) answered 200. */
  pagesServed: number;
  /** Answers given with 429 (throttleEvery and 'throttle' faults). */
  throttled: number;
  /** Sockets destroyed without an answer ('drop' faults). */
  dropped: number;
  /** Answers 401 or 403 (auth, User-Agent, X-org and 'unauthorized' faults). */
  rejected: number;
  /** Requests being handled right now (latency included). */
  inFlight: number;
  /** Maximum of inFlight since start or the last resetStats(). */
  peakConcurrentRequests: number;
}

/** A request as recorded for tests; the token itself is never kept. */
export interface RecordedRequest {
  method: string;
  /** Path and query; a query value equal to the token is replaced by `[token]`. */
  path: string;
  kind: ArdoqPathKind;
  /** Lower-case header names; `authorization` is `Bearer [token]` when it carried the token, else `[other]`. */
  headers: Record<string, string>;
  /** 'valid' when the Authorization header carried the right bearer token. */
  auth: 'valid' | 'invalid' | 'missing';
  /** The status answered, or 0 when the socket was dropped or the client went away first. */
  status: number;
}

export interface ArdoqSimulator {
  /** http://127.0.0.1:PORT (no trailing slash): the API host a client is configured with. */
  readonly url: string;
  readonly token: string;
  /** The X-org label required, or undefined when X-org is not checked. */
  readonly orgLabel: string | undefined;
  readonly seed: number;
  readonly demoWorkspace: ArdoqWorkspaceRef & { components: number };
  readonly edgeCases: EdgeCaseWorkspace;
  readonly emptyWorkspace: ArdoqWorkspaceRef;
  close(): Promise<void>;
  /** Merges into the current faults (pass 0 to turn a knob off); queued one-shot faults stay queued. */
  setFaults(faults: ArdoqFaults): void;
  /** The next `count` requests (whose path starts with `pathPrefix`, when given) answer with this fault. */
  failNext(kind: ArdoqFaultKind, count?: number, pathPrefix?: string): void;
  /** Makes every cursor handed out so far answer 400 (as if it had expired). */
  expireCursors(): void;
  addWorkspace(input: { name: string; description?: string }): ArdoqWorkspaceRef;
  addComponent(workspaceId: string, input: NewArdoqComponent): ArdoqComponentJson;
  generateWorkspace(options: GenerateWorkspaceOptions): GeneratedWorkspace;
  /** Every component of a workspace, in wire order (fresh copies). */
  components(workspaceId: string): ArdoqComponentJson[];
  readonly stats: ArdoqSimStats;
  resetStats(): void;
  /** The most recent requests, oldest first (copies). */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
}
