import { AsyncLocalStorage } from 'node:async_hooks';
import type { SQSEvent } from 'aws-lambda';
import type { WorkItemTracker, WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkQueue } from '#core/ports/work-queue.ts';
import type { Database } from '#store/database.ts';

/** What a local invocation meets when it goes on after its timeout (Lambda would have stopped it). */
export class InvocationTimedOut extends Error {
  override readonly name = 'InvocationTimedOut';
}

interface Invocation {
  deadline: number;
  expired: boolean;
}

/**
 * Lambda's function timeout, played in one process. AWS stops an invocation at its timeout, and
 * lib/config.ts requires `staleSeconds` to exceed that timeout, so a claim never goes stale while its
 * processor still runs. Locally nothing would stop a slow invocation: its claim could be taken over
 * while it still creates and records. So an invocation that passes its timeout fails (its batch is
 * retried, as in AWS) and, from then on, every database statement, queue send and Azure DevOps call it
 * still attempts throws instead of acting. The invocation is found through an AsyncLocalStorage
 * context entered by `wrapHandler`; calls outside any invocation (the API, the sweep) are not limited.
 */
export class InvocationTimeout {
  private readonly invocations = new AsyncLocalStorage<Invocation>();

  constructor(readonly timeoutMs: number) {}

  /** Throws when the current invocation has passed its timeout. */
  private check(what: string): void {
    const invocation = this.invocations.getStore();
    if (!invocation) return;
    if (!invocation.expired && Date.now() > invocation.deadline) invocation.expired = true;
    if (invocation.expired) {
      throw new InvocationTimedOut(`Task timed out after ${this.timeoutMs / 1000} seconds: cannot ${what}`);
    }
  }

  /** Runs each event as one invocation with the timeout. */
  wrapHandler<R>(handler: (event: SQSEvent) => Promise<R>): (event: SQSEvent) => Promise<R> {
    return async (event) => {
      const invocation: Invocation = { deadline: Date.now() + this.timeoutMs, expired: false };
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          invocation.expired = true;
          reject(new InvocationTimedOut(`Task timed out after ${this.timeoutMs / 1000} seconds`));
        }, this.timeoutMs);
      });
      const running = this.invocations.run(invocation, () => handler(event));
      running.catch(() => undefined); // a late failure of a timed-out invocation is expected
      try {
        return await Promise.race([running, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    };
  }

  wrapDb(db: Database): Database {
    return {
      query: (async (sql: string, params?: Parameters<Database['query']>[1]) => {
        this.check('run a database statement');
        return db.query(sql, params);
      }) as Database['query'],
      transaction: async (work) => {
        this.check('open a transaction');
        return db.transaction(work);
      },
      close: () => db.close(),
    };
  }

  wrapQueue(queue: WorkQueue): WorkQueue {
    return {
      send: async (messages, options) => {
        this.check('send a message');
        return queue.send(messages, options);
      },
      retryLater: async (receiptHandle, delaySeconds) => {
        this.check('postpone a message');
        return queue.retryLater(receiptHandle, delaySeconds);
      },
    };
  }

  /** Every tracker call is refused after the timeout, and so is its answer arriving late. */
  wrapTrackers(factory: WorkItemTrackerFactory): WorkItemTrackerFactory {
    return (connection) => {
      const tracker = factory(connection);
      return new Proxy(tracker, {
        get: (target, property, receiver) => {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            this.check('call Azure DevOps');
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            this.check('use an Azure DevOps answer');
            return result;
          };
        },
      }) as WorkItemTracker;
    };
  }
}
