import { describe, expect, it } from 'vitest';
import { InvocationTimedOut, InvocationTimeout } from '#bin/local/invocation-timeout.ts';
import { silentLog } from '#core/pipeline/deps.ts';
import type { WorkItemTracker } from '#core/ports/work-item-tracker.ts';
import type { WorkMessage, WorkQueue } from '#core/ports/work-queue.ts';
import type { Database } from '#store/database.ts';
import { sqsEvent } from '#test/support/sqs-events.ts';

// The local runtime's Lambda timeout: a slow invocation fails at its timeout and cannot act after it.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordingPorts() {
  const statements: string[] = [];
  const sent: WorkMessage[] = [];
  const db: Database = {
    query: (async (sql: string) => {
      statements.push(sql);
      return { rows: [], rowCount: 0 };
    }) as Database['query'],
    transaction: (work) => work(db),
    close: async () => undefined,
  };
  const queue: WorkQueue = {
    send: async (messages) => {
      sent.push(...messages);
    },
    retryLater: async () => undefined,
  };
  let creates = 0;
  const tracker = {
    createWorkItem: async () => {
      await sleep(80);
      creates += 1;
      return { id: 1, webUrl: 'http://ado/1' };
    },
  } as unknown as WorkItemTracker;
  return { statements, sent, db, queue, tracker, creates: () => creates };
}

describe('InvocationTimeout', () => {
  it('fails an invocation at its timeout, and the invocation can no longer write, send or call Azure DevOps', async () => {
    const timeout = new InvocationTimeout(50);
    const ports = recordingPorts();
    const db = timeout.wrapDb(ports.db);
    const queue = timeout.wrapQueue(ports.queue);
    const lateErrors: unknown[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const handler = timeout.wrapHandler(async () => {
      await db.query('SELECT 1 -- before the timeout');
      await sleep(120);
      for (const act of [
        () => db.query('SELECT 2 -- after'),
        () => queue.send([{ kind: 'finalize', syncId: 's' }]),
      ]) {
        await act().catch((error: unknown) => lateErrors.push(error));
      }
      finished();
      return { batchItemFailures: [] };
    });

    await expect(handler(sqsEvent())).rejects.toThrow(/Task timed out after 0.05 seconds/);
    await done;

    expect(ports.statements).toEqual(['SELECT 1 -- before the timeout']);
    expect(ports.sent).toEqual([]);
    expect(lateErrors).toHaveLength(2);
    expect(lateErrors.every((e) => e instanceof InvocationTimedOut)).toBe(true);
  });

  it('refuses an Azure DevOps answer that arrives after the timeout', async () => {
    const timeout = new InvocationTimeout(40);
    const ports = recordingPorts();
    const trackers = timeout.wrapTrackers(() => ports.tracker);
    let outcome: unknown;
    const handler = timeout.wrapHandler(async () => {
      const tracker = trackers({ organization: 'https://dev.azure.com/acme', pat: 'x' });
      outcome = await tracker
        .createWorkItem('P', { type: 'Epic', fields: {}, relations: [] } as never)
        .catch((error: unknown) => error);
      return {};
    });

    await expect(handler(sqsEvent())).rejects.toBeInstanceOf(InvocationTimedOut);
    await sleep(100);
    expect(ports.creates()).toBe(1); // the request went out before the timeout, as it would in AWS
    expect(outcome).toBeInstanceOf(InvocationTimedOut);
  });

  it('lets an invocation that ends in time answer, and never limits calls made outside an invocation', async () => {
    const timeout = new InvocationTimeout(200);
    const ports = recordingPorts();
    const db = timeout.wrapDb(ports.db);
    const handler = timeout.wrapHandler(async () => {
      await db.query('SELECT 1');
      return { batchItemFailures: [] };
    });

    await expect(handler(sqsEvent())).resolves.toEqual({ batchItemFailures: [] });
    await sleep(250);
    await db.query('SELECT 2 -- the API or the sweep, long after');
    expect(ports.statements).toEqual(['SELECT 1', 'SELECT 2 -- the API or the sweep, long after']);
  });
});

describe('startLocalSystem', () => {
  it('refuses an invocation timeout that is not below staleSeconds, before starting anything', async () => {
    const { startLocalSystem } = await import('#bin/local/local-system.ts');
    const base = { port: 0, dataDir: '/nonexistent/never-created', processorConcurrency: 1, log: silentLog };
    await expect(
      startLocalSystem({ ...base, settings: { staleSeconds: 30 }, invocationTimeoutMs: 30_000 }),
    ).rejects.toThrow(/invocationTimeoutMs \(30000\) must be positive and below staleSeconds \(30 s\)/);
    await expect(startLocalSystem({ ...base, invocationTimeoutMs: 0 })).rejects.toThrow(/must be positive/);
  });
});
