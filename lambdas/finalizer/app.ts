import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { sweep } from '#core/pipeline/finalize.ts';
import { createProcessorApp } from '#lambdas/processor/app.ts';

/** A scheduled (EventBridge) invocation: the sweep. */
export interface ScheduledEvent {
  source?: string;
  'detail-type'?: string;
}

/**
 * The finalizer Lambda: finalize messages from the finalize queue (same partial-batch handling as
 * the processor), and the one-minute schedule that runs the sweep.
 */
export function createFinalizerApp(deps: PipelineDeps) {
  const onMessages = createProcessorApp(deps);
  return async (event: SQSEvent | ScheduledEvent): Promise<SQSBatchResponse | { swept: true }> => {
    if ('Records' in event && Array.isArray(event.Records)) return onMessages(event);
    await sweep(deps);
    return { swept: true };
  };
}
