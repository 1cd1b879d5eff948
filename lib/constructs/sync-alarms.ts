import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';
import type { SyncFunction } from './sync-function.ts';
import type { SyncMetrics } from './sync-metrics.ts';
import type { SyncQueue } from './sync-queue.ts';

export interface SyncAlarmsProps {
  stage: string;
  settings: StageConfig['alarms'];
  /** Functions whose errors page someone. */
  functions: readonly SyncFunction[];
  /** The function that runs the one-minute sweep. */
  sweeper: SyncFunction;
  /** The function that processes items (its service emits the item metrics). */
  processor: SyncFunction;
  workQueue: SyncQueue;
  finalizeQueue: SyncQueue;
  api: apigw.RestApi;
  metrics: SyncMetrics;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What pages an operator: a message parked in a DLQ, a function failing, work waiting too long,
 * syncs getting stuck (the sweep had to fail one at its deadline, or the sweep stopped running),
 * Azure DevOps throttling most of our calls, and API 5xx. Actions go to an SNS topic when the stage
 * configures one (an existing topic, or one created here with an email subscription).
 */
export class SyncAlarms extends Construct {
  readonly alarms: cw.Alarm[] = [];
  readonly topic: sns.ITopic | undefined;

  constructor(scope: Construct, id: string, props: SyncAlarmsProps) {
    super(scope, id);
    const { settings } = props;
    this.topic = this.alarmTopic(settings);
    const name = (suffix: string) => `ardoq-ado-sync-${props.stage}-${suffix}`;

    for (const [label, queue] of [
      ['work', props.workQueue],
      ['finalize', props.finalizeQueue],
    ] as const) {
      this.add(`${label}-dlq-not-empty`, {
        alarmName: name(`${label}-dlq-not-empty`),
        alarmDescription: `Messages were parked in the ${label} DLQ after 5 failed receives: inspect them, fix the cause, redrive.`,
        metric: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: cw.Stats.MAXIMUM,
          period: FIVE_MINUTES,
        }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const fn of props.functions) {
      this.add(`${fn.serviceName}-errors`, {
        alarmName: name(`${fn.serviceName}-errors`),
        alarmDescription: `The ${fn.serviceName} function failed (uncaught error or timeout): see its log group.`,
        metric: fn.fn.metricErrors({ statistic: cw.Stats.SUM, period: FIVE_MINUTES }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }

    this.add('work-oldest-message', {
      alarmName: name('work-oldest-message-age'),
      alarmDescription: `A work message has waited more than ${settings.oldestMessageAgeMinutes} minutes: the processor is failing, throttled or starved of concurrency.`,
      metric: props.workQueue.queue.metricApproximateAgeOfOldestMessage({
        statistic: cw.Stats.MAXIMUM,
        period: FIVE_MINUTES,
      }),
      threshold: settings.oldestMessageAgeMinutes * 60,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    this.add('stuck-syncs', {
      alarmName: name('stuck-syncs'),
      alarmDescription:
        'The sweep failed a sync that was still open at its deadline: it was stuck. Read the finalizer logs ("sweep repaired") and the sync\'s events.',
      metric: props.metrics.syncsPastDeadline,
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    this.add('sweep-not-running', {
      alarmName: name('sweep-not-running'),
      alarmDescription:
        'The finalizer was not invoked for 10 minutes although the schedule runs it every minute: nothing finalizes, recovers or times out syncs.',
      metric: props.sweeper.fn.metricInvocations({ statistic: cw.Stats.SUM, period: FIVE_MINUTES }),
      threshold: 1,
      comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.BREACHING,
    });

    const service = props.processor.serviceName;
    const m = props.metrics;
    this.add('ado-throttling', {
      alarmName: name('ado-throttling'),
      alarmDescription:
        'More than half of the item attempts were throttled by Azure DevOps for 15 minutes: lower functions.processor.maxConcurrency.',
      metric: new cw.MathExpression({
        // Percent of item attempts that were throttled, once there are enough attempts to mean something.
        expression:
          'IF(FILL(c, 0) + FILL(f, 0) + FILL(t, 0) >= 10, 100 * FILL(t, 0) / (FILL(c, 0) + FILL(f, 0) + FILL(t, 0)), 0)',
        usingMetrics: {
          c: m.of('ItemsCreated', service),
          f: m.of('ItemsFailed', service),
          t: m.of('ItemsThrottled', service),
        },
        label: 'Throttled item attempts (%)',
        period: FIVE_MINUTES,
      }),
      threshold: 50,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    this.add('api-5xx', {
      alarmName: name('api-5xx'),
      alarmDescription: 'The API answered 5 or more server errors in 5 minutes: see the API function logs.',
      metric: props.api.metricServerError({ statistic: cw.Stats.SUM, period: FIVE_MINUTES }),
      threshold: 5,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
  }

  private add(id: string, props: cw.AlarmProps): void {
    const alarm = new cw.Alarm(this, id, props);
    if (this.topic) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
    this.alarms.push(alarm);
  }

  /** The configured topic, or one created for an email address, or none (alarms show on the dashboard only). */
  private alarmTopic(settings: StageConfig['alarms']): sns.ITopic | undefined {
    let topic: sns.ITopic | undefined;
    if (settings.topicArn) {
      topic = sns.Topic.fromTopicArn(this, 'Topic', settings.topicArn);
    } else if (settings.email) {
      // CloudWatch can publish to an encrypted topic only with a customer managed key that lets it.
      const key = new kms.Key(this, 'TopicKey', {
        description: 'Encrypts the sync alarm topic',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      topic = new sns.Topic(this, 'Topic', {
        displayName: 'Ardoq → Azure DevOps sync alarms',
        masterKey: key,
        enforceSSL: true,
      });
    }
    if (topic && settings.email) topic.addSubscription(new subscriptions.EmailSubscription(settings.email));
    return topic;
  }
}
