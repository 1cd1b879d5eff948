import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { finalize } from '#core/pipeline/finalize.ts';
import { parseWorkMessage } from '#core/pipeline/messages.ts';
import { prepareSync } from '#core/pipeline/prepare-sync.ts';
import { processItem } from '#core/pipeline/process-item.ts';

/** Routes one queue message to its use case; a throw fails only this record (partial batch response). */
export async function handleWorkMessage(record: SQSRecord, deps: PipelineDeps): Promise<void> {
  const message = parseWorkMessage(record.body);
  switch (message.kind) {
    case 'prepare':
      return prepareSync(message.syncId, deps);
    case 'item':
      return processItem(message.syncId, message.ardoqId, deps);
    case 'finalize':
      return finalize(message.syncId, deps);
  }
}

/**
 * The processor Lambda: Powertools batch processing with partial failures, records in parallel.
 * A fresh BatchProcessor per invocation: it keeps per-batch state, and the local runtime runs
 * several invocations in one process.
 */
export function createProcessorApp(deps: PipelineDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          await handleWorkMessage(record, deps);
        } catch (error) {
          deps.log.error('message failed, will be retried', {
            messageId: record.messageId,
            receiveCount: record.attributes?.ApproximateReceiveCount,
            error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
          });
          throw error;
        }
      },
      processor,
      { throwOnFullBatchFailure: false },
    );
  };
}
