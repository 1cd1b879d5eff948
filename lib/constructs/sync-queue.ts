import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { visibilityTimeoutSeconds } from '../config.ts';

export interface SyncQueueProps {
  /** Timeout of the function that consumes the queue: the visibility timeout is 6× this. */
  consumerTimeoutSeconds: number;
}

/** Receives after which a message is parked in the DLQ (FACTS.md: ≥ 5). */
export const MAX_RECEIVE_COUNT = 5;
export const RETENTION = Duration.days(4);
export const DLQ_RETENTION = Duration.days(14);

/**
 * A standard queue with its dead-letter queue, both encrypted (SSE-SQS) and refusing plain HTTP.
 * The DLQ keeps messages longer than their queue so an operator has time to redrive them.
 */
export class SyncQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SyncQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: RETENTION,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(props.consumerTimeoutSeconds)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
