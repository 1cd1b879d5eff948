import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueDepth } from '#bin/local/local-queues.ts';
import { type EventSourceOptions, SqsEventSource } from '#bin/local/sqs-event-source.ts';
import { silentLog } from '#core/pipeline/deps.ts';

// SqsEventSource (Lambda's SQS event source mapping, played locally) against a real SQS emulator
// (fauxqs, in-process as bin/local/local-system.ts starts it). Visibility timeouts are 1 s so retries
// reappear quickly.

const VISIBILITY = 1;

let fauxqs: ReturnType<typeof buildApp>;
let endpoint: string;
let sqs: SQSClient;
const started: SqsEventSource[] = [];

beforeAll(async () => {
  fauxqs = buildApp({ logger: false });
  await fauxqs.listen({ port: 0, host: '127.0.0.1' });
  endpoint = `http://127.0.0.1:${(fauxqs.server.address() as { port: number }).port}`;
  sqs = newClient();
});

afterEach(async () => {
  await within(Promise.all(started.splice(0).map((source) => source.stop())), 10_000, 'stop() in teardown');
});

afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.close();
});

// ---- factories and helpers ----

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

interface Delivery {
  messageId: string;
  body: string;
  receiveCount: string;
  at: number;
  invocation: number;
}

const newClient = () =>
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

/** A real client whose calls are counted (a middleware, not a mock): how many made, how many still open. */
function countedClient() {
  const client = newClient();
  const calls = { made: 0, inFlight: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      calls.made += 1;
      calls.inFlight += 1;
      try {
        return await next(args);
      } finally {
        calls.inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { client, calls };
}

const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function createQueue(
  name: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { VisibilityTimeout: String(VISIBILITY), ...attributes },
    }),
  );
  if (!QueueUrl) throw new Error(`queue ${name} was not created`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

/** Sends the bodies (batches of 10) and returns the message ids SQS assigned, in body order. */
async function sendBodies(queueUrl: string, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((body, j) => ({ Id: String(j), MessageBody: body })),
      }),
    );
    expect(result.Failed ?? []).toEqual([]);
    for (let j = 0; j < chunk.length; j++) {
      const id = result.Successful?.find((s) => s.Id === String(j))?.MessageId;
      if (!id) throw new Error('message was not sent');
      ids.push(id);
    }
  }
  return ids;
}

const bodiesFor = (count: number) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ n: i, run: randomUUID() }));

/** Starts an event source whose handler records every delivery before calling `behaviour`. */
function startSource(
  queueUrl: string,
  behaviour: Handler,
  options: Partial<EventSourceOptions> = {},
  client: SQSClient = sqs,
): { source: SqsEventSource; deliveries: Delivery[]; events: SQSEvent[] } {
  const deliveries: Delivery[] = [];
  const events: SQSEvent[] = [];
  const handler = async (event: SQSEvent) => {
    events.push(event);
    const invocation = events.length;
    for (const record of event.Records) {
      deliveries.push({
        messageId: record.messageId,
        body: record.body,
        receiveCount: record.attributes.ApproximateReceiveCount,
        at: Date.now(),
        invocation,
      });
    }
    return behaviour(event);
  };
  const source = new SqsEventSource(
    client,
    queueUrl,
    handler,
    { concurrency: 1, visibilityTimeoutSeconds: VISIBILITY, waitTimeSeconds: 1, ...options },
    silentLog,
  );
  started.push(source);
  source.start();
  return { source, deliveries, events };
}

/** Fails (instead of hanging the suite) when `promise` does not settle in time. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Visible + in-flight + delayed messages of a queue. */
const depth = (queueUrl: string) => queueDepth(sqs, queueUrl);

async function receiveAll(queueUrl: string, waitSeconds = 1): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

const succeed: Handler = async () => ({ batchItemFailures: [] });
const failWhere =
  (fails: (record: SQSRecord) => boolean): Handler =>
  async (event) => ({
    batchItemFailures: event.Records.filter(fails).map((r) => ({ itemIdentifier: r.messageId })),
  });
const countOf = (deliveries: readonly Delivery[], messageId: string) =>
  deliveries.filter((d) => d.messageId === messageId).length;

// ---- specification ----

describe('SqsEventSource', () => {
  it('invokes the handler with SQSEvents of at most 10 records carrying messageId, body and receive count', async () => {
    const queue = await createQueue(uniqueName('esm-basic'));
    const bodies = bodiesFor(23);
    const ids = await sendBodies(queue.url, bodies);

    const { deliveries, events } = startSource(queue.url, succeed, { queueArn: queue.arn });
    await waitFor(() => deliveries.length >= 23, '23 deliveries');

    expect(events.every((e) => e.Records.length >= 1 && e.Records.length <= 10)).toBe(true);
    expect(events.some((e) => e.Records.length > 1)).toBe(true); // records are batched
    const byId = new Map(deliveries.map((d) => [d.messageId, d]));
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    ids.forEach((id, i) => {
      expect(byId.get(id)?.body).toBe(bodies[i]);
    });
    expect(deliveries.every((d) => d.receiveCount === '1')).toBe(true);
    const record = events[0]?.Records[0];
    expect(record?.eventSource).toBe('aws:sqs');
    expect(record?.eventSourceARN).toBe(queue.arn);
    expect(record?.receiptHandle).not.toBe('');
  });

  it('deletes the records the handler processed: they never come back', async () => {
    const queue = await createQueue(uniqueName('esm-delete'));
    const ids = await sendBodies(queue.url, bodiesFor(12));

    const { source, deliveries } = startSource(queue.url, succeed);
    await waitFor(() => deliveries.length >= 12, '12 deliveries');
    await sleep(VISIBILITY * 1000 + 1_000); // past the visibility timeout: undeleted records would be back
    await within(source.stop(), 5_000, 'stop()');

    expect(deliveries).toHaveLength(12);
    expect(ids.every((id) => countOf(deliveries, id) === 1)).toBe(true);
    expect(await depth(queue.url)).toBe(0);
  });

  it('lets a record reported in batchItemFailures reappear after the visibility timeout, with receive count 2', async () => {
    const queue = await createQueue(uniqueName('esm-partial'));
    const [okId, retryId, otherId] = await sendBodies(queue.url, bodiesFor(3));
    const { source, deliveries } = startSource(
      queue.url,
      failWhere((r) => r.messageId === retryId && r.attributes.ApproximateReceiveCount === '1'),
    );

    await waitFor(() => countOf(deliveries, retryId!) >= 2, 'the failed record to come back');
    await sleep(VISIBILITY * 1000 + 500);
    await within(source.stop(), 5_000, 'stop()');

    const retried = deliveries.filter((d) => d.messageId === retryId);
    expect(retried.map((d) => d.receiveCount)).toEqual(['1', '2']);
    const [first, second] = retried;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(VISIBILITY * 1000 - 100);
    expect(countOf(deliveries, okId!)).toBe(1);
    expect(countOf(deliveries, otherId!)).toBe(1);
    expect(await depth(queue.url)).toBe(0);
  });

  it('lets the whole batch come back when the handler throws', async () => {
    const queue = await createQueue(uniqueName('esm-throw'));
    const ids = await sendBodies(queue.url, bodiesFor(5));
    let calls = 0;
    const { source, deliveries } = startSource(queue.url, async () => {
      calls += 1;
      if (calls === 1) throw new Error('handler crashed');
      return undefined; // no batch response: every record succeeded
    });

    await waitFor(() => ids.every((id) => countOf(deliveries, id) >= 1), 'every record once');
    const firstBatch = deliveries.filter((d) => d.invocation === 1).map((d) => d.messageId);
    await waitFor(
      () => firstBatch.every((id) => deliveries.some((d) => d.messageId === id && d.invocation > 1)),
      'the failed batch to come back',
    );
    await sleep(VISIBILITY * 1000 + 500);
    await within(source.stop(), 5_000, 'stop()');

    expect(firstBatch.length).toBeGreaterThan(0);
    for (const id of firstBatch) {
      expect(deliveries.filter((d) => d.messageId === id).map((d) => d.receiveCount)).toEqual(['1', '2']);
    }
    for (const id of ids.filter((id) => !firstBatch.includes(id))) expect(countOf(deliveries, id)).toBe(1);
    expect(await depth(queue.url)).toBe(0);
  });

  it('leaves a record that always fails to the queue’s redrive policy: it ends in the DLQ', async () => {
    const name = uniqueName('esm-redrive');
    const dlq = await createQueue(`${name}-dlq`);
    const queue = await createQueue(name, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: '2' }),
    });
    const bodies = bodiesFor(3);
    const [poisonId, ...goodIds] = await sendBodies(queue.url, bodies);
    const { source, deliveries } = startSource(
      queue.url,
      failWhere((r) => r.messageId === poisonId),
    );

    const dead: Message[] = [];
    const deadline = Date.now() + 15_000;
    while (dead.length === 0 && Date.now() < deadline) dead.push(...(await receiveAll(dlq.url)));
    await within(source.stop(), 5_000, 'stop()');

    expect(dead.map((m) => m.Body)).toEqual([bodies[0]]);
    expect(deliveries.filter((d) => d.messageId === poisonId).map((d) => d.receiveCount)).toEqual(['1', '2']);
    for (const id of goodIds) expect(countOf(deliveries, id!)).toBe(1);
    expect(await depth(queue.url)).toBe(0);
  });

  it('runs at most `concurrency` handler invocations at the same time, and uses them', async () => {
    const queue = await createQueue(uniqueName('esm-concurrency'));
    await sendBodies(queue.url, bodiesFor(40));
    let inFlight = 0;
    let peak = 0;

    const { deliveries } = startSource(
      queue.url,
      async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await sleep(150);
        inFlight -= 1;
        return { batchItemFailures: [] };
      },
      { concurrency: 3, batchSize: 2, visibilityTimeoutSeconds: 30 },
    );
    await waitFor(() => deliveries.length >= 40, '40 deliveries', 30_000);

    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect(new Set(deliveries.map((d) => d.messageId)).size).toBe(40);
  });

  it('ends its polling loops when stop() resolves', async () => {
    const queue = await createQueue(uniqueName('esm-stop'));
    const { client, calls } = countedClient();
    try {
      const { source, deliveries } = startSource(queue.url, succeed, {}, client);
      await sendBodies(queue.url, bodiesFor(1));
      await waitFor(() => deliveries.length === 1, 'the first delivery');
      const invocations = source.invocations;

      await within(source.stop(), 5_000, 'stop()');
      const callsAtStop = calls.made;
      const inFlightAtStop = calls.inFlight;
      const [lateBody] = bodiesFor(1);
      const [lateId] = await sendBodies(queue.url, [lateBody!]);
      await sleep(1_500);

      expect(inFlightAtStop).toBe(0); // no long poll outlives stop()
      expect(calls.made).toBe(callsAtStop); // and none starts after it
      expect(source.invocations).toBe(invocations);
      expect(deliveries).toHaveLength(1);
      const left = await receiveAll(queue.url);
      expect(left.map((m) => m.MessageId)).toEqual([lateId]);
    } finally {
      client.destroy();
    }
  });
});
