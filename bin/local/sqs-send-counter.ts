import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Tells `onSend` how many messages SQS accepted in each SendMessageBatch call of `client` (resends
 * included), from outside the adapter: an SDK middleware, so production code carries no counters.
 */
export function countSqsSends(client: SQSClient, onSend: (messages: number) => void): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'SendMessageBatchCommand') {
        const output = result.output as { Successful?: unknown[] };
        onSend(output.Successful?.length ?? 0);
      }
      return result;
    },
    { step: 'initialize', name: 'countSqsSends' },
  );
}
