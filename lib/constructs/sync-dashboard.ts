import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { SyncFunction } from './sync-function.ts';
import type { SyncMetrics } from './sync-metrics.ts';
import type { SyncQueue } from './sync-queue.ts';

export interface SyncDashboardProps {
  stage: string;
  metrics: SyncMetrics;
  functions: readonly SyncFunction[];
  workQueue: SyncQueue;
  finalizeQueue: SyncQueue;
  api: apigw.RestApi;
  alarms: readonly cw.IAlarm[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;
const HEIGHT = 6;

/** One page for an operator: syncs and items, queues and DLQs, functions, the sweep, the API, alarms. */
export class SyncDashboard extends Construct {
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: SyncDashboardProps) {
    super(scope, id);
    const { metrics: m, workQueue, finalizeQueue } = props;
    const graph = (title: string, left: cw.IMetric[], right: cw.IMetric[] = []) =>
      new cw.GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT, period: PERIOD });
    const queueMetric = (queue: SyncQueue, label: string, pick: 'depth' | 'age' | 'dlq') => {
      if (pick === 'depth')
        return queue.queue.metricApproximateNumberOfMessagesVisible({ label, period: PERIOD });
      if (pick === 'age') {
        return queue.queue.metricApproximateAgeOfOldestMessage({
          label,
          period: PERIOD,
          statistic: cw.Stats.MAXIMUM,
        });
      }
      return queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        label,
        period: PERIOD,
        statistic: cw.Stats.MAXIMUM,
      });
    };
    const perFunction = (pick: (fn: SyncFunction) => cw.IMetric) => props.functions.map(pick);

    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: `ardoq-ado-sync-${props.stage}`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      graph('Syncs started / finished', [m.total('SyncsStarted'), m.total('SyncsFinished')]),
      graph('Items created / failed / throttled', [
        m.total('ItemsCreated'),
        m.total('ItemsFailed'),
        m.total('ItemsThrottled'),
      ]),
      graph('Sync duration (ms)', [m.total('SyncDuration', 'Average'), m.total('SyncDuration', 'Maximum')]),
    );
    this.dashboard.addWidgets(
      graph('Queue depth (visible messages)', [
        queueMetric(workQueue, 'work', 'depth'),
        queueMetric(finalizeQueue, 'finalize', 'depth'),
      ]),
      graph('Age of oldest message (s)', [
        queueMetric(workQueue, 'work', 'age'),
        queueMetric(finalizeQueue, 'finalize', 'age'),
      ]),
      graph('DLQ depth', [
        queueMetric(workQueue, 'work DLQ', 'dlq'),
        queueMetric(finalizeQueue, 'finalize DLQ', 'dlq'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        perFunction((fn) => fn.fn.metricErrors({ label: fn.serviceName, period: PERIOD })),
      ),
      graph(
        'Function duration p95 (ms)',
        perFunction((fn) =>
          fn.fn.metricDuration({ label: fn.serviceName, period: PERIOD, statistic: 'p95' }),
        ),
      ),
      graph(
        'Sweep repairs',
        [m.syncsPastDeadline.with({ label: 'syncs failed at deadline' })],
        [m.itemsResent.with({ label: 'items resent' }), m.preparesResent.with({ label: 'prepares resent' })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'API requests and errors',
        [props.api.metricCount({ label: 'requests', period: PERIOD })],
        [
          props.api.metricClientError({ label: '4xx', period: PERIOD }),
          props.api.metricServerError({ label: '5xx', period: PERIOD }),
        ],
      ),
      graph('API latency p95 (ms)', [
        props.api.metricLatency({ label: 'latency', period: PERIOD, statistic: 'p95' }),
        props.api.metricIntegrationLatency({ label: 'integration', period: PERIOD, statistic: 'p95' }),
      ]),
      new cw.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: WIDTH, height: HEIGHT }),
    );
  }
}
