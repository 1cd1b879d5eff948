import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { finalize } from '#core/pipeline/finalize.ts';
import { parseWorkMessage } from '#core/pipeline/messages.ts';
import { prepareSync } from '#core/pipeline/prepare-sync.ts';
import { processItem, processItems } from '#core/pipeline/process-item.ts';
import { RetryLaterError, type WorkMessage } from '#core/ports/work-queue.ts';

/** Routes one work message to its use case (a single item message is a batch of one). */
export async function routeWorkMessage(message: WorkMessage, deps: PipelineDeps): Promise<void> {
  switch (message.kind) {
    case 'prepare':
      return prepareSync(message.syncId, deps);
    case 'item':
      return processItem(message.syncId, message.ardoqId, deps);
    case 'finalize':
      await finalize(message.syncId, deps);
      return;
  }
}

/**
 * The processor Lambda: a batch of work messages with partial failures (`ReportBatchItemFailures`).
 * Item messages of one sync are processed together (one claim and one outcome statement for the
 * group, see processItems); prepare and finalize messages one by one; all groups in parallel. A
 * record fails alone: an unparsable body, its node's failure, or its group's claim failing.
 */
export function createProcessorApp(deps: PipelineDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failed = new Set<string>();
    const fail = async (record: SQSRecord, error: unknown) => {
      failed.add(record.messageId);
      if (error instanceof RetryLaterError) {
        // An expected wait (e.g. Azure DevOps trouble in prepare): the message comes back after it.
        await deps.queue.retryLater(record.receiptHandle, error.delaySeconds).catch((cause: unknown) => {
          deps.log.warn('could not postpone a message: it comes back after the visibility timeout', {
            messageId: record.messageId,
            error: cause instanceof Error ? cause.message : String(cause),
          });
        });
        return;
      }
      deps.log.error('message failed, will be retried', {
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
    };
    const itemsBySync = new Map<string, Array<{ record: SQSRecord; ardoqId: string }>>();
    const others: Array<{ record: SQSRecord; message: WorkMessage }> = [];
    for (const record of event.Records) {
      let message: WorkMessage;
      try {
        message = parseWorkMessage(record.body);
      } catch (error) {
        await fail(record, error);
        continue;
      }
      if (message.kind === 'item') {
        const group = itemsBySync.get(message.syncId) ?? [];
        group.push({ record, ardoqId: message.ardoqId });
        itemsBySync.set(message.syncId, group);
      } else {
        others.push({ record, message });
      }
    }
    await Promise.all([
      ...others.map(async ({ record, message }) => {
        try {
          await routeWorkMessage(message, deps);
        } catch (error) {
          await fail(record, error);
        }
      }),
      ...[...itemsBySync].map(async ([syncId, group]) => {
        let failures: Map<string, unknown>;
        try {
          failures = await processItems(
            syncId,
            group.map((g) => g.ardoqId),
            deps,
          );
        } catch (error) {
          for (const { record } of group) await fail(record, error);
          return;
        }
        for (const { record, ardoqId } of group) {
          if (failures.has(ardoqId)) await fail(record, failures.get(ardoqId));
        }
      }),
    ]);
    const batchItemFailures: SQSBatchItemFailure[] = event.Records.filter((r) => failed.has(r.messageId)).map(
      (r) => ({ itemIdentifier: r.messageId }),
    );
    return { batchItemFailures };
  };
}
