import type { SQSClient } from '@aws-sdk/client-sqs';

/** What an SQS client sent: SendMessageBatch calls and the messages SQS accepted. */
export interface SqsSendCounts {
  batches: number;
  messages: number;
}

/**
 * Counts the SendMessageBatch calls of `client` (resends included) and the messages SQS accepted,
 * from outside the adapter: an SDK middleware, so production code carries no benchmark counters.
 */
export function countSqsSends(client: SQSClient): SqsSendCounts {
  const counts: SqsSendCounts = { batches: 0, messages: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'SendMessageBatchCommand') {
        counts.batches += 1;
        const output = result.output as { Successful?: unknown[] };
        counts.messages += output.Successful?.length ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'countSqsSends' },
  );
  return counts;
}
