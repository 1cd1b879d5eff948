import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import { type LocalSystem, startLocalSystem } from '#bin/local/local-system.ts';
import { SqsEventSource } from '#bin/local/sqs-event-source.ts';
import { silentLog } from '#core/pipeline/deps.ts';
import { createFinalizerApp } from '#lambdas/finalizer/app.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';
import { type AdoSimulator, startAdoSimulator } from '#sim/ado/index.ts';
import { sqlUuid } from '#store/database.ts';
import { ChaosFaults, type Instrumentation } from './chaos-faults.ts';

export interface ChaosRuntimeOptions {
  databaseUrl: string;
  seed: number;
  processorConcurrency: number;
  staleSeconds: number;
  visibilityTimeoutSeconds: number;
  sweepIntervalMs: number;
  /** The emulated Lambda timeout of the processor and the finalizer (< staleSeconds). */
  invocationTimeoutMs: number;
}

interface Instance {
  system: LocalSystem;
  instrumentation: Instrumentation;
  sources: SqsEventSource[];
}

export interface SyncProgress {
  status: string;
  open: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One local runtime (startLocalSystem over a PostgreSQL database) shared by many chaos runs, with
 * an ADO simulator that outlives it, so the runtime can be killed and started again mid-sync.
 * Its queue consumers are replaced by instrumented ones (same production handlers and event
 * source, wrapped to play Lambda invocations that can crash or time out).
 */
export class ChaosRuntime {
  /** A database connection of its own, never faulted: for polling and for the invariant checks. */
  readonly db: PostgresDatabase;
  readonly faults: ChaosFaults;
  private instance: Instance | undefined;
  restarts = 0;

  private constructor(
    private readonly options: ChaosRuntimeOptions,
    readonly simulator: AdoSimulator,
    private readonly dataDir: string,
    private readonly pat: string,
  ) {
    this.db = new PostgresDatabase({ connectionString: options.databaseUrl, max: 2 });
    this.faults = new ChaosFaults(simulator, options.invocationTimeoutMs);
  }

  static async start(options: ChaosRuntimeOptions): Promise<ChaosRuntime> {
    const dataDir = await mkdtemp(join(tmpdir(), 'ardoq-sync-chaos-'));
    const pat = randomBytes(16).toString('hex');
    const simulator = await startAdoSimulator({ pat, port: 0, projects: [], seed: options.seed });
    const runtime = new ChaosRuntime(options, simulator, dataDir, pat);
    await runtime.boot();
    return runtime;
  }

  get system(): LocalSystem {
    if (!this.instance) throw new Error('the chaos runtime is not running');
    return this.instance.system;
  }

  private async boot(): Promise<void> {
    const o = this.options;
    const instrumentation = this.faults.instrument();
    // Start-up (migrations, resuming open syncs) runs without faults: a failed start is not the point.
    const system = await this.faults.quietly(() =>
      startLocalSystem({
        port: 0,
        dataDir: this.dataDir,
        databaseUrl: o.databaseUrl,
        processorConcurrency: o.processorConcurrency,
        visibilityTimeoutSeconds: o.visibilityTimeoutSeconds,
        maxReceiveCount: 5,
        sweepIntervalMs: o.sweepIntervalMs,
        simulatorInstance: this.simulator,
        simulatorPat: this.pat,
        log: silentLog,
        settings: { staleSeconds: o.staleSeconds, transientRetrySeconds: 1 },
        interpose: {
          db: instrumentation.wrapDb,
          queue: instrumentation.wrapQueue,
          trackers: instrumentation.wrapTrackers,
        },
      }),
    );
    const source = (url: string, handler: (event: SQSEvent) => Promise<unknown>, concurrency: number) =>
      new SqsEventSource(
        system.sqs,
        url,
        instrumentation.wrapHandler(handler),
        { concurrency, visibilityTimeoutSeconds: o.visibilityTimeoutSeconds },
        silentLog,
      );
    const sources = [
      source(system.queueUrls.work, createProcessorApp(system.deps), o.processorConcurrency),
      source(system.queueUrls.finalize, createFinalizerApp(system.deps), 1),
    ];
    for (const s of sources) s.start();
    await Promise.all([system.eventSources.work.stop(), system.eventSources.finalize.stop()]);
    this.instance = { system, instrumentation, sources };
  }

  /**
   * Kills the whole runtime (its in-memory queue and every in-flight invocation die with it) and
   * starts a new one on the same database and simulator, which must resume every open sync.
   */
  async crashAndRestart(): Promise<void> {
    const instance = this.instance;
    if (!instance) throw new Error('the chaos runtime is not running');
    instance.instrumentation.kill();
    this.instance = undefined;
    await this.shutdown(instance);
    // Requests the dead process had already sent are answered before anything restarts.
    for (let i = 0; i < 100 && this.simulator.stats.createsInFlight > 0; i++) await sleep(20);
    this.restarts += 1;
    await this.boot();
  }

  private async shutdown(instance: Instance): Promise<void> {
    await Promise.all(instance.sources.map((s) => s.stop()));
    await instance.system.stop();
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.system.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  /** The sync's status and how many of its plan items are not `done` yet. */
  async progress(syncId: string): Promise<SyncProgress> {
    const { rows } = await this.db.query<{ status: string; open: number }>(
      `SELECT s.status, (SELECT count(*) FROM sync_plan_items p
         WHERE p.sync_history_id = s.id AND p.state <> 'done')::int AS open
       FROM sync_history s WHERE s.id = CAST(:id AS uuid)`,
      { id: sqlUuid(syncId) },
    );
    const row = rows[0];
    if (!row) throw new Error(`sync ${syncId} not found`);
    return row;
  }

  async close(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) await this.shutdown(instance);
    await this.simulator.close();
    await this.db.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
