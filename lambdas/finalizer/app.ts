import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SweepDeps } from '#core/pipeline/deps.ts';
import { finalize } from '#core/pipeline/finalize.ts';
import { parseWorkMessage } from '#core/pipeline/messages.ts';
import { sweep } from '#core/pipeline/sweep.ts';
import { BatchFailures } from '#lambdas/runtime/sqs-batch.ts';

/** A scheduled (EventBridge) invocation: the sweep. */
export interface ScheduledEvent {
  source?: string;
  'detail-type'?: string;
}

/**
 * The finalizer Lambda: `finalize` messages from the finalize queue (each sync's terminal transition,
 * with partial batch failures), and the one-minute schedule that runs the sweep. It never calls Azure
 * DevOps and holds no PAT.
 */
export function createFinalizerApp(deps: SweepDeps) {
  return async (event: SQSEvent | ScheduledEvent): Promise<SQSBatchResponse | { swept: true }> => {
    if (!('Records' in event && Array.isArray(event.Records))) {
      await sweep(deps);
      return { swept: true };
    }
    const failures = new BatchFailures(deps);
    await Promise.all(
      event.Records.map(async (record) => {
        try {
          const message = parseWorkMessage(record.body);
          if (message.kind !== 'finalize') throw new Error(`a ${message.kind} message on the finalize queue`);
          await finalize(message.syncId, deps);
        } catch (error) {
          await failures.fail(record, error);
        }
      }),
    );
    return failures.response(event.Records);
  };
}
