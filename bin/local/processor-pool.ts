import { Worker } from 'node:worker_threads';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { Database, Queryable } from '#store/database.ts';
import {
  type DbCall,
  type FromThread,
  type ProcessorThreadConfig,
  revive,
  serializeError,
  type ThreadStatement,
  type ToThread,
} from './processor-messages.ts';

export interface ProcessorPoolOptions {
  threads: number;
  config: ProcessorThreadConfig;
  /** The database a thread without its own pool uses (PGlite lives in the main thread). */
  db: Database;
  secrets: Pick<SecretStore, 'get'>;
  log: Log;
  metrics: PipelineMetrics;
  /** With `config.observe`: every statement a thread ran on its own pool, and every SQS send. */
  onStatement?: (statement: ThreadStatement) => void;
  onSqsSend?: (messages: number) => void;
}

/** The rollback a thread asked for (not an error of the transaction). */
class RolledBack extends Error {}

interface OpenTransaction {
  tx: Queryable;
  end: (commit: boolean) => void;
  /** The transaction's end (committed, rolled back, or failed). */
  done: Promise<void>;
}

interface Thread {
  worker: Worker;
  /** Invocations running on it, by id. */
  pending: Map<number, { resolve: (r: SQSBatchResponse) => void; reject: (e: Error) => void }>;
  /** Transactions a thread opened on the main thread's database, by the thread's id. */
  transactions: Map<number, OpenTransaction>;
}

/**
 * The processor invocations of the local runtime on worker threads, as each processor Lambda runs on
 * its own CPU in AWS: `threads` threads (the reserved concurrency, capped by the cores), each one
 * container that runs the invocations handed to it concurrently. An invocation goes to the thread
 * running the fewest. The threads register tsx themselves (loader hooks are per thread).
 */
export class ProcessorPool {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private closing = false;

  private constructor(private readonly options: ProcessorPoolOptions) {}

  static async start(options: ProcessorPoolOptions): Promise<ProcessorPool> {
    const pool = new ProcessorPool(options);
    try {
      await Promise.all(Array.from({ length: Math.max(1, options.threads) }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.threads.length;
  }

  /** The threads' workers (a test stops one to see it replaced). */
  get workers(): readonly Worker[] {
    return this.threads.map((t) => t.worker);
  }

  private async spawn(): Promise<void> {
    const entry = new URL('./processor-thread.ts', import.meta.url).href;
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: this.options.config,
    });
    const thread: Thread = { worker, pending: new Map(), transactions: new Map() };
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      const exited = (code: number) =>
        reject(new Error(`a processor thread exited while starting (${code})`));
      worker.once('error', failed);
      worker.once('exit', exited);
      worker.once('message', (message: FromThread) => {
        worker.off('error', failed);
        worker.off('exit', exited);
        if (message.type === 'ready') resolve();
        else reject(new Error(`a processor thread said ${message.type} before it was ready`));
      });
    });
    worker.on('message', (message: FromThread) => this.onMessage(thread, message));
    worker.on('error', (error) =>
      this.options.log.error('a processor thread crashed', { error: error.message }),
    );
    worker.once('exit', (code) => void this.replace(thread, code));
    this.threads.push(thread);
  }

  /**
   * A thread that died (not closed): its invocations fail, so their batches come back after the
   * visibility timeout, as a crashed Lambda's do, and a new thread takes its place, as a new container.
   */
  private async replace(thread: Thread, code: number): Promise<void> {
    const at = this.threads.indexOf(thread);
    if (this.closing || at < 0) return;
    this.threads.splice(at, 1);
    const died = new Error(`the processor thread exited (${code})`);
    for (const waiter of thread.pending.values()) waiter.reject(died);
    thread.pending.clear();
    for (const open of thread.transactions.values()) open.end(false);
    this.options.log.warn('a processor thread exited: starting another', { code });
    await this.spawn().catch((error: Error) =>
      this.options.log.error('no processor thread could replace it', { error: error.message }),
    );
  }

  /** One invocation, on the least busy thread; answers as the handler would. */
  invoke(event: SQSEvent): Promise<SQSBatchResponse> {
    const thread = this.threads.reduce<Thread | undefined>(
      (a, b) => (a === undefined || b.pending.size < a.pending.size ? b : a),
      undefined,
    );
    if (!thread) return Promise.reject(new Error('no processor thread is running'));
    const id = this.nextId++;
    return new Promise<SQSBatchResponse>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ type: 'invoke', id, event } satisfies ToThread);
    });
  }

  private answer(thread: Thread, id: number, work: () => Promise<unknown>): void {
    const reply = (message: ToThread) => thread.worker.postMessage(message);
    work().then(
      (value) => reply({ type: 'reply', id, value }),
      (error: unknown) => reply({ type: 'reply', id, error: serializeError(error) }),
    );
  }

  private onMessage(thread: Thread, message: FromThread): void {
    switch (message.type) {
      case 'result': {
        const waiter = thread.pending.get(message.id);
        thread.pending.delete(message.id);
        if (!waiter) return;
        if (message.error) waiter.reject(revive(message.error));
        else waiter.resolve(message.value ?? { batchItemFailures: [] });
        return;
      }
      case 'db':
        this.answer(thread, message.id, () => this.database(thread, message.call));
        return;
      case 'secret':
        this.answer(thread, message.id, () => this.options.secrets.get(message.ref));
        return;
      case 'log':
        this.options.log[message.level](message.message, message.attributes);
        return;
      case 'metric':
        if (message.kind === 'count') this.options.metrics.count(message.name as never, message.value);
        else this.options.metrics.durationMs(message.name as never, message.value ?? 0);
        return;
      case 'statement':
        this.options.onStatement?.(message.statement);
        return;
      case 'sqs-send':
        this.options.onSqsSend?.(message.messages);
        return;
      default:
        return;
    }
  }

  /** A thread's statement on the main thread's database (transactions kept open across messages). */
  private async database(thread: Thread, call: DbCall): Promise<unknown> {
    const { db } = this.options;
    if (call.op === 'query') {
      const target = call.tx === undefined ? db : thread.transactions.get(call.tx)?.tx;
      if (!target) throw new Error(`transaction ${call.tx} is not open`);
      const { rows, rowCount } = await target.query(call.sql, call.params);
      return { rows, rowCount };
    }
    if (call.op === 'begin') {
      return new Promise<void>((opened, failedToOpen) => {
        let entered = false;
        const entry: OpenTransaction = { tx: db, end: () => undefined, done: Promise.resolve() };
        entry.done = db.transaction(
          (tx) =>
            new Promise<void>((commit, rollback) => {
              entered = true;
              entry.tx = tx;
              entry.end = (ok) => (ok ? commit() : rollback(new RolledBack()));
              thread.transactions.set(call.tx, entry);
              opened();
            }),
        );
        // Before it opened: the begin fails. After: the thread's commit or rollback call reports it.
        entry.done.catch((error: unknown) => {
          if (!entered) failedToOpen(error);
        });
      });
    }
    const open = thread.transactions.get(call.tx);
    thread.transactions.delete(call.tx);
    if (!open) throw new Error(`transaction ${call.tx} is not open`);
    open.end(call.op === 'commit');
    try {
      await open.done;
    } catch (error) {
      if (!(error instanceof RolledBack)) throw error;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.threads.map(async ({ worker }) => {
        await new Promise<void>((resolve) => {
          const done = () => resolve();
          worker.once('exit', done);
          worker.on('message', (m: FromThread) => m.type === 'closed' && done());
          worker.postMessage({ type: 'close' } satisfies ToThread);
        });
        await worker.terminate();
      }),
    );
    this.threads.length = 0;
  }
}
