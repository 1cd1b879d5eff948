import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import * as z from 'zod';
import { readMigrations } from '#adapters/migration-files.ts';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { ProjectName, StartSyncBody, StartSyncQuery } from '#core/domain/sync-request.ts';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import type {
  Log,
  PipelineDeps,
  PipelineMetrics,
  PipelineSettings,
  ProcessDeps,
  StartDeps,
} from '#core/pipeline/deps.ts';
import { MappingCache } from '#core/pipeline/mapping-cache.ts';
import { type StartSyncInput, startSync } from '#core/pipeline/start-sync.ts';
import type { Clock } from '#core/ports/clock.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import { AdoRejectedError } from '#core/ports/work-item-tracker.ts';
import { RetryLaterError, type WorkMessage, type WorkQueue } from '#core/ports/work-queue.ts';
import { check } from '#lambdas/api/router.ts';
import { routeWorkMessage } from '#lambdas/processor/app.ts';
import {
  adoConfigurationStore,
  ardoqConfigurationStore,
  insertConfiguration,
} from '#store/configuration-store.ts';
import { type Database, type Queryable, type SqlParams, sqlUuid } from '#store/database.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { runMigrations } from '#store/migrations.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import { listEvents } from '#store/sync/sync-rows.ts';
import { FakeWorkItemTracker, fakeTrackerFactory } from './fake-work-item-tracker.ts';

// The harness of the pipeline unit tests (test/unit/pipeline-*.test.ts): the core use cases driven
// directly (startSync → prepareSync → processItem → finalize, sweep, cancel), with real SQL on PGlite and
// fakes at the other ports: a recording queue, an in-memory secret store, the fake Azure DevOps, a
// controllable clock.

/** The PAT the fake Azure DevOps accepts and every harness stores (unless told otherwise). */
export const PAT = 'pipeline-test-pat-0123456789abcdefghijklmnopqrstuvwxyzAB';
/** Who starts (and cancels) the syncs of the tests. */
export const ACTOR = { userId: 'planner-1', sourceIp: '10.0.0.1', userAgent: 'vitest' };
/** The pipeline settings of every harness: a 2 h deadline, claims stale after 30 s. */
export const SETTINGS: PipelineSettings = {
  deadlineMinutes: 120,
  staleSeconds: 30,
  ardoqBaseUrl: 'https://acme.ardoq.test',
  transientRetrySeconds: 5,
  overwriteRetryMinutes: 10,
  cancelWaitMs: 0,
};

// ---- the database --------------------------------------------------------------------------------------

/**
 * An in-memory PGlite database with every migration applied. One costs ~5 s and up to 0.8 GB: create
 * one per test file (in `beforeAll`) and close it in `afterAll`; tests keep apart by unique projects.
 */
export async function createPipelineDatabase(): Promise<PgliteDatabase> {
  const db = await PgliteDatabase.create();
  await runMigrations(db, await readMigrations());
  return db;
}

/**
 * The test file's one pipeline database: created in `beforeAll`, closed in `afterAll`. Call at the top
 * level of a test file; the returned `Database` reaches the instance once `beforeAll` has run.
 */
export function usePipelineDatabase(): Database {
  let instance: PgliteDatabase | undefined;
  beforeAll(async () => {
    instance = await createPipelineDatabase();
  });
  afterAll(async () => {
    await instance?.close();
  });
  const current = () => {
    if (!instance) throw new Error('the pipeline database exists from beforeAll on');
    return instance;
  };
  return {
    query: ((sql: string, params?: SqlParams) => current().query(sql, params)) as Database['query'],
    transaction: (work) => current().transaction(work),
    close: () => current().close(),
  };
}

// ---- fakes at the ports ------------------------------------------------------------------------------

/** Records every send; `pending` is what a consumer has not received yet (delays are not waited for). */
export class RecordingQueue implements WorkQueue {
  readonly sends: Array<{ messages: WorkMessage[]; delaySeconds: number | undefined }> = [];
  readonly pending: WorkMessage[] = [];

  async send(messages: readonly WorkMessage[], options?: { delaySeconds?: number }): Promise<void> {
    if (messages.length === 0) return;
    this.sends.push({ messages: [...messages], delaySeconds: options?.delaySeconds });
    this.pending.push(...messages);
  }

  /** Messages handed back by `retryLater` (receipt handle → delay). */
  readonly postponed: Array<{ receiptHandle: string; delaySeconds: number }> = [];

  async retryLater(receiptHandle: string, delaySeconds: number): Promise<void> {
    this.postponed.push({ receiptHandle, delaySeconds });
  }

  /** Every message ever sent for one sync, in order. */
  sent(syncId: string): WorkMessage[] {
    return this.sends.flatMap((s) => s.messages).filter((m) => m.syncId === syncId);
  }
}

/** A secret store in a map; references look like `memory:<configurationId>`. */
export class MemorySecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();
  async put(configurationId: string, secret: string): Promise<string> {
    const ref = `memory:${configurationId}`;
    this.secrets.set(ref, secret);
    return ref;
  }
  async get(ref: string): Promise<string> {
    const secret = this.secrets.get(ref);
    if (secret === undefined) throw new Error(`secret ${ref} not found`);
    return secret;
  }
  async delete(ref: string): Promise<void> {
    this.secrets.delete(ref);
  }
}

/** The real time shifted by `offsetMs` (negative: the past). */
export class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** Keeps every log entry, to assert on errors and on what must never be logged (a PAT). */
export class RecordingLog implements Log {
  readonly entries: Array<{ level: string; message: string; attributes?: Record<string, unknown> }> = [];
  debug(message: string, attributes?: Record<string, unknown>) {
    this.entries.push({ level: 'debug', message, ...(attributes && { attributes }) });
  }
  info(message: string, attributes?: Record<string, unknown>) {
    this.entries.push({ level: 'info', message, ...(attributes && { attributes }) });
  }
  warn(message: string, attributes?: Record<string, unknown>) {
    this.entries.push({ level: 'warn', message, ...(attributes && { attributes }) });
  }
  error(message: string, attributes?: Record<string, unknown>) {
    this.entries.push({ level: 'error', message, ...(attributes && { attributes }) });
  }
}

/** Sums every counted metric by name; durations are ignored. */
export class RecordingMetrics implements PipelineMetrics {
  readonly counts: Record<string, number> = {};
  count(name: string, n = 1) {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }
  durationMs() {}
}

/** One test's pipeline: its deps and the fakes behind them, over its own configuration. */
export interface Harness {
  deps: HarnessDeps;
  fake: FakeWorkItemTracker;
  queue: RecordingQueue;
  secrets: MemorySecretStore;
  clock: TestClock;
  log: RecordingLog;
  metrics: RecordingMetrics;
  /** The PAT Azure DevOps accepts; change it to revoke the stored one. */
  access: { pat: string };
  configId: string;
  configName: string;
  /** Syncs this test started: the drain ignores messages of other tests' syncs (the sweep is global). */
  syncIds: Set<string>;
}

/** The SQL stores over `db` (PGlite here). */
export const stores = (db: Database) => ({
  syncs: new SqlSyncStore(db),
  configurations: adoConfigurationStore(db),
  ardoqConfigurations: ardoqConfigurationStore(db),
  fieldMappings: new SqlFieldMappingStore(db),
});

/** Every use case's deps: the pipeline's, the start's and the items' (mappings). */
export type HarnessDeps = PipelineDeps & StartDeps & ProcessDeps;

/**
 * The same deps with their stores over another database (a faulty one, say), as a fresh process: no
 * connection cached yet.
 */
export const withDb = <D extends PipelineDeps>(deps: D, db: Database): D => ({
  ...deps,
  ...stores(db),
  connections: new ConnectionCache(),
  mappings: new MappingCache(),
});

/**
 * A fresh fake Azure DevOps organization and a configuration for it in `db` (its PAT `storedPat`, by
 * default the accepted {@link PAT}), with deps wired to recording fakes.
 */
export async function createHarness(db: Database, options: { storedPat?: string } = {}): Promise<Harness> {
  const fake = new FakeWorkItemTracker();
  const access = { pat: PAT };
  const secrets = new MemorySecretStore();
  const configId = `cfg-${randomUUID()}`;
  const configName = `Config ${configId.slice(4, 12)}`;
  const secretRef = await secrets.put(configId, options.storedPat ?? PAT);
  await insertConfiguration(db, { id: configId, name: configName, organization: fake.baseUrl, secretRef });
  const queue = new RecordingQueue();
  const clock = new TestClock();
  const log = new RecordingLog();
  const metrics = new RecordingMetrics();
  const deps: HarnessDeps = {
    ...stores(db),
    queue,
    secrets,
    trackers: fakeTrackerFactory(fake, access),
    connections: new ConnectionCache(),
    mappings: new MappingCache(),
    clock,
    log,
    metrics,
    settings: SETTINGS,
  };
  return {
    deps,
    fake,
    queue,
    secrets,
    clock,
    log,
    metrics,
    access,
    configId,
    configName,
    syncIds: new Set(),
  };
}

// ---- requests and driving ----------------------------------------------------------------------------

/** A node of a sync request body (an Ardoq component), with any extra Ardoq fields. */
export type RequestNode = {
  _id: string;
  name: string;
  type: string;
  children?: RequestNode[];
  [key: string]: unknown;
};

/** A request tree of epics × features × stories with unique ids, carrying every mapped Ardoq field. */
export function tree(
  prefix: string,
  epics: number,
  features: number,
  stories: number,
): { epics: RequestNode[] } {
  return {
    epics: Array.from({ length: epics }, (_, e) => ({
      _id: `${prefix}-e${e}`,
      name: `${prefix} Epic ${e}`,
      type: 'Epic',
      componentKey: `${prefix.toUpperCase()}-${e}`,
      priority: 'high',
      children: Array.from({ length: features }, (_, f) => ({
        _id: `${prefix}-e${e}-f${f}`,
        name: `${prefix} Feature ${e}.${f}`,
        type: 'Feature',
        description: 'Feature text',
        children: Array.from({ length: stories }, (_, s) => ({
          _id: `${prefix}-e${e}-f${f}-s${s}`,
          name: `${prefix} Story ${e}.${f}.${s}`,
          type: 'User Story',
          description: 'As a user\nI want <things>',
          acceptanceCriteria: 'It works',
          priority: (s % 4) + 1,
          tags: ['team-a'],
        })),
      })),
    })),
  };
}

/** A unique id prefix for one {@link tree}. */
export const prefixOf = () => `p${randomUUID().slice(0, 6)}`;

/** Starts a sync on the harness's configuration (plus `query`) and remembers it for {@link drain}. */
export async function start(
  h: Harness,
  project: string,
  body: unknown,
  query: Record<string, string | undefined> = {},
): Promise<string> {
  const result = await startSync(request(project, body, { configId: h.configId, ...query }), h.deps);
  h.syncIds.add(result.sync_history_id);
  return result.sync_history_id;
}

/**
 * A sync request checked the way the router checks it (the route's schemas), as startSync's typed
 * input; a ValidationError otherwise.
 */
export function request(
  project: string,
  body: unknown,
  query: Record<string, string | undefined> = {},
): StartSyncInput {
  const { project: name } = check(z.object({ project: ProjectName }), { project }, 'request', 'project');
  const q = check(StartSyncQuery, query, 'query parameter', 'query');
  return {
    project: name,
    configId: q.configId,
    overwrite: q.overwrite === 'true',
    sourceConfigId: q.sourceConfigId,
    body: check(StartSyncBody, body, 'request', 'body'),
    actor: ACTOR,
  };
}

/** startSync on a request checked as the router checks it (a rejected promise for bad input). */
export const startRequest = async (
  deps: StartDeps,
  input: { project: string; query: Record<string, string | undefined>; body: unknown },
) => startSync(request(input.project, input.body, input.query), deps);

/** Hands one message to its use case, as the processor and finalizer Lambdas do. */
export const deliver = (deps: PipelineDeps & ProcessDeps, message: WorkMessage): Promise<void> =>
  routeWorkMessage(message, deps);

/** How {@link drain} loses, scripts or stops at messages. */
export interface DrainOptions {
  /** Messages to lose. */
  drop?: (message: WorkMessage) => boolean;
  /** Called before a message is handled (to script Azure DevOps for it). */
  before?: (message: WorkMessage) => void;
  /** Stop before this message, leaving it (and the rest) queued. */
  stopAt?: (message: WorkMessage) => boolean;
}

/**
 * Delivers queued messages one at a time, in order, until none is left: a synchronous SQS + Lambda.
 * Messages of syncs the harness did not start are dropped. Returns the messages handled.
 */
export async function drain(h: Harness, options: DrainOptions = {}): Promise<WorkMessage[]> {
  const handled: WorkMessage[] = [];
  for (let step = 0; step < 10_000; step++) {
    const message = h.queue.pending[0];
    if (!message) return handled;
    if (options.stopAt?.(message)) return handled;
    h.queue.pending.shift();
    if (!h.syncIds.has(message.syncId) || options.drop?.(message)) continue;
    options.before?.(message);
    handled.push(message);
    try {
      await deliver(h.deps, message);
    } catch (error) {
      // The queue hands the message back later (its visibility timeout): here, at the end of the queue.
      if (!(error instanceof RetryLaterError)) throw error;
      await h.queue.retryLater(`${message.kind}:${message.syncId}`, error.delaySeconds);
      h.queue.pending.push(message);
    }
  }
  throw new Error('the queue never drained');
}

/** Starts a sync and delivers its prepare only: the sync is `in_progress`, its epics' messages queued. */
export async function startAndPrepare(h: Harness, project: string, body: unknown): Promise<string> {
  const syncId = await start(h, project, body);
  await drain(h, { stopAt: (m) => m.kind !== 'prepare' });
  expect((await h.deps.syncs.get(syncId)).status).toBe('in_progress');
  return syncId;
}

/** Matches the item message of one node. */
export const isItem = (ardoqId: string) => (m: WorkMessage) => m.kind === 'item' && m.ardoqId === ardoqId;

/** A rule error of Azure DevOps: permanent for the item. */
export const rejected = () =>
  new AdoRejectedError(
    'TF401320: Rule Error for field Title. Error code: InvalidListValue.',
    400,
    'TF401320',
  );

// ---- reading the database ----------------------------------------------------------------------------

/** A planned node joined with its outcome (the outcome columns are null while it has none). */
export interface NodeRow {
  ardoq_id: string;
  parent_ardoq_id: string | null;
  item_type: string;
  state: string;
  attempts: number;
  claimed_at: Date | null;
  status: string | null;
  azure_devops_id: number | null;
  error_message: string | null;
}

/** Every planned node with its outcome (status null when it has none), in request order. */
export async function nodes(db: Queryable, syncId: string): Promise<NodeRow[]> {
  const { rows } = await db.query<NodeRow & Record<string, unknown>>(
    `SELECT p.ardoq_id, p.parent_ardoq_id, p.item_type, p.state, p.attempts, p.claimed_at,
       i.status, i.azure_devops_id, i.error_message
     FROM sync_plan_items p
     LEFT JOIN sync_history_items i ON i.sync_history_id = p.sync_history_id AND i.ardoq_id = p.ardoq_id
     WHERE p.sync_history_id = CAST(:id AS uuid) ORDER BY p.position`,
    { id: sqlUuid(syncId) },
  );
  return rows;
}

/** One planned node with its outcome; throws when the sync has no such node. */
export async function node(db: Queryable, syncId: string, ardoqId: string): Promise<NodeRow> {
  const found = (await nodes(db, syncId)).find((n) => n.ardoq_id === ardoqId);
  if (!found) throw new Error(`no node ${ardoqId}`);
  return found;
}

/** The names of a sync's events, in order. */
export const eventNames = async (db: Queryable, syncId: string) =>
  (await listEvents(db, syncId)).map((e) => e.event);

/** How many rows of `table` belong to the syncs of one project (-1 when the count is missing). */
export async function countRows(db: Queryable, table: string, projectName: string): Promise<number> {
  const where =
    table === 'sync_history'
      ? 'project_name = :p'
      : 'sync_history_id IN (SELECT id FROM sync_history WHERE project_name = :p)';
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, {
    p: projectName,
  });
  return rows[0]?.n ?? -1;
}

// ---- backdating and crashes ------------------------------------------------------------------------------

/**
 * Moves rows back in time, as if `seconds` had passed since they were written, and returns how many
 * moved. `updated_at` is kept by a trigger, switched off for this one transaction (PGlite is one
 * session and the tests of a file run one at a time).
 */
export async function age(
  db: Database,
  table: 'sync_history' | 'sync_plan_items',
  column: 'updated_at' | 'claimed_at' | 'prepare_claimed_at' | 'prepare_retry_until' | 'prepare_next_at',
  where: string,
  params: SqlParams,
  seconds: number,
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    const { rowCount } = await tx.query(
      `UPDATE ${table} SET ${column} = ${column} - make_interval(secs => :seconds) WHERE ${where}`,
      { ...params, seconds },
    );
    return rowCount;
  });
}

/** A database whose statements matching `matches` fail once (a crash between two writes). */
export function failingOnce(inner: Database, matches: (sql: string) => boolean): Database {
  let failed = false;
  return {
    query: ((sql: string, params?: SqlParams) => {
      if (!failed && matches(sql)) {
        failed = true;
        return Promise.reject(new Error('simulated crash before this write'));
      }
      return inner.query(sql, params);
    }) as Database['query'],
    transaction: (fn) => inner.transaction(fn),
    close: () => inner.close(),
  };
}
