import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { WorkMessage, WorkQueue } from '#core/ports/work-queue.ts';

const BATCH = 10; // SendMessageBatch's limit
const MAX_ROUNDS = 5;

/** `WorkQueue` over SQS: item and prepare messages to the work queue, finalize to the finalize queue. */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    /** A function that never sends finalize messages is not given the finalize queue. */
    private readonly queues: { workQueueUrl: string; finalizeQueueUrl?: string },
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async send(messages: readonly WorkMessage[], options: { delaySeconds?: number } = {}): Promise<void> {
    const byQueue = new Map<string, WorkMessage[]>();
    for (const message of messages) {
      const url = message.kind === 'finalize' ? this.finalizeQueueUrl() : this.queues.workQueueUrl;
      byQueue.set(url, [...(byQueue.get(url) ?? []), message]);
    }
    const delay =
      options.delaySeconds === undefined
        ? undefined
        : Math.max(0, Math.min(900, Math.round(options.delaySeconds)));
    // The batches go out together (order means nothing on a standard queue); all are waited for
    // before the first failure is reported, so a caller's retry never races a send still in flight.
    const sends: Promise<void>[] = [];
    for (const [url, list] of byQueue) {
      for (let i = 0; i < list.length; i += BATCH)
        sends.push(this.sendBatch(url, list.slice(i, i + BATCH), delay));
    }
    const failure = (await Promise.allSettled(sends)).find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  private finalizeQueueUrl(): string {
    if (!this.queues.finalizeQueueUrl) throw new Error('this function has no finalize queue to send to');
    return this.queues.finalizeQueueUrl;
  }

  async retryLater(receiptHandle: string, delaySeconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queues.workQueueUrl,
        ReceiptHandle: receiptHandle,
        // SQS allows up to 12 hours; our waits are minutes.
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(delaySeconds))),
      }),
    );
  }

  /** Sends one batch, resending the entries SQS reports in `Failed` (it does not throw for them). */
  private async sendBatch(
    url: string,
    batch: WorkMessage[],
    delaySeconds: number | undefined,
  ): Promise<void> {
    let entries: SendMessageBatchRequestEntry[] = batch.map((message, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify(message),
      ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}),
    }));
    for (let round = 1; entries.length > 0; round++) {
      const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
      const failed = new Set((result.Failed ?? []).map((f) => f.Id));
      const senderFault = (result.Failed ?? []).find((f) => f.SenderFault);
      if (senderFault)
        throw new Error(`SQS refused a message: ${senderFault.Code} ${senderFault.Message ?? ''}`);
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length > 0) {
        if (round >= MAX_ROUNDS)
          throw new Error(`SQS kept failing ${entries.length} message(s) after ${round} tries`);
        await this.sleep(50 * 2 ** round);
      }
    }
  }
}
