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
}
