/**
 * A processor thread of the local runtime (see processor-pool.ts): what one processor Lambda container
 * is in AWS. It builds the processor's ports once (its own PostgreSQL pool, SQS client, Azure DevOps
 * HTTP clients and caches; the main thread's database and secret store through messages where those
 * live in the main thread) and runs the invocations the pool hands it, several at a time.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { adoTrackerFactory } from '#adapters/ado-rest-work-item-tracker.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import type { ProcessDeps } from '#core/pipeline/deps.ts';
import { MappingCache } from '#core/pipeline/mapping-cache.ts';
import { systemClock } from '#core/ports/clock.ts';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';
import { adoConfigurationStore } from '#store/configuration-store.ts';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#store/database.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import { InvocationTimeout } from './invocation-timeout.ts';
import {
  type DbCall,
  epochNow,
  type FromThread,
  type ProcessorThreadConfig,
  revive,
  type SerializedError,
  serializeError,
  type ThreadStatement,
  type ToThread,
} from './processor-messages.ts';
import { countSqsSends } from './sqs-send-counter.ts';

/** Calls on the main thread, answered by `reply` messages. */
class MainThread {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: MessagePort) {}

  call<T>(message: (id: number) => FromThread): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage(message(id));
    });
  }

  reply(id: number, value: unknown, error: SerializedError | undefined): void {
    const waiter = this.pending.get(id);
    this.pending.delete(id);
    if (!waiter) return;
    if (error) waiter.reject(revive(error));
    else waiter.resolve(value);
  }

  post(message: FromThread): void {
    this.port.postMessage(message);
  }
}

/** The main thread's database (PGlite lives there), statement by statement. */
class MainThreadDatabase implements Database {
  private nextTx = 0;
  constructor(private readonly main: MainThread) {}

  private run(call: DbCall): Promise<QueryResult> {
    return this.main.call<QueryResult>((id) => ({ type: 'db', id, call }));
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    return this.run({ op: 'query', sql, params }) as Promise<QueryResult<R>>;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const tx = this.nextTx++;
    await this.run({ op: 'begin', tx });
    let result: T;
    try {
      result = await fn({
        query: <R extends Row>(sql: string, params?: SqlParams) =>
          this.run({ op: 'query', sql, params, tx }) as Promise<QueryResult<R>>,
      });
    } catch (error) {
      await this.run({ op: 'rollback', tx }).catch(() => undefined);
      throw error;
    }
    await this.run({ op: 'commit', tx });
    return result;
  }

  async close(): Promise<void> {}
}

/** Reports each statement to the main thread (benchmarks), around the thread's own database. */
function observed(
  db: Database,
  main: MainThread,
  summarize: (statement: ThreadStatement) => ThreadStatement,
): Database {
  const run = async <R extends Row>(
    target: Queryable,
    sql: string,
    params: SqlParams | undefined,
    inTransaction: boolean,
  ): Promise<QueryResult<R>> => {
    const startEpochMs = epochNow();
    let result: QueryResult<R> | undefined;
    try {
      result = await target.query<R>(sql, params);
      return result;
    } finally {
      main.post({
        type: 'statement',
        statement: summarize({
          sql,
          params,
          rows: result?.rows ?? [],
          startEpochMs,
          endEpochMs: epochNow(),
          inTransaction,
          failed: result === undefined,
        }),
      });
    }
  };
  return {
    query: (sql, params) => run(db, sql, params, false),
    transaction: (fn) => db.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params, true) })),
    close: () => db.close(),
  };
}

function forwardingLog(main: MainThread, debug: boolean): Log {
  const send =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, attributes?: Record<string, unknown>) =>
      main.post({ type: 'log', level, message, ...(attributes ? { attributes } : {}) });
  return {
    debug: debug ? send('debug') : () => undefined,
    info: send('info'),
    warn: send('warn'),
    error: send('error'),
  };
}

function forwardingMetrics(main: MainThread): PipelineMetrics {
  return {
    count: (name, n) => main.post({ type: 'metric', kind: 'count', name, value: n }),
    durationMs: (name, ms) => main.post({ type: 'metric', kind: 'durationMs', name, value: ms }),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const config = workerData as ProcessorThreadConfig;
  const main = new MainThread(port);
  const timeout = new InvocationTimeout(config.invocationTimeoutMs);
  const own = config.databaseUrl
    ? new PostgresDatabase({ connectionString: config.databaseUrl, max: config.databasePoolMax })
    : new MainThreadDatabase(main);
  const summarize: (statement: ThreadStatement) => ThreadStatement = config.statementSummarizer
    ? ((await import(config.statementSummarizer)) as { summarize: (s: ThreadStatement) => ThreadStatement })
        .summarize
    : (statement) => statement;
  const db = timeout.wrapDb(config.observe && config.databaseUrl ? observed(own, main, summarize) : own);
  const sqs = new SQSClient({
    endpoint: config.sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  if (config.observe) countSqsSends(sqs, (messages) => main.post({ type: 'sqs-send', messages }));
  const queue = new SqsWorkQueue(sqs, {
    workQueueUrl: config.sqs.workQueueUrl,
    finalizeQueueUrl: config.sqs.finalizeQueueUrl,
  });
  const deps: ProcessDeps = {
    syncs: new SqlSyncStore(db),
    configurations: adoConfigurationStore(db),
    fieldMappings: new SqlFieldMappingStore(db),
    mappings: new MappingCache(),
    queue: timeout.wrapQueue(queue),
    secrets: { get: (ref) => main.call<string>((id) => ({ type: 'secret', id, ref })) },
    trackers: timeout.wrapTrackers(adoTrackerFactory({ allowedOrigins: config.adoAllowedOrigins })),
    connections: new ConnectionCache(),
    clock: systemClock,
    log: forwardingLog(main, config.debug),
    metrics: forwardingMetrics(main),
    settings: config.settings,
  };
  const handler = timeout.wrapHandler(createProcessorApp(deps));
  port.on('message', (message: ToThread) => {
    if (message.type === 'invoke') {
      handler(message.event).then(
        (value) => port.postMessage({ type: 'result', id: message.id, value } satisfies FromThread),
        (error: unknown) =>
          port.postMessage({
            type: 'result',
            id: message.id,
            error: serializeError(error),
          } satisfies FromThread),
      );
    } else if (message.type === 'reply') {
      main.reply(message.id, message.value, message.error);
    } else {
      sqs.destroy();
      void own.close().finally(() => port.postMessage({ type: 'closed' } satisfies FromThread));
    }
  });
  // Like a Lambda's init phase: the clients connect before the first invocation (a database connection,
  // the SQS client's first exchange), not during it.
  await Promise.all([
    // (The main thread's database is not reached before `ready`: the pool listens to a thread after it.)
    config.databaseUrl ? own.query('SELECT 1') : undefined,
    sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: config.sqs.workQueueUrl, AttributeNames: ['QueueArn'] }),
    ),
  ]);
  port.postMessage({ type: 'ready' } satisfies FromThread);
}
