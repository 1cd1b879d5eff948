import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ProcessDeps } from '#core/pipeline/deps.ts';
import { parseWorkMessage, routeWorkMessage } from '#core/pipeline/messages.ts';
import { processItems } from '#core/pipeline/process-item.ts';
import type { WorkMessage } from '#core/ports/work-queue.ts';
import { BatchFailures } from '#lambdas/runtime/sqs-batch.ts';

export { routeWorkMessage } from '#core/pipeline/messages.ts';

/**
 * The processor Lambda: a batch of work messages with partial failures (`ReportBatchItemFailures`).
 * Item messages of one sync are processed together (one claim and one outcome statement for the
 * group, see processItems); prepare messages one by one; all groups in parallel. A record fails alone:
 * an unparsable body, its node's failure, or its group's claim failing.
 */
export function createProcessorApp(deps: ProcessDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures = new BatchFailures(deps);
    const itemsBySync = new Map<string, Array<{ record: SQSRecord; ardoqId: string }>>();
    const others: Array<{ record: SQSRecord; message: WorkMessage }> = [];
    for (const record of event.Records) {
      let message: WorkMessage;
      try {
        message = parseWorkMessage(record.body);
      } catch (error) {
        await failures.fail(record, error);
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
          await failures.fail(record, error);
        }
      }),
      ...[...itemsBySync].map(async ([syncId, group]) => {
        let failed: Map<string, unknown>;
        try {
          failed = await processItems(
            syncId,
            group.map((g) => g.ardoqId),
            deps,
          );
        } catch (error) {
          for (const { record } of group) await failures.fail(record, error);
          return;
        }
        for (const { record, ardoqId } of group) {
          if (failed.has(ardoqId)) await failures.fail(record, failed.get(ardoqId));
        }
      }),
    ]);
    return failures.response(event.Records);
  };
}
