import type { SQSClient } from '@aws-sdk/client-sqs';
import { countSqsSends as onSqsSends } from '#bin/local/sqs-send-counter.ts';

/** What an SQS client sent: SendMessageBatch calls and the messages SQS accepted. */
export interface SqsSendCounts {
  batches: number;
  messages: number;
}

/** Counts the SendMessageBatch calls of `client` (resends included) and the messages SQS accepted. */
export function countSqsSends(client: SQSClient): SqsSendCounts {
  const counts: SqsSendCounts = { batches: 0, messages: 0 };
  onSqsSends(client, (messages) => {
    counts.batches += 1;
    counts.messages += messages;
  });
  return counts;
}
