import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataApiDatabase } from '#adapters/data-api-database.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { type LocalSystem, startLocalSystem } from '#bin/local/local-system.ts';
import type { Log } from '#core/pipeline/deps.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { SimFaults, SimStats } from '#sim/ado/index.ts';
import { type Database, sqlUuid } from '#store/database.ts';
import { closeSync } from '#store/sync/sync-rows.ts';
import { countSqsSends, type SqsSendCounts } from '#test/support/sqs-send-counter.ts';
import { CountingDatabase, type StatementEvent } from './counting-db.ts';
import { type SimulatorThread, startSimulatorThread } from './simulator-thread.ts';
import { now } from './stats.ts';
import type { SyncBody } from './trees.ts';

export type DbKind = 'pglite' | 'postgres' | 'data-api';

/** The simulator's project the benchmarks sync into (one of its default projects). */
export const BENCH_PROJECT = 'Agile Project';
const BENCH_PAT = 'bench-simulator-pat-0123456789';

/**
 * Secrets for the bench: the simulator PAT is fixed, so a PostgreSQL database that already holds the
 * simulator configuration from an earlier run (whose local secret file is gone) still works.
 */
export class BenchSecretStore implements SecretStore {
  private readonly secrets = new Map<string, string>();
  async put(configurationId: string, secret: string): Promise<string> {
    const ref = `bench:${configurationId}`;
    this.secrets.set(ref, secret);
    return ref;
  }
  async get(ref: string): Promise<string> {
    return this.secrets.get(ref) ?? BENCH_PAT;
  }
  async delete(ref: string): Promise<void> {
    this.secrets.delete(ref);
  }
}

/** Warnings and errors the pipeline logged (a benchmark that hides failures would mislead). */
export interface LogTally {
  log: Log;
  warnings: number;
  errors: number;
  samples: string[];
}

export function tallyLog(): LogTally {
  const tally: LogTally = {
    warnings: 0,
    errors: 0,
    samples: [],
    log: {
      debug() {},
      info() {},
      warn(message, attributes) {
        tally.warnings += 1;
        if (tally.samples.length < 5)
          tally.samples.push(`warn ${message} ${JSON.stringify(attributes ?? {})}`);
      },
      error(message, attributes) {
        tally.errors += 1;
        if (tally.samples.length < 5)
          tally.samples.push(`error ${message} ${JSON.stringify(attributes ?? {})}`);
      },
    },
  };
  return tally;
}

export interface BenchSystemOptions {
  kind: DbKind;
  /** PostgreSQL URL (kind 'postgres'). */
  databaseUrl?: string;
  processorConcurrency: number;
  /** Simulator latency per request, ms. */
  latencyMs: number;
  /** false: the work queue's event source is stopped once started (only the API runs). */
  processors?: boolean;
  /** Processor threads (default: processorConcurrency capped by the cores, as `npm start`; 0: main thread). */
  processorThreads?: number;
  /** The simulator's faults besides its latency (e.g. its rate-limit mode). */
  simulatorFaults?: SimFaults;
}

export interface TerminalSync {
  status: string;
  totalItems: number;
  created: number;
  failed: number;
  skipped: number;
  /** performance.now() when the terminal statement returned (finalize or close). */
  atMs: number;
  /**
   * How the end was seen: the terminal statement itself, or the fallback poll (then `atMs` is late by up
   * to its interval, and the run's figures say so).
   */
  via: 'statement' | 'poll';
}

export interface BenchSystem {
  kind: DbKind;
  system: LocalSystem;
  /** The counting wrapper the pipeline and the API use. */
  counting: CountingDatabase;
  /** The database underneath (not counted): the bench's own reads. */
  raw: Database;
  dataApi?: DataApiDatabase;
  tally: LogTally;
  /** SendMessageBatch calls and messages sent, counted on the SQS client (not in the adapter). */
  sqsSends: SqsSendCounts;
  /** The simulator's counters (it runs on its own thread, like the remote service it stands for). */
  simulatorStats(): Promise<SimStats>;
  resetSimulatorStats(): Promise<void>;
  /** CPU of the simulator's thread since it started, ms (null where /proc does not show it). */
  simulatorCpuMs(): Promise<number | null>;
  /** POSTs a sync (the body already serialised, so client-side JSON is not timed); throws unless 202. */
  postSync(body: string): Promise<{ status: number; syncId: string; ms: number; startMs: number }>;
  /** The same POST, answering whatever the API answered. */
  post(body: string): Promise<{ status: number; text: string; ms: number; startMs: number }>;
  /** Resolves when the sync reaches a terminal status (watched statements, plus a slow poll). */
  waitForTerminal(syncId: string, timeoutMs: number): Promise<TerminalSync>;
  close(): Promise<void>;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Is a PostgreSQL server reachable at `url` (2 s)? The error message otherwise. */
export async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A PostgreSQL database reused across bench runs may hold syncs an interrupted run left open; the
 * local runtime would resume them on start and disturb the measurement. Cancel them first.
 */
export async function cancelLeftoverSyncs(databaseUrl: string): Promise<number> {
  const db = new PostgresDatabase({ connectionString: databaseUrl, max: 1 });
  try {
    const { rows } = await db.query<{ exists: boolean }>(
      `SELECT to_regclass('sync_history') IS NOT NULL AS exists`,
    );
    if (!rows[0]?.exists) return 0;
    const open = await db.query<{ id: string }>(
      `SELECT id FROM sync_history WHERE status IN ('pending', 'in_progress')`,
    );
    for (const { id } of open.rows) {
      await closeSync(db, 'cancelled', {
        syncId: id,
        reason: 'Cancelled by the benchmark before a new run',
        skipReason: 'Not created: cancelled by the benchmark',
      });
    }
    return open.rows.length;
  } finally {
    await db.close();
  }
}

/**
 * A reused bench database collects the dead rows of every earlier run, and this machine's PostgreSQL
 * runs with autovacuum off (its CI configuration): vacuum and analyze it first, as Aurora's
 * autovacuum would have, so that one run's leftovers do not slow the next.
 */
async function vacuum(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
  } finally {
    await client.end();
  }
}

/** The local system (DESIGN.md §7) on a fresh data directory, with a counting database. */
export async function startBenchSystem(options: BenchSystemOptions): Promise<BenchSystem> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ardoq-bench-'));
  const tally = tallyLog();
  let dataApi: { db: DataApiDatabase; teardown: () => Promise<void> } | undefined;
  if (options.kind === 'data-api') {
    // Imported only here: the module checks its PostgreSQL server when it loads.
    const { dataApiDatabase } = await import('#test/support/data-api-target.ts');
    dataApi = await dataApiDatabase();
  }
  if (options.kind === 'postgres') {
    if (!options.databaseUrl) throw new Error('kind postgres needs databaseUrl');
    await cancelLeftoverSyncs(options.databaseUrl);
    await vacuum(options.databaseUrl);
  }
  let counting: CountingDatabase | undefined;
  // SQS sends of the processor threads (their own SQS clients), added to the main thread's below.
  const threadSends: SqsSendCounts = { batches: 0, messages: 0 };
  let raw: Database | undefined;
  let system: LocalSystem;
  let simulator: SimulatorThread | undefined;
  try {
    simulator = await startSimulatorThread({
      pat: BENCH_PAT,
      faults: { ...options.simulatorFaults, latencyMs: options.latencyMs },
    });
    system = await startLocalSystem({
      port: 0,
      dataDir,
      ...(options.kind === 'postgres' ? { databaseUrl: options.databaseUrl as string } : {}),
      ...(dataApi ? { db: dataApi.db } : {}),
      processorConcurrency: options.processorConcurrency,
      processorThreads:
        options.processorThreads ?? Math.min(options.processorConcurrency, availableParallelism()),
      observeProcessorThreads: {
        onStatement: (statement) => counting?.ingest(statement),
        onSqsSend: (messages) => {
          threadSends.batches += 1;
          threadSends.messages += messages;
        },
        statementSummarizer: new URL('./thread-statements.ts', import.meta.url).href,
      },
      // The sweep repairs lost work; in a healthy run it has nothing to do and would only add reads.
      sweepIntervalMs: 3_600_000,
      simulatorPat: BENCH_PAT,
      simulatorInstance: simulator.simulator,
      secrets: new BenchSecretStore(),
      log: tally.log,
      interpose: {
        db: (db) => {
          raw = db;
          counting = new CountingDatabase(db);
          return counting;
        },
      },
    });
  } catch (error) {
    await simulator?.close().catch(() => undefined);
    await dataApi?.teardown().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  if (!counting || !raw) throw new Error('the local system did not wrap its database');
  const countingDb: CountingDatabase = counting;
  const simulatorThread: SimulatorThread = simulator;
  const rawDb: Database = raw;
  if (options.processors === false) await system.eventSources.work.stop();
  const mainSends = countSqsSends(system.sqs);
  const sqsSends: SqsSendCounts = {
    get batches() {
      return mainSends.batches + threadSends.batches;
    },
    get messages() {
      return mainSends.messages + threadSends.messages;
    },
  };

  // Terminal transitions, seen as they commit: finalize or close statements returning the sync row.
  const terminal = new Map<string, TerminalSync>();
  const waiters = new Map<string, (t: TerminalSync) => void>();
  countingDb.observe((event: StatementEvent) => {
    if (event.kind !== 'finalize' && event.kind !== 'close-sync') return;
    const row = event.rows[0];
    if (!row || !TERMINAL.has(row.status as string)) return;
    const t: TerminalSync = {
      status: row.status as string,
      totalItems: row.total_items as number,
      created: row.items_created as number,
      failed: row.items_failed as number,
      skipped: row.items_skipped as number,
      atMs: event.endMs,
      via: 'statement',
    };
    terminal.set(row.id as string, t);
    waiters.get(row.id as string)?.(t);
  });

  const post = async (body: string) => {
    const startMs = now();
    const response = await fetch(
      `${system.url}/api/azure-devops/projects/${encodeURIComponent(BENCH_PROJECT)}/workitems`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body },
    );
    const text = await response.text();
    return { status: response.status, text, ms: now() - startMs, startMs };
  };

  return {
    kind: options.kind,
    system,
    counting: countingDb,
    raw: rawDb,
    ...(dataApi ? { dataApi: dataApi.db } : {}),
    tally,
    sqsSends,
    simulatorStats: () => simulatorThread.stats(),
    resetSimulatorStats: () => simulatorThread.resetStats(),
    simulatorCpuMs: () => simulatorThread.cpuMs(),
    post,
    async postSync(body) {
      const { status, text, ms, startMs } = await post(body);
      if (status !== 202) throw new Error(`POST answered ${status}: ${text.slice(0, 500)}`);
      const parsed = JSON.parse(text) as { data: { sync_history_id: string } };
      return { status, syncId: parsed.data.sync_history_id, ms, startMs };
    },
    waitForTerminal(syncId, timeoutMs) {
      const seen = terminal.get(syncId);
      if (seen) return Promise.resolve(seen);
      return new Promise<TerminalSync>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const finish = (t: TerminalSync) => {
          clearTimeout(timer);
          waiters.delete(syncId);
          resolve(t);
        };
        waiters.set(syncId, finish);
        // A slow poll catches a terminal status reached some other way; it reads the raw database.
        const poll = async () => {
          try {
            const { rows } = await rawDb.query('SELECT * FROM sync_history WHERE id = CAST(:id AS uuid)', {
              id: sqlUuid(syncId),
            });
            const row = rows[0];
            if (row && TERMINAL.has(row.status as string) && !terminal.has(syncId)) {
              return finish({
                status: row.status as string,
                totalItems: row.total_items as number,
                created: row.items_created as number,
                failed: row.items_failed as number,
                skipped: row.items_skipped as number,
                atMs: now(),
                via: 'poll',
              });
            }
          } catch {
            // keep polling until the deadline
          }
          if (!waiters.has(syncId)) return;
          if (Date.now() > deadline) {
            waiters.delete(syncId);
            reject(new Error(`sync ${syncId} not terminal after ${timeoutMs} ms`));
            return;
          }
          timer = setTimeout(() => void poll(), 1_000);
        };
        timer = setTimeout(() => void poll(), 1_000);
      });
    },
    async close() {
      try {
        await system.stop();
      } finally {
        await simulatorThread.close().catch(() => undefined);
        await dataApi?.teardown().catch(() => undefined);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Serialised request body, so the client's own JSON.stringify is not part of the timing. */
export const serialise = (body: SyncBody): string => JSON.stringify(body);
