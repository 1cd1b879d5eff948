import { AsyncLocalStorage } from 'node:async_hooks';
import type { SQSEvent } from 'aws-lambda';
import { AdoRestWorkItemTracker } from '#adapters/ado-rest-work-item-tracker.ts';
import { type HttpTransport, nodeHttpTransport } from '#adapters/http-transport.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkMessage, WorkQueue } from '#core/ports/work-queue.ts';
import type { AdoSimulator } from '#sim/ado/index.ts';
import { type Database, DatabaseError, type SqlParams } from '#store/database.ts';
import { CREATE_SYNC, MARK_IN_PROGRESS, RECORD_OUTCOMES } from '#store/sync/statements.ts';
import { Rng } from './chaos-random.ts';
import type { ChaosSchedule, CrashPoint } from './chaos-schedule.ts';

/** What a dead process "throws": nothing observes it but the dying invocation itself. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

/** One emulated Lambda invocation (one batch of ≤ 10 messages). */
interface Invocation {
  readonly deadline: number;
  /** Why the invocation died; from then on it can write, send, call and acknowledge nothing. */
  doomed: string | null;
}

interface ActiveFaults {
  schedule: ChaosSchedule;
  /** Runtime decisions (which statement fails, which message is duplicated...). */
  rng: Rng;
  on: boolean;
  crashesLeft: Record<CrashPoint, number>;
}

/** The hooks of one runtime instance; a new instance (after a restart) gets new hooks. */
export interface Instrumentation {
  wrapDb(db: Database): Database;
  wrapQueue(queue: WorkQueue): WorkQueue;
  wrapTrackers(factory: WorkItemTrackerFactory): WorkItemTrackerFactory;
  /** Plays one Lambda invocation: a context for crashes, a timeout, and "no ack after a crash". */
  wrapHandler<R>(handler: (event: SQSEvent) => Promise<R>): (event: SQSEvent) => Promise<R>;
  /** The process dies: every later database statement, send, ADO call and acknowledgement fails. */
  kill(): void;
}

const CREATE_PATH = /\/_apis\/wit\/workitems\/(\$|%24)[^/]+$/i;

const recordsCreated = (params: SqlParams | undefined) => {
  const outcomes = (params?.outcomes as { value?: Array<{ status?: string }> } | undefined)?.value ?? [];
  return outcomes.some((o) => o.status === 'created');
};

/**
 * Fault injection for chaos runs, driven by one run's schedule at a time (DESIGN.md §4 must hold
 * whatever it does). Faults apply while the run's fault window is open; `stopFaults()` closes it.
 *
 * A processor crash is played faithfully: from the moment an invocation "dies" (a crash point, or its
 * Lambda timeout), every database statement, queue send and Azure DevOps request it attempts fails,
 * and its batch is never acknowledged (the messages come back after the visibility timeout).
 * The invocation is found through an AsyncLocalStorage context entered by `wrapHandler`.
 */
export class ChaosFaults {
  private readonly invocations = new AsyncLocalStorage<Invocation>();
  private active: ActiveFaults | null = null;
  private quiet = 0;
  /** What was injected during the current run (reset by `begin`). */
  injected: Record<string, number> = {};

  constructor(
    private readonly simulator: AdoSimulator,
    /** The emulated Lambda timeout: must stay below staleSeconds, as lib/config.ts requires. */
    private readonly invocationTimeoutMs: number,
  ) {}

  begin(schedule: ChaosSchedule): void {
    this.injected = {};
    this.active = {
      schedule,
      rng: new Rng((schedule.seed ^ 0x5bd1e995) >>> 0),
      on: true,
      crashesLeft: { ...schedule.crashes },
    };
    this.simulator.setFaults(schedule.ado);
  }

  /** Closes the fault window: from now on everything works (recovery must finish the sync). */
  stopFaults(): void {
    if (this.active) this.active.on = false;
    this.simulator.setFaults({});
  }

  end(): Record<string, number> {
    this.stopFaults();
    this.active = null;
    return this.injected;
  }

  /** Runs `fn` with every fault off (the test's own requests that must not be retried blindly). */
  async quietly<T>(fn: () => Promise<T>): Promise<T> {
    this.quiet += 1;
    try {
      return await fn();
    } finally {
      this.quiet -= 1;
    }
  }

  private faults(): ActiveFaults | null {
    return this.active?.on && this.quiet === 0 ? this.active : null;
  }

  private count(what: string): void {
    this.injected[what] = (this.injected[what] ?? 0) + 1;
  }

  /** Takes one crash of that kind when the schedule has one left and the draw says so. */
  private take(point: CrashPoint): boolean {
    const f = this.faults();
    if (!f || f.crashesLeft[point] <= 0 || !f.rng.chance(f.schedule.crashChance)) return false;
    f.crashesLeft[point] -= 1;
    this.count(`crash:${point}`);
    return true;
  }

  instrument(): Instrumentation {
    let killed = false;
    const guard = (what: string): Invocation | undefined => {
      if (killed) throw new SimulatedCrash(`the runtime was killed: cannot ${what}`);
      const invocation = this.invocations.getStore();
      if (!invocation) return undefined;
      if (!invocation.doomed && Date.now() > invocation.deadline) invocation.doomed = 'Lambda timeout';
      if (invocation.doomed)
        throw new SimulatedCrash(`dead invocation (${invocation.doomed}): cannot ${what}`);
      return invocation;
    };
    const die = (invocation: Invocation, why: string): never => {
      invocation.doomed = why;
      throw new SimulatedCrash(why);
    };

    const wrapDb = (db: Database): Database => {
      const query = async (sql: string, params?: SqlParams) => {
        const invocation = guard('write to the database');
        if (invocation && sql === RECORD_OUTCOMES && recordsCreated(params) && this.take('afterRecord')) {
          await db.query(sql, params);
          die(invocation, 'crash after the outcome was recorded');
        }
        if (invocation && sql === MARK_IN_PROGRESS && this.take('afterPrepare')) {
          await db.query(sql, params);
          die(invocation, 'crash after the sync moved to in_progress');
        }
        const f = this.faults();
        if (f && sql !== CREATE_SYNC) {
          const draw = f.rng.next();
          if (draw < f.schedule.db.failBefore) {
            this.count('db:before');
            throw new DatabaseError(
              'simulated: connection lost before the statement was sent',
              '08006',
              undefined,
            );
          }
          if (draw < f.schedule.db.failBefore + f.schedule.db.failAfter) {
            await db.query(sql, params);
            this.count('db:after');
            throw new DatabaseError(
              'simulated: connection lost after the statement committed',
              '08006',
              undefined,
            );
          }
        }
        return db.query(sql, params);
      };
      return {
        query: query as Database['query'],
        transaction: (fn) => {
          guard('open a transaction');
          return db.transaction(fn);
        },
        close: () => db.close(),
      };
    };

    const wrapQueue = (queue: WorkQueue): WorkQueue => ({
      send: async (messages, options = {}) => {
        guard('send messages');
        const f = this.faults();
        if (!f) return queue.send(messages, options);
        if (f.rng.chance(f.schedule.queue.sendFailRate)) {
          this.count('queue:send-failed');
          throw new Error('simulated: SQS SendMessageBatch failed');
        }
        const base = options.delaySeconds ?? 0;
        const byDelay = new Map<number, WorkMessage[]>();
        const add = (delay: number, message: WorkMessage) =>
          byDelay.set(delay, [...(byDelay.get(delay) ?? []), message]);
        for (const message of f.rng.shuffle(messages)) {
          if (f.rng.chance(f.schedule.queue.delayRate)) {
            this.count('queue:delayed');
            add(base + f.rng.int(0, 2), message);
          } else {
            add(base, message);
          }
          if (f.rng.chance(f.schedule.queue.duplicateRate)) {
            this.count('queue:duplicated');
            add(base + f.rng.int(0, 2), message);
          }
        }
        for (const [delay, list] of f.rng.shuffle([...byDelay])) {
          await queue.send(list, delay > 0 ? { delaySeconds: delay } : options);
        }
      },
      retryLater: async (receiptHandle, delaySeconds) => {
        guard('postpone a message');
        return queue.retryLater(receiptHandle, delaySeconds);
      },
    });

    const chaosTransport: HttpTransport = async (call) => {
      const invocation = guard('call Azure DevOps');
      const isCreate = call.method === 'POST' && CREATE_PATH.test(new URL(call.url).pathname);
      if (invocation && isCreate) {
        if (this.take('beforeCreate')) die(invocation, 'crash before the create request');
        const answer = await nodeHttpTransport(call);
        // Only a create that happened (2xx) can be followed by a crash "after the create".
        if (answer.status >= 200 && answer.status < 300 && this.take('afterCreate')) {
          die(invocation, 'crash after the create request (the work item exists)');
        }
        return answer;
      }
      return nodeHttpTransport(call);
    };
    // The production adapter, with only its transport instrumented (every attempt of in-call retries too).
    const wrapTrackers = (): WorkItemTrackerFactory => (connection) =>
      new AdoRestWorkItemTracker(connection, { transport: chaosTransport });

    const wrapHandler =
      <R>(handler: (event: SQSEvent) => Promise<R>) =>
      async (event: SQSEvent): Promise<R> => {
        if (killed) throw new SimulatedCrash('the runtime was killed');
        const invocation: Invocation = { deadline: Date.now() + this.invocationTimeoutMs, doomed: null };
        const running = this.invocations.run(invocation, () => handler(event));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            invocation.doomed ??= 'Lambda timeout';
            this.count('invocation:timeout');
            reject(new SimulatedCrash('Lambda timeout'));
          }, this.invocationTimeoutMs);
        });
        try {
          const response = await Promise.race([running, timeout]);
          if (killed) throw new SimulatedCrash('the runtime was killed');
          if (invocation.doomed) throw new SimulatedCrash(`the invocation died: ${invocation.doomed}`);
          if (this.take('beforeAck')) die(invocation, 'crash before the acknowledgement');
          return response;
        } finally {
          clearTimeout(timer);
        }
      };

    return {
      wrapDb,
      wrapQueue,
      wrapTrackers,
      wrapHandler,
      kill: () => {
        killed = true;
      },
    };
  }
}
