import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Log } from '#core/pipeline/deps.ts';

export interface EventSourceOptions {
  /** Concurrent invocations (the event source mapping's maxConcurrency). */
  concurrency: number;
  batchSize?: number;
  visibilityTimeoutSeconds: number;
  waitTimeSeconds?: number;
  queueArn?: string;
  /** Batches received ahead while every invocation slot is busy (default 2). */
  prefetchBatches?: number;
}

/**
 * Plays Lambda's SQS event source mapping on one machine: long-polls batches of ≤ 10, invokes the
 * handler with an `SQSEvent`, deletes what succeeded and leaves `batchItemFailures` (or the whole
 * batch, when the handler throws) to reappear after the visibility timeout and, after
 * maxReceiveCount receives, to be redriven to the DLQ by the queue itself.
 */
export class SqsEventSource {
  private running = false;
  private pollers: Promise<void>[] = [];
  private readonly invocationsInFlight = new Set<Promise<void>>();
  private readonly deletions = new Set<Promise<void>>();
  /** Batches received while every invocation slot was busy, oldest first. */
  private readonly buffered: Message[][] = [];
  private busy = 0;
  private receiving = 0;
  private waiters: Array<() => void> = [];
  /** Invocations made (benchmarks: invocations per item). */
  invocations = 0;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined | unknown>,
    private readonly options: EventSourceOptions,
    private readonly log: Log,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pollers = Array.from({ length: this.options.concurrency }, () => this.poll());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.pollers);
    await Promise.all(this.invocationsInFlight);
    // Batches fetched ahead and never handled go back to the queue at once.
    const left = this.buffered.splice(0).flat();
    if (left.length > 0) await this.giveBack(left);
    await Promise.all(this.deletions);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Like Lambda's pollers, receives run ahead of the invocations: while every slot is busy, up to
   * `prefetchBatches` batches wait in a buffer, so a slot that frees up starts at once instead of
   * going through a receive. A buffered batch goes to the first free slot (never held by one poller).
   */
  private async poll(): Promise<void> {
    const prefetch = this.options.prefetchBatches ?? 2;
    while (this.running) {
      if (this.busy + this.buffered.length + this.receiving >= this.options.concurrency + prefetch) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      this.receiving += 1;
      let messages: Message[];
      try {
        messages = await this.receive();
      } catch (error) {
        if (this.running) {
          this.log.warn('event source poll failed', {
            queueUrl: this.queueUrl,
            error: (error as Error).message,
          });
          await new Promise((r) => setTimeout(r, 200));
        }
        continue;
      } finally {
        this.receiving -= 1;
      }
      if (messages.length === 0) continue;
      if (!this.running) {
        await this.giveBack(messages);
        continue;
      }
      this.buffered.push(messages);
      this.dispatch();
    }
  }

  /** Starts buffered batches while slots are free. */
  private dispatch(): void {
    while (this.busy < this.options.concurrency && this.buffered.length > 0) {
      const messages = this.buffered.shift() as Message[];
      this.busy += 1;
      const run = this.invoke(messages)
        .catch((error: Error) => this.log.error('event source invocation crashed', { error: error.message }))
        .finally(() => {
          this.busy -= 1;
          this.invocationsInFlight.delete(run);
          if (this.running) this.dispatch();
          this.wake();
        });
      this.invocationsInFlight.add(run);
    }
  }

  private async receive(): Promise<Message[]> {
    const received = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: this.options.batchSize ?? 10,
        WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
        VisibilityTimeout: this.options.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return received.Messages ?? [];
  }

  /** Makes fetched but unhandled messages visible again (a poller shutting down). */
  private async giveBack(messages: Message[]): Promise<void> {
    await this.client
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      )
      .catch((error: Error) => this.log.warn('could not give messages back', { error: error.message }));
  }

  private async invoke(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => this.toRecord(m)) };
    this.invocations += 1;
    let failed: Set<string>;
    try {
      const response = (await this.handler(event)) as SQSBatchResponse | undefined;
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      // Like Lambda: a failure naming no message of the batch fails the whole batch.
      const ids = new Set(messages.map((m) => m.MessageId));
      if ([...failed].some((id) => !id || !ids.has(id))) return;
    } catch (error) {
      this.log.warn('invocation failed: the whole batch will be retried', {
        error: (error as Error).message,
      });
      return;
    }
    const done = messages.filter((m) => m.MessageId && !failed.has(m.MessageId));
    if (done.length === 0) return;
    const deletion = this.client
      .send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      )
      .then(
        () => undefined,
        (error: Error) =>
          this.log.warn('delete failed: the messages will come back', { error: error.message }),
      )
      .finally(() => this.deletions.delete(deletion));
    this.deletions.add(deletion);
  }

  private toRecord(m: Message): SQSRecord {
    const attributes = (m.Attributes ?? {}) as Record<string, string>;
    return {
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn ?? this.queueUrl,
      awsRegion: 'us-east-1',
    };
  }
}
