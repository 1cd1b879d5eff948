/** Messages are tiny references; the database holds the plan (DESIGN.md §2). */
export type WorkMessage =
  | { kind: 'prepare'; syncId: string }
  | { kind: 'item'; syncId: string; ardoqId: string }
  | { kind: 'finalize'; syncId: string };

/**
 * The `WorkQueue` port: the work queue (prepare + item messages) and the finalize queue.
 * At-least-once: every consumer must be idempotent.
 */
export interface WorkQueue {
  /** Sends messages (finalize messages go to the finalize queue); `delaySeconds` ≤ 900. */
  send(messages: readonly WorkMessage[], options?: { delaySeconds?: number }): Promise<void>;
  /**
   * Lets a received work-queue message come back after `delaySeconds` instead of now (SQS: its
   * visibility timeout). Its receive count goes on, so the dead-letter queue still catches a message
   * that never succeeds.
   */
  retryLater(receiptHandle: string, delaySeconds: number): Promise<void>;
}

/**
 * Thrown by a use case whose message should come back later (e.g. a prepare step waiting out Azure
 * DevOps trouble): the consumer hands the wait to the queue (`WorkQueue.retryLater`).
 */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    readonly delaySeconds: number,
    message = `retry in ${delaySeconds} s`,
  ) {
    super(message);
  }
}
