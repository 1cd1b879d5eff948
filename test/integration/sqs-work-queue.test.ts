import { randomUUID } from 'node:crypto';
import {
  type BatchResultErrorEntry,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import type { WorkMessage } from '#core/ports/work-queue.ts';
import { countSqsSends, type SqsSendCounts } from '#test/support/sqs-send-counter.ts';

// SqsWorkQueue against a real SQS emulator (fauxqs, in-process as bin/local/local-system.ts starts it).
// Failures SQS reports per entry are injected by a thin wrapper around the REAL client: the entries it
// reports as failed are never sent, the others go to fauxqs for real.

let fauxqs: ReturnType<typeof buildApp>;
let sqs: SQSClient;
let sqsConfig: SQSClientConfig;

/** A client of its own whose SendMessageBatch calls are counted (the adapter keeps no counters). */
const countedClients: SQSClient[] = [];
function countedClient(): { client: SQSClient; sent: SqsSendCounts } {
  const client = new SQSClient(sqsConfig);
  countedClients.push(client);
  return { client, sent: countSqsSends(client) };
}

beforeAll(async () => {
  fauxqs = buildApp({ logger: false });
  await fauxqs.listen({ port: 0, host: '127.0.0.1' });
  sqsConfig = {
    endpoint: `http://127.0.0.1:${(fauxqs.server.address() as { port: number }).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  sqs = new SQSClient(sqsConfig);
});

afterAll(async () => {
  sqs?.destroy();
  for (const client of countedClients) client.destroy();
  await fauxqs?.close();
});

// ---- factories and helpers ----

const syncId = () => randomUUID();
const itemMessages = (count: number, id = syncId()): WorkMessage[] =>
  Array.from({ length: count }, (_, i) => ({ kind: 'item', syncId: id, ardoqId: `ardoq-${i}` }));

async function createQueue(prefix: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-${randomUUID().slice(0, 8)}`,
      // Long enough that nothing received during a test reappears and counts twice.
      Attributes: { VisibilityTimeout: '120' },
    }),
  );
  if (!QueueUrl) throw new Error('queue was not created');
  return QueueUrl;
}

async function createQueues() {
  return { workQueueUrl: await createQueue('work'), finalizeQueueUrl: await createQueue('finalize') };
}

/**
 * Receives (and deletes) until `expected` messages arrived, then polls once more to prove nothing else
 * is there. Returns every body received, duplicates included.
 */
async function drain(queueUrl: string, expected: number, timeoutMs = 10_000): Promise<unknown[]> {
  const bodies: unknown[] = [];
  const deadline = Date.now() + timeoutMs;
  const receive = async (waitSeconds: number) => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
      }),
    );
    await deleteAll(queueUrl, Messages);
    for (const m of Messages) bodies.push(JSON.parse(m.Body ?? 'null'));
    return Messages.length;
  };
  while (bodies.length < expected && Date.now() < deadline) await receive(1);
  await receive(1);
  return bodies;
}

async function deleteAll(queueUrl: string, messages: Message[]): Promise<void> {
  if (messages.length === 0) return;
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    }),
  );
}

const sortByJson = (values: readonly unknown[]) =>
  values.map((v) => JSON.stringify(v)).sort((a, b) => a.localeCompare(b));

/** What the wrapper decides for one SendMessageBatch call: which entries to report as failed. */
type FailurePlan = (
  call: number,
  entries: readonly SendMessageBatchRequestEntry[],
) => BatchResultErrorEntry[];

/**
 * A thin wrapper of the real client: entries the plan fails are reported in `Failed[]` and NOT sent;
 * the rest is sent for real and their real `Successful[]` returned. Records every call's entries.
 */
function flakyClient(plan: FailurePlan) {
  const calls: SendMessageBatchRequestEntry[][] = [];
  const wrapper = {
    async send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
      if (!(command instanceof SendMessageBatchCommand)) throw new Error('unexpected command');
      const entries = command.input.Entries ?? [];
      calls.push(entries.map((e) => ({ ...e })));
      const failed = plan(calls.length, entries);
      const failedIds = new Set(failed.map((f) => f.Id));
      const toSend = entries.filter((e) => !failedIds.has(e.Id));
      const real: SendMessageBatchCommandOutput =
        toSend.length > 0
          ? await sqs.send(new SendMessageBatchCommand({ QueueUrl: command.input.QueueUrl, Entries: toSend }))
          : { $metadata: {}, Successful: [], Failed: [] };
      return { ...real, Failed: [...(real.Failed ?? []), ...failed] };
    },
  };
  // The adapter only ever calls `send` with a SendMessageBatchCommand, which is all the wrapper implements.
  return { client: wrapper as unknown as SQSClient, calls };
}

const transientFailure = (id: string | undefined): BatchResultErrorEntry => ({
  Id: id,
  SenderFault: false,
  Code: 'InternalError',
  Message: 'injected transient failure',
});

function recordingSleep() {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
    },
  };
}

// ---- specification ----

describe('SqsWorkQueue.send', () => {
  it('sends 25 messages in 3 SendMessageBatch calls and each arrives exactly once with its JSON body', async () => {
    const queues = await createQueues();
    const { client, sent } = countedClient();
    const queue = new SqsWorkQueue(client, queues);
    const messages = itemMessages(25);

    await queue.send(messages);

    expect(sent).toEqual({ batches: 3, messages: 25 });
    const received = await drain(queues.workQueueUrl, 25);
    expect(received).toHaveLength(25);
    expect(sortByJson(received)).toEqual(sortByJson(messages));
    expect(await drain(queues.finalizeQueueUrl, 0)).toEqual([]);
  });

  it('sends the batches of one call concurrently, and waits for all of them before reporting a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    let settled = 0;
    const { client: real } = flakyClient((call, entries) =>
      call === 2 ? [{ Id: entries[0]?.Id, SenderFault: true, Code: 'InvalidParameterValue' }] : [],
    );
    const client = {
      async send(command: SendMessageBatchCommand) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        try {
          return await real.send(command);
        } finally {
          inFlight -= 1;
          settled += 1;
        }
      },
    } as unknown as SQSClient;
    const queues = await createQueues();
    const queue = new SqsWorkQueue(client, queues, async () => {});

    await expect(queue.send(itemMessages(30))).rejects.toThrow(/InvalidParameterValue/);

    expect(peak).toBe(3);
    expect(settled).toBe(3); // no send still in flight when the caller hears of the failure
  });

  it('sends nothing for an empty list', async () => {
    const queues = await createQueues();
    const { client, sent } = countedClient();
    const queue = new SqsWorkQueue(client, queues);

    await queue.send([]);

    expect(sent).toEqual({ batches: 0, messages: 0 });
  });

  it('routes finalize messages to the finalize queue and prepare/item messages to the work queue', async () => {
    const queues = await createQueues();
    const { client, sent } = countedClient();
    const queue = new SqsWorkQueue(client, queues);
    const id = syncId();
    const otherId = syncId();
    const work: WorkMessage[] = [{ kind: 'prepare', syncId: id }, ...itemMessages(3, id)];
    const finalize: WorkMessage[] = [
      { kind: 'finalize', syncId: id },
      { kind: 'finalize', syncId: otherId },
    ];

    await queue.send([finalize[0]!, ...work.slice(0, 2), finalize[1]!, ...work.slice(2)]);

    expect(sent.batches).toBe(2); // one per queue
    expect(sortByJson(await drain(queues.workQueueUrl, work.length))).toEqual(sortByJson(work));
    expect(sortByJson(await drain(queues.finalizeQueueUrl, finalize.length))).toEqual(sortByJson(finalize));
  });

  it('keeps a delayed message invisible until its delay has passed', async () => {
    const queues = await createQueues();
    const queue = new SqsWorkQueue(sqs, queues);
    const message: WorkMessage = { kind: 'prepare', syncId: syncId() };
    const sentAt = Date.now();

    await queue.send([message], { delaySeconds: 2 });

    const early = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.workQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect(early.Messages ?? []).toEqual([]);
    const received = await drain(queues.workQueueUrl, 1);
    expect(received).toEqual([message]);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_900);
  });

  it('clamps the delay to the 0..900 s SQS accepts', async () => {
    const { client, calls } = flakyClient(() => []);
    const queues = await createQueues();
    const queue = new SqsWorkQueue(client, queues);

    await queue.send(itemMessages(1), { delaySeconds: 5_000 });
    await queue.send(itemMessages(1), { delaySeconds: -3 });

    expect(calls.map((entries) => entries.map((e) => e.DelaySeconds))).toEqual([[900], [0]]);
  });

  it('resends the entries SQS reports as Failed (not a sender fault) until every message arrived exactly once', async () => {
    // First call: entries 1, 4 and 7 fail without being sent; later calls succeed.
    const { client, calls } = flakyClient((call, entries) =>
      call === 1 ? entries.filter((_, i) => i % 3 === 1).map((e) => transientFailure(e.Id)) : [],
    );
    const { waits, sleep } = recordingSleep();
    const queues = await createQueues();
    const queue = new SqsWorkQueue(client, queues, sleep);
    const messages = itemMessages(10);

    await queue.send(messages);

    expect(calls).toHaveLength(2);
    expect(calls[1]?.map((e) => e.Id)).toEqual(['1', '4', '7']);
    expect(calls[1]?.map((e) => JSON.parse(e.MessageBody ?? 'null'))).toEqual([
      messages[1],
      messages[4],
      messages[7],
    ]);
    expect(waits).toHaveLength(1); // backs off once before the resend
    const received = await drain(queues.workQueueUrl, 10);
    expect(received).toHaveLength(10);
    expect(sortByJson(received)).toEqual(sortByJson(messages));
  });

  it('throws when SQS refuses a message as the sender’s fault (a real InvalidMessageContents)', async () => {
    const queues = await createQueues();
    const { client, sent } = countedClient();
    const queue = new SqsWorkQueue(client, queues, async () => {});
    // U+FFFF survives JSON.stringify and is a character SQS does not accept in a body.
    const poisoned: WorkMessage = { kind: 'item', syncId: syncId(), ardoqId: 'bad\uffff' };

    await expect(queue.send([...itemMessages(2), poisoned])).rejects.toThrow(
      /SQS refused a message: InvalidMessageContents/,
    );
    expect(sent.batches).toBe(1); // a sender fault is not retried
  });

  it('throws on an injected sender fault without resending', async () => {
    const { client, calls } = flakyClient((call, entries) =>
      call === 1 ? [{ Id: entries[0]?.Id, SenderFault: true, Code: 'InvalidParameterValue' }] : [],
    );
    const queues = await createQueues();
    const queue = new SqsWorkQueue(client, queues, async () => {});

    await expect(queue.send(itemMessages(3))).rejects.toThrow(/SQS refused a message: InvalidParameterValue/);
    expect(calls).toHaveLength(1);
  });

  it('gives up with a clear error after the bounded rounds when an entry keeps failing', async () => {
    const { client, calls } = flakyClient((_, entries) =>
      entries.filter((e) => e.Id === '0').map((e) => transientFailure(e.Id)),
    );
    const { waits, sleep } = recordingSleep();
    const queues = await createQueues();
    const queue = new SqsWorkQueue(client, queues, sleep);
    const messages = itemMessages(4);

    await expect(queue.send(messages)).rejects.toThrow(/SQS kept failing 1 message\(s\) after 5 tries/);

    expect(calls).toHaveLength(5);
    expect(calls.slice(1).every((entries) => entries.length === 1 && entries[0]?.Id === '0')).toBe(true);
    expect(calls.map((entries) => entries.length)).toEqual([4, 1, 1, 1, 1]);
    // Exponential back-off between rounds, none after the last one.
    expect(waits).toHaveLength(4);
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
    expect(new Set(waits).size).toBe(4);
    // The entries that did succeed arrived exactly once; the failing one never did.
    const received = await drain(queues.workQueueUrl, 3);
    expect(sortByJson(received)).toEqual(sortByJson(messages.slice(1)));
  });
});

describe('SqsWorkQueue.retryLater', () => {
  it('hands a received message back after the given wait: same message, its receive count going on', async () => {
    const queues = await createQueues();
    const queue = new SqsWorkQueue(sqs, queues);
    const message: WorkMessage = { kind: 'prepare', syncId: syncId() };
    await queue.send([message]);
    const receive = (waitSeconds: number) =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.workQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
    const first = (await receive(1)).Messages?.[0];
    if (!first?.ReceiptHandle) throw new Error('the message did not arrive');
    const postponedAt = Date.now();

    await queue.retryLater(first.ReceiptHandle, 2);

    expect((await receive(1)).Messages ?? [], 'hidden during the wait').toEqual([]);
    let again: Message | undefined;
    while (!again && Date.now() - postponedAt < 10_000) again = (await receive(1)).Messages?.[0];
    expect(Date.now() - postponedAt).toBeGreaterThanOrEqual(1_900);
    expect(again?.MessageId).toBe(first.MessageId);
    expect(JSON.parse(again?.Body ?? '')).toEqual(message);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
  });
});
