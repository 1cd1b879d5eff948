import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The four queues of the stateful stack, created on the local SQS service with the same redrive. */
export async function createQueues(sqs: SQSClient, visibility: number, maxReceiveCount: number) {
  const create = async (name: string, attributes: Record<string, string> = {}) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`queue ${name} was not created`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
  };
  const workDlq = await create('ardoq-sync-work-dlq');
  const finalizeDlq = await create('ardoq-sync-finalize-dlq');
  const redrive = (arn: string) =>
    JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: String(maxReceiveCount) });
  const work = await create('ardoq-sync-work', {
    VisibilityTimeout: String(visibility),
    RedrivePolicy: redrive(workDlq.arn),
  });
  const finalize = await create('ardoq-sync-finalize', {
    VisibilityTimeout: String(visibility),
    RedrivePolicy: redrive(finalizeDlq.arn),
  });
  return { work: work.url, workDlq: workDlq.url, finalize: finalize.url, finalizeDlq: finalizeDlq.url };
}

/** Approximate number of visible + in-flight + delayed messages of a queue. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
