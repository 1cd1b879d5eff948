import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { adoTrackerFactory } from '#adapters/ado-rest-work-item-tracker.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { LocalSecretStore } from '#adapters/secret-stores.ts';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import {
  DEFAULT_SETTINGS,
  type Log,
  noMetrics,
  type PipelineDeps,
  type PipelineMetrics,
} from '#core/pipeline/deps.ts';
import { sweep } from '#core/pipeline/finalize.ts';
import { systemClock } from '#core/ports/clock.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkQueue } from '#core/ports/work-queue.ts';
import { createApiApp } from '#lambdas/api/app.ts';
import type { TailOptions } from '#lambdas/api/sse.ts';
import { createFinalizerApp } from '#lambdas/finalizer/app.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';
import { type AdoSimulator, type SimFaults, startAdoSimulator } from '#sim/ado/index.ts';
import { appendAuditLog } from '#store/audit-log-store.ts';
import {
  getActiveConfiguration,
  insertConfiguration,
  listConfigurations,
  updateConfiguration,
} from '#store/configuration-store.ts';
import type { Database } from '#store/database.ts';
import { runMigrations } from '#store/migrations.ts';
import { countOpenSyncs } from '#store/sync/pipeline-rows.ts';
import { serveApi } from './api-gateway-adapter.ts';
import { InvocationTimeout } from './invocation-timeout.ts';
import { SqsEventSource } from './sqs-event-source.ts';
import { startLocalSqsService } from './sqs-service.ts';

export const SIMULATOR_CONFIG_NAME = 'Local ADO simulator';

export interface LocalSystemOptions {
  /** HTTP port (0 = any free port). */
  port: number;
  /** PGlite data directory and local secrets; ignored for the database when `databaseUrl` or `db` is set. */
  dataDir: string;
  databaseUrl?: string;
  /** An already-open database (tests); the system does not close it. */
  db?: Database;
  processorConcurrency: number;
  /** Lambda's visibility timeout: how long a failed message stays hidden before it is retried. */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  sweepIntervalMs?: number;
  settings?: Partial<PipelineDeps['settings']>;
  /**
   * Lambda's function timeout for the processor and finalizer invocations (default 80% of
   * staleSeconds; must stay below it, as lib/config.ts requires in AWS). See InvocationTimeout.
   */
  invocationTimeoutMs?: number;
  /** 'auto': start the simulator when no configuration exists or the active one is the simulator. */
  simulator?: 'auto' | 'never';
  simulatorPort?: number;
  /** The simulator's PAT on first start (default: random); later starts reuse the stored one. */
  simulatorPat?: string;
  simulatorFaults?: SimFaults;
  /** A simulator that outlives this system (restart tests); it is not closed by `stop()`. */
  simulatorInstance?: AdoSimulator;
  simulatorSeed?: number;
  /** A real organization to configure when none exists (ADO_ORGANIZATION + ADO_PAT). */
  organization?: { name: string; pat: string };
  /**
   * Origins a PAT may go to besides dev.azure.com and *.visualstudio.com (ADO_ALLOWED_ORIGINS); the
   * built-in simulator's own origin is added when it runs.
   */
  adoAllowedOrigins?: string[];
  corsOrigins?: string[];
  /** When set, every route but the public ones requires `Authorization: Bearer <token>` (LOCAL_AUTH_TOKEN). */
  authToken?: string;
  /** SSE tailing options (tests poll faster). */
  tail?: TailOptions;
  log: Log;
  metrics?: PipelineMetrics;
  /** Wraps the tracker factory (fault injection in tests). */
  wrapTrackers?: (factory: WorkItemTrackerFactory) => WorkItemTrackerFactory;
  /** Wraps the database the pipeline uses (fault injection in tests). */
  wrapDb?: (db: Database) => Database;
  /** Wraps the queue the pipeline sends to (fault injection in tests: duplicates). */
  wrapQueue?: (queue: WorkQueue) => WorkQueue;
  secrets?: SecretStore;
}

export interface LocalSystem {
  url: string;
  deps: PipelineDeps;
  db: Database;
  simulator?: AdoSimulator;
  queue: SqsWorkQueue;
  sqs: SQSClient;
  queueUrls: { work: string; workDlq: string; finalize: string; finalizeDlq: string };
  eventSources: { work: SqsEventSource; finalize: SqsEventSource };
  /** Runs the sweep now (the timer runs it every `sweepIntervalMs`). */
  sweep(staleSeconds?: number): Promise<unknown>;
  /** Approximate number of visible + in-flight messages of a queue. */
  queueDepth(url: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The whole system on one machine (DESIGN.md §7): the same handlers as in AWS, with PGlite or
 * PostgreSQL, fauxqs behind the real SQS adapter, a poller playing the event source mapping, the
 * finalizer schedule as a timer and, unless a real organization is configured, the ADO simulator.
 */
export async function startLocalSystem(options: LocalSystemOptions): Promise<LocalSystem> {
  const settings = { ...DEFAULT_SETTINGS, staleSeconds: 30, ...options.settings };
  const timeoutMs = options.invocationTimeoutMs ?? Math.floor(settings.staleSeconds * 800);
  if (!(timeoutMs > 0 && timeoutMs < settings.staleSeconds * 1000)) {
    throw new Error(
      `invocationTimeoutMs (${timeoutMs}) must be positive and below staleSeconds (${settings.staleSeconds} s): a live claim must never look stranded`,
    );
  }
  const timeout = new InvocationTimeout(timeoutMs);
  await mkdir(options.dataDir, { recursive: true });
  const ownsDb = !options.db;
  const rawDb =
    options.db ??
    (options.databaseUrl
      ? new PostgresDatabase({ connectionString: options.databaseUrl })
      : await PgliteDatabase.create({ dataDir: join(options.dataDir, 'pglite') }));
  await runMigrations(rawDb, await readMigrations());
  const db = options.wrapDb ? options.wrapDb(rawDb) : rawDb;
  const secrets =
    options.secrets ??
    (await LocalSecretStore.open(join(options.dataDir, 'secrets'), process.env.LOCAL_SECRET_KEY));

  // Queues: fauxqs on its own thread, reached through the production SQS adapter.
  const fauxqs = await startLocalSqsService();
  const sqsEndpoint = fauxqs.endpoint;
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const visibility = options.visibilityTimeoutSeconds ?? 60;
  const queueUrls = await createQueues(sqs, visibility, options.maxReceiveCount ?? 5);
  const queue = new SqsWorkQueue(sqs, { workQueueUrl: queueUrls.work, finalizeQueueUrl: queueUrls.finalize });

  // Before the tracker factory: the simulator's origin (a random loopback port) is an allowed one.
  const simulator = await ensureConfiguration(rawDb, secrets, options);
  const simulatorOrigins = simulator ? [new URL(simulator.url).origin] : [];
  const ado = adoTrackerFactory({
    allowedOrigins: [...(options.adoAllowedOrigins ?? []), ...simulatorOrigins],
  });
  const trackers = options.wrapTrackers ? options.wrapTrackers(ado) : ado;
  const deps: PipelineDeps = {
    db: timeout.wrapDb(db),
    queue: timeout.wrapQueue(options.wrapQueue ? options.wrapQueue(queue) : queue),
    secrets,
    trackers: timeout.wrapTrackers(trackers),
    clock: systemClock,
    log: options.log,
    metrics: options.metrics ?? noMetrics,
    settings,
  };

  const processor = timeout.wrapHandler(createProcessorApp(deps));
  const finalizer = timeout.wrapHandler(createFinalizerApp(deps));
  const eventSources = {
    work: new SqsEventSource(
      sqs,
      queueUrls.work,
      processor,
      { concurrency: options.processorConcurrency, visibilityTimeoutSeconds: visibility },
      options.log,
    ),
    finalize: new SqsEventSource(
      sqs,
      queueUrls.finalize,
      finalizer,
      { concurrency: 1, visibilityTimeoutSeconds: visibility },
      options.log,
    ),
  };

  await resumeUnfinished(rawDb, deps);
  eventSources.work.start();
  eventSources.finalize.start();

  let sweeping: Promise<unknown> = Promise.resolve();
  const runSweep = (staleSeconds?: number) => {
    sweeping = sweeping
      .then(() => sweep(deps, staleSeconds))
      .catch((error: unknown) => {
        options.log.warn('sweep failed', { error: (error as Error).message });
      });
    return sweeping;
  };
  const timer = setInterval(() => void runSweep(), options.sweepIntervalMs ?? 60_000);

  const corsOrigins = options.corsOrigins ?? ['http://localhost:*', 'http://127.0.0.1:*'];
  const api = createApiApp(deps, {
    corsOrigins,
    auth: options.authToken
      ? { mode: 'token', token: options.authToken, userId: 'local-user' }
      : { mode: 'none' },
    ...(options.tail ? { tail: options.tail } : {}),
  });
  const { server, url } = await serveApi(api, options.port, { corsOrigins });

  return {
    url,
    deps,
    db,
    ...(simulator ? { simulator } : {}),
    queue,
    sqs,
    queueUrls,
    eventSources,
    sweep: runSweep,
    queueDepth: async (queueUrl) => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return (
        Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    },
    stop: async () => {
      clearInterval(timer);
      await closeServer(server);
      await Promise.all([eventSources.work.stop(), eventSources.finalize.stop()]);
      await sweeping;
      sqs.destroy();
      await fauxqs.close();
      if (simulator !== options.simulatorInstance) await simulator?.close();
      if (ownsDb) await rawDb.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function createQueues(sqs: SQSClient, visibility: number, maxReceiveCount: number) {
  const create = async (name: string, attributes: Record<string, string> = {}) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`queue ${name} was not created`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
  };
  const workDlq = await create('ardoq-sync-work-dlq');
  const finalizeDlq = await create('ardoq-sync-finalize-dlq');
  const redrive = (arn: string) =>
    JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: String(maxReceiveCount) });
  const work = await create('ardoq-sync-work', {
    VisibilityTimeout: String(visibility),
    RedrivePolicy: redrive(workDlq.arn),
  });
  const finalize = await create('ardoq-sync-finalize', {
    VisibilityTimeout: String(visibility),
    RedrivePolicy: redrive(finalizeDlq.arn),
  });
  return { work: work.url, workDlq: workDlq.url, finalize: finalize.url, finalizeDlq: finalizeDlq.url };
}

/**
 * Makes sure there is an active configuration: a real organization from the options, else the
 * built-in simulator (started, and configured on first run). Returns the simulator when it runs.
 */
async function ensureConfiguration(
  db: Database,
  secrets: SecretStore,
  options: LocalSystemOptions,
): Promise<AdoSimulator | undefined> {
  const all = await listConfigurations(db);
  const active = await getActiveConfiguration(db);
  if (options.organization && all.length === 0) {
    const id = `local-${randomBytes(4).toString('hex')}`;
    const secretRef = await secrets.put(id, options.organization.pat);
    await insertConfiguration(db, {
      id,
      name: options.organization.name,
      organization: options.organization.name,
      secretRef,
      isActive: true,
      isTested: false,
    });
    await appendAuditLog(db, {
      actionType: 'config_created',
      entityType: 'configuration',
      entityId: id,
      details: { source: 'ADO_ORGANIZATION' },
    });
    return undefined;
  }
  const wantSimulator =
    options.simulator !== 'never' && (all.length === 0 || active?.name === SIMULATOR_CONFIG_NAME);
  if (!wantSimulator) return undefined;

  let pat: string;
  if (active?.name === SIMULATOR_CONFIG_NAME) pat = await secrets.get(active.secretRef);
  else pat = options.simulatorPat ?? randomBytes(24).toString('base64url');
  const simulator =
    options.simulatorInstance ??
    (await startAdoSimulator({
      pat,
      port: options.simulatorPort ?? 0,
      ...(options.simulatorFaults ? { faults: options.simulatorFaults } : {}),
      ...(options.simulatorSeed !== undefined ? { seed: options.simulatorSeed } : {}),
    }));
  if (active?.name === SIMULATOR_CONFIG_NAME) {
    if (active.organization !== simulator.url)
      await updateConfiguration(db, active.id, { organization: simulator.url });
  } else {
    const id = 'local-ado-simulator';
    const secretRef = await secrets.put(id, pat);
    await insertConfiguration(db, {
      id,
      name: SIMULATOR_CONFIG_NAME,
      organization: simulator.url,
      secretRef,
      isActive: true,
      isTested: true,
      testPassed: true,
    });
    await appendAuditLog(db, {
      actionType: 'config_created',
      entityType: 'configuration',
      entityId: id,
      details: { source: 'local simulator' },
    });
  }
  return simulator;
}

/**
 * The local queue lives in memory: after a restart, every open sync is resumed. Claims held by the
 * dead process are expired, then the sweep re-sends whatever is stranded (idempotent).
 */
async function resumeUnfinished(db: Database, deps: PipelineDeps): Promise<void> {
  const open = await countOpenSyncs(db);
  if (open === 0) return;
  await db.query(`UPDATE sync_plan_items SET claimed_at = '-infinity' WHERE state = 'processing'`);
  await db.query(`UPDATE sync_history SET prepare_claimed_at = NULL WHERE status = 'pending'`);
  const report = await sweep(deps, 0);
  deps.log.info('resumed unfinished syncs', { count: open, ...report });
}
