import type { SQSBatchItemFailure, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { Log } from '#core/ports/observability.ts';
import { RetryLaterError, type WorkQueue } from '#core/ports/work-queue.ts';

/**
 * The records of one SQS batch that failed, reported as `batchItemFailures` (ReportBatchItemFailures):
 * those come back, the others are deleted. A use case that asks to be retried later
 * (`RetryLaterError`) has its message's visibility set to that wait, so it comes back then with its
 * receive count going on (the dead-letter queue still catches a message that never succeeds).
 */
export class BatchFailures {
  readonly #failed = new Set<string>();

  constructor(private readonly deps: { log: Log; queue: Pick<WorkQueue, 'retryLater'> }) {}

  async fail(record: SQSRecord, error: unknown): Promise<void> {
    this.#failed.add(record.messageId);
    if (error instanceof RetryLaterError) {
      await this.deps.queue.retryLater(record.receiptHandle, error.delaySeconds).catch((cause: unknown) => {
        this.deps.log.warn('could not postpone a message: it comes back after the visibility timeout', {
          messageId: record.messageId,
          error: cause instanceof Error ? cause.message : String(cause),
        });
      });
      return;
    }
    this.deps.log.error('message failed, will be retried', {
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
  }

  /** The answer for Lambda, in the batch's order. */
  response(records: readonly SQSRecord[]): SQSBatchResponse {
    const batchItemFailures: SQSBatchItemFailure[] = records
      .filter((r) => this.#failed.has(r.messageId))
      .map((r) => ({ itemIdentifier: r.messageId }));
    return { batchItemFailures };
  }
}
