import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './sync-function.ts';

/** Business metrics the functions emit (EMF, dimension `service`). */
export type BusinessMetric =
  | 'SyncsStarted'
  | 'SyncsFinished'
  | 'ItemsCreated'
  | 'ItemsFailed'
  | 'ItemsThrottled'
  | 'SyncDuration'
  | 'SyncsPastDeadline'
  | 'StrandedItemsResent'
  | 'PreparesResent';

export interface SyncMetricsProps {
  /** The service name of the function that runs the sweep (it emits the sweep's metrics). */
  sweeperService: string;
}

/**
 * The metrics the dashboard and alarms read. Business metrics carry Powertools' `service` dimension
 * (the emitting function), so graphs sum them over services with a SEARCH expression. The sweep emits
 * what it repaired as metrics (no log text is parsed): a sync the sweep fails at its deadline is a
 * sync that was stuck, which is what the stuck-sync alarm watches.
 */
export class SyncMetrics extends Construct {
  /** Syncs the sweep failed because they were still open at their deadline. */
  readonly syncsPastDeadline: cw.Metric;
  /** Item messages the sweep re-sent because their claim went stale (lost or crashed). */
  readonly itemsResent: cw.Metric;
  /** Prepare messages the sweep re-sent. */
  readonly preparesResent: cw.Metric;

  constructor(scope: Construct, id: string, props: SyncMetricsProps) {
    super(scope, id);
    this.syncsPastDeadline = this.of('SyncsPastDeadline', props.sweeperService);
    this.itemsResent = this.of('StrandedItemsResent', props.sweeperService);
    this.preparesResent = this.of('PreparesResent', props.sweeperService);
  }

  /** One business metric summed over every emitting service (dashboards only: alarms cannot SEARCH). */
  total(name: BusinessMetric, statistic = 'Sum', period = Duration.minutes(5)): cw.MathExpression {
    return new cw.MathExpression({
      expression: `SUM(SEARCH('{${METRICS_NAMESPACE},service} MetricName="${name}"', '${statistic}', ${period.toSeconds()}))`,
      usingMetrics: {},
      label: name,
      period,
    });
  }

  /** One business metric as one service emits it (alarms). */
  of(
    name: BusinessMetric,
    service: string,
    statistic = cw.Stats.SUM,
    period = Duration.minutes(5),
  ): cw.Metric {
    return new cw.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service },
      statistic,
      period,
    });
  }
}
