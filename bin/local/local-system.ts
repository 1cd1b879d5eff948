import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { adoTrackerFactory } from '#adapters/ado-rest-work-item-tracker.ts';
import { ardoqClientFactory } from '#adapters/ardoq-rest-client.ts';
import { readMigrations } from '#adapters/migration-files.ts';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { LocalSecretStore } from '#adapters/secret-stores.ts';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import { DEFAULT_HIERARCHY_TYPES, type HierarchyTypes } from '#core/domain/ardoq.ts';
import { CatalogCache } from '#core/mapping/catalog.ts';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from '#core/pipeline/deps.ts';
import { MappingCache } from '#core/pipeline/mapping-cache.ts';
import { sweep } from '#core/pipeline/sweep.ts';
import { systemClock } from '#core/ports/clock.ts';
import { type Log, noMetrics, type PipelineMetrics } from '#core/ports/observability.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkQueue } from '#core/ports/work-queue.ts';
import { createApiApp } from '#lambdas/api/app.ts';
import type { ApiDeps } from '#lambdas/api/deps.ts';
import type { AuthConfig, RouterDeps } from '#lambdas/api/router.ts';
import type { TailOptions } from '#lambdas/api/sse.ts';
import { createFinalizerApp } from '#lambdas/finalizer/app.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';
import type { AdoSimulator } from '#sim/ado/index.ts';
import type { ArdoqSimulator } from '#sim/ardoq/index.ts';
import { SqlAuditTrail } from '#store/audit-log-store.ts';
import { adoConfigurationStore, ardoqConfigurationStore } from '#store/configuration-store.ts';
import type { Database } from '#store/database.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { SqlHistoryStore } from '#store/history/history-store.ts';
import { runMigrations } from '#store/migrations.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import { serveApi } from './api-gateway-adapter.ts';
import { InvocationTimeout } from './invocation-timeout.ts';
import {
  type ArdoqConfigurationOptions,
  type ConfigurationOptions,
  ensureArdoqConfiguration,
  ensureConfiguration,
  ensureMappingConfiguration,
} from './local-configuration.ts';
import { createQueues, queueDepth } from './local-queues.ts';
import type { ThreadStatement } from './processor-messages.ts';
import { ProcessorPool } from './processor-pool.ts';
import { SqsEventSource } from './sqs-event-source.ts';
import { startLocalSqsService } from './sqs-service.ts';

export { SIMULATOR_CONFIG_NAME } from './local-configuration.ts';

export interface LocalSystemOptions extends ConfigurationOptions, ArdoqConfigurationOptions {
  /** HTTP port (0 = any free port). */
  port: number;
  /** PGlite data directory and local secrets; ignored for the database when `databaseUrl` or `db` is set. */
  dataDir: string;
  databaseUrl?: string;
  /** An already-open database (tests); the system does not close it. */
  db?: Database;
  processorConcurrency: number;
  /**
   * Worker threads the processor invocations run on (processor-pool.ts), as each Lambda has its own
   * CPU in AWS; 0 (the default): on the main thread, where the interposers below reach them.
   * `npm start` uses min(processorConcurrency, cores).
   */
  processorThreads?: number;
  /**
   * The benchmarks: what the processor threads do, reported (each statement they run on a pool of their
   * own, each SQS send). The statements they run on the main thread's database pass its interposer.
   */
  observeProcessorThreads?: {
    onStatement?: (statement: ThreadStatement) => void;
    onSqsSend?: (messages: number) => void;
    /** See ProcessorThreadConfig.statementSummarizer. */
    statementSummarizer?: string;
  };
  /** Lambda's visibility timeout: how long a failed message stays hidden before it is retried. */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  sweepIntervalMs?: number;
  settings?: Partial<PipelineSettings>;
  /**
   * Lambda's function timeout for the processor and finalizer invocations (default 80% of
   * staleSeconds; must stay below it, as lib/config.ts requires in AWS). See InvocationTimeout.
   */
  invocationTimeoutMs?: number;
  /**
   * Origins a PAT may go to besides dev.azure.com and *.visualstudio.com (ADO_ALLOWED_ORIGINS); the
   * built-in simulator's own origin is added when it runs.
   */
  adoAllowedOrigins?: string[];
  /** Origins an Ardoq token may go to besides https://*.ardoq.com (ARDOQ_ALLOWED_ORIGINS); the simulator's is added. */
  ardoqAllowedOrigins?: string[];
  /** The Ardoq component types of the five levels (ARDOQ_HIERARCHY_TYPES). */
  hierarchyTypes?: HierarchyTypes;
  /** How long a project create waits for Azure DevOps' operation before answering (default 10 s). */
  projectCreateWaitMs?: number;
  corsOrigins?: string[];
  /**
   * When set, every route but the public ones requires one of these bearer tokens (LOCAL_AUTH_TOKEN
   * for an admin, LOCAL_READER_TOKEN for a plain user); otherwise the API is open on 127.0.0.1 and
   * every caller is an admin.
   */
  authTokens?: { admin: string; reader?: string };
  /** SSE tailing options (tests poll faster). */
  tail?: TailOptions;
  log: Log;
  /** Forward the processor threads' debug lines (a message per line; off unless the log level is DEBUG). */
  debugThreads?: boolean;
  metrics?: PipelineMetrics;
  /**
   * Interposers on the ports the handlers see (the runtime itself uses none; fault injection by the
   * tests wraps them here): the database, the Azure DevOps tracker factory, the queue.
   */
  interpose?: {
    db?: (db: Database) => Database;
    trackers?: (factory: WorkItemTrackerFactory) => WorkItemTrackerFactory;
    queue?: (queue: WorkQueue) => WorkQueue;
  };
  secrets?: SecretStore;
}

/** Every port the local runtime's handlers get (as each function builds its own share in AWS). */
export type LocalDeps = ApiDeps & RouterDeps;

export interface LocalSystem {
  url: string;
  deps: LocalDeps;
  /** The database the handlers use (interposers included). */
  db: Database;
  simulator?: AdoSimulator;
  ardoqSimulator?: ArdoqSimulator;
  queue: SqsWorkQueue;
  sqs: SQSClient;
  queueUrls: { work: string; workDlq: string; finalize: string; finalizeDlq: string };
  eventSources: { work: SqsEventSource; finalize: SqsEventSource };
  /** Threads the processor invocations run on (0: the main thread). */
  processorThreads: number;
  /** The processor threads, when there are any. */
  processorPool?: ProcessorPool;
  /** CPU of the SQS emulator's thread, in clock ticks (the benchmarks count it apart: SQS is AWS' CPU). */
  sqsCpuTicks(): Promise<number | null>;
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
  const threads = options.processorThreads ?? 0;
  if (threads > 0 && (options.interpose?.trackers || options.interpose?.queue)) {
    throw new Error(
      'the trackers and queue interposers reach only processors on the main thread (processorThreads 0)',
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
  const db = options.interpose?.db ? options.interpose.db(rawDb) : rawDb;
  const secrets =
    options.secrets ??
    (await LocalSecretStore.open(join(options.dataDir, 'secrets'), process.env.LOCAL_SECRET_KEY));

  // Queues: fauxqs on its own thread, reached through the production SQS adapter.
  const fauxqs = await startLocalSqsService();
  const sqs = new SQSClient({
    endpoint: fauxqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const visibility = options.visibilityTimeoutSeconds ?? 60;
  const queueUrls = await createQueues(sqs, visibility, options.maxReceiveCount ?? 5);
  const queue = new SqsWorkQueue(sqs, { workQueueUrl: queueUrls.work, finalizeQueueUrl: queueUrls.finalize });

  // The handlers' database refuses work after an invocation's timeout, like a stopped Lambda.
  const handlersDb = timeout.wrapDb(db);
  const configurations = adoConfigurationStore(handlersDb);
  // Before the tracker factory: the simulator's origin (a random loopback port) is an allowed one.
  const simulator = await ensureConfiguration(configurations, secrets, options);
  const simulatorOrigins = simulator ? [new URL(simulator.url).origin] : [];
  const ado = adoTrackerFactory({
    allowedOrigins: [...(options.adoAllowedOrigins ?? []), ...simulatorOrigins],
  });
  const trackers = options.interpose?.trackers ? options.interpose.trackers(ado) : ado;
  const ardoqConfigurations = ardoqConfigurationStore(handlersDb);
  const ardoqSimulator = await ensureArdoqConfiguration(ardoqConfigurations, secrets, options);
  const fieldMappings = new SqlFieldMappingStore(handlersDb);
  const ardoqAllowedOrigins = [
    ...(options.ardoqAllowedOrigins ?? []),
    ...(ardoqSimulator ? [new URL(ardoqSimulator.url).origin] : []),
  ];
  const deps: LocalDeps = {
    syncs: new SqlSyncStore(handlersDb),
    history: new SqlHistoryStore(handlersDb),
    configurations,
    ardoqConfigurations,
    fieldMappings,
    catalogs: new CatalogCache(),
    mappings: new MappingCache(),
    ardoq: ardoqClientFactory({ allowedOrigins: ardoqAllowedOrigins }),
    ardoqAllowedOrigins,
    hierarchyTypes: options.hierarchyTypes ?? DEFAULT_HIERARCHY_TYPES,
    ...(options.projectCreateWaitMs !== undefined
      ? { projectCreateWaitMs: options.projectCreateWaitMs }
      : {}),
    audit: new SqlAuditTrail(handlersDb),
    queue: timeout.wrapQueue(options.interpose?.queue ? options.interpose.queue(queue) : queue),
    secrets,
    trackers: timeout.wrapTrackers(trackers),
    connections: new ConnectionCache(),
    clock: systemClock,
    log: options.log,
    metrics: options.metrics ?? noMetrics,
    settings,
    ...(options.tail ? { tail: options.tail } : {}),
  };

  const pool =
    threads > 0
      ? await ProcessorPool.start({
          threads,
          config: {
            settings,
            invocationTimeoutMs: timeoutMs,
            ...(options.databaseUrl && !options.db ? { databaseUrl: options.databaseUrl } : {}),
            databasePoolMax: Math.max(2, Math.ceil(options.processorConcurrency / threads) + 1),
            sqs: {
              endpoint: fauxqs.endpoint,
              workQueueUrl: queueUrls.work,
              finalizeQueueUrl: queueUrls.finalize,
            },
            adoAllowedOrigins: [...(options.adoAllowedOrigins ?? []), ...simulatorOrigins],
            debug: options.debugThreads ?? false,
            observe: options.observeProcessorThreads !== undefined,
            ...(options.observeProcessorThreads?.statementSummarizer
              ? { statementSummarizer: options.observeProcessorThreads.statementSummarizer }
              : {}),
          },
          db: handlersDb,
          secrets,
          log: options.log,
          metrics: deps.metrics,
          ...(options.observeProcessorThreads?.onStatement
            ? { onStatement: options.observeProcessorThreads.onStatement }
            : {}),
          ...(options.observeProcessorThreads?.onSqsSend
            ? { onSqsSend: options.observeProcessorThreads.onSqsSend }
            : {}),
        })
      : undefined;
  const processor = pool
    ? (event: SQSEvent) => pool.invoke(event)
    : timeout.wrapHandler(createProcessorApp(deps));
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

  await ensureMappingConfiguration(deps, simulator !== undefined);
  await resumeUnfinished(deps);
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
  const api = createApiApp(deps, { corsOrigins, auth: localAuth(options.authTokens) });
  const { server, url } = await serveApi(api, options.port, { corsOrigins });

  return {
    url,
    deps,
    db,
    ...(simulator ? { simulator } : {}),
    ...(ardoqSimulator ? { ardoqSimulator } : {}),
    queue,
    sqs,
    queueUrls,
    eventSources,
    processorThreads: pool?.size ?? 0,
    ...(pool ? { processorPool: pool } : {}),
    sqsCpuTicks: () => fauxqs.cpuTicks(),
    sweep: runSweep,
    queueDepth: (queueUrl) => queueDepth(sqs, queueUrl),
    stop: async () => {
      clearInterval(timer);
      await closeServer(server);
      await Promise.all([eventSources.work.stop(), eventSources.finalize.stop()]);
      await sweeping;
      await pool?.close();
      sqs.destroy();
      await fauxqs.close();
      if (simulator !== options.simulatorInstance) await simulator?.close();
      if (ardoqSimulator !== options.ardoqSimulatorInstance) await ardoqSimulator?.close();
      if (ownsDb) await rawDb.close();
    },
  };
}

/** The printed tokens: the admin's (LOCAL_AUTH_TOKEN) and a plain user's (LOCAL_READER_TOKEN). */
function localAuth(tokens: LocalSystemOptions['authTokens']): AuthConfig {
  if (!tokens) return { mode: 'none' };
  return {
    mode: 'token',
    tokens: [
      { token: tokens.admin, userId: 'local-admin', admin: true },
      ...(tokens.reader ? [{ token: tokens.reader, userId: 'local-user', admin: false }] : []),
    ],
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The local queue lives in memory: after a restart, every open sync is resumed. Claims held by the
 * dead process are expired, then the sweep re-sends whatever is stranded (idempotent).
 */
async function resumeUnfinished(deps: LocalDeps): Promise<void> {
  const open = await deps.syncs.expireClaimsAfterRestart();
  if (open === 0) return;
  const report = await sweep(deps, 0);
  deps.log.info('resumed unfinished syncs', { count: open, ...report });
}
