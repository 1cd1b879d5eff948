import {
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
}

/**
 * Plays Lambda's SQS event source mapping on one machine: long-polls batches of ≤ 10, invokes the
 * handler with an `SQSEvent`, deletes what succeeded and leaves `batchItemFailures` (or the whole
 * batch, when the handler throws) to reappear after the visibility timeout and, after
 * maxReceiveCount receives, to be redriven to the DLQ by the queue itself.
 */
export class SqsEventSource {
  private running = false;
  private workers: Promise<void>[] = [];
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
    this.workers = Array.from({ length: this.options.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (error) {
        if (!this.running) return;
        this.log.warn('event source poll failed', {
          queueUrl: this.queueUrl,
          error: (error as Error).message,
        });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async pollOnce(): Promise<void> {
    const received = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: this.options.batchSize ?? 10,
        WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
        VisibilityTimeout: this.options.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0 || !this.running) return;
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
    await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
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
