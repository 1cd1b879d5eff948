import {
  CfnOutput,
  CrossStackReferences,
  Duration,
  ReferenceStrength,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type * as z from 'zod';
import { ApiSettings } from '#lambdas/api/settings.ts';
import { FinalizerSettings } from '#lambdas/finalizer/settings.ts';
import { ProcessorSettings } from '#lambdas/processor/settings.ts';
import { StreamSettings } from '#lambdas/stream/settings.ts';
import type { StageConfig } from './config.ts';
import { SchemaMigration } from './constructs/schema-migration.ts';
import { SyncAlarms } from './constructs/sync-alarms.ts';
import { SyncApi } from './constructs/sync-api.ts';
import { SyncDashboard } from './constructs/sync-dashboard.ts';
import { SyncFunction, type SyncFunctionProps } from './constructs/sync-function.ts';
import { SyncMetrics } from './constructs/sync-metrics.ts';
import { ADMIN_GROUP } from './constructs/user-directory.ts';
import type { StatefulStack } from './stateful-stack.ts';

export interface StatelessStackProps extends StackProps {
  config: StageConfig;
  /** What the stateful stack keeps: database, queues, user directory. */
  data: Pick<
    StatefulStack,
    'cluster' | 'databaseName' | 'runtimeSecret' | 'workQueue' | 'finalizeQueue' | 'users' | 'secretsKey'
  >;
}

/**
 * Everything that can be replaced without losing data: the functions (API, streaming API, processor,
 * finalizer, migrate), the REST API, the queue subscriptions, the sweep schedule, the dashboard and
 * the alarms. The schema migration runs first; the functions change only once it succeeded.
 */
export class StatelessStack extends Stack {
  readonly functions: {
    api: SyncFunction;
    apiStream: SyncFunction;
    processor: SyncFunction;
    finalizer: SyncFunction;
  };
  readonly migration: SchemaMigration;
  readonly api: SyncApi;
  readonly alarms: SyncAlarms;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    // Strong (exports/imports): CloudFormation refuses to delete or replace a queue, the cluster or the
    // user pool while these functions still use it.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const { config, data } = props;
    const { functions: sizes } = config;
    const common = {
      logRetentionDays: config.logs.retentionDays,
      logLevel: config.logs.level,
      tracing: config.tracing,
    };
    const patSecretPrefix = `ardoq-ado-sync/${config.stage}/pat`;

    // The settings of every function, by variable name; each function is given exactly the variables of
    // its own settings schema (lambdas/<function>/settings.ts), and the grants of the clients they name.
    const settingValues: Record<string, string | undefined> = {
      SYNC_DEADLINE_MINUTES: String(config.sync.deadlineMinutes),
      STALE_SECONDS: String(config.sync.staleSeconds),
      ARDOQ_BASE_URL: config.sync.ardoqBaseUrl,
      OVERWRITE_RETRY_MINUTES: String(config.sync.overwriteRetryMinutes),
      CANCEL_WAIT_SECONDS: String(config.sync.cancelWaitSeconds),
      CORS_ORIGINS: config.api.corsOrigins.join(','),
      ADMIN_GROUP: ADMIN_GROUP,
      // Only when set: the functions then allow exactly dev.azure.com and *.visualstudio.com.
      ADO_ALLOWED_ORIGINS:
        config.ado.allowedOrigins.length > 0 ? config.ado.allowedOrigins.join(',') : undefined,
      // Only when set: an Ardoq token then goes to https://*.ardoq.com only.
      ARDOQ_ALLOWED_ORIGINS:
        config.ardoq.allowedOrigins.length > 0 ? config.ardoq.allowedOrigins.join(',') : undefined,
      ARDOQ_HIERARCHY_TYPES: config.ardoq.hierarchyTypes.join(','),
    };
    const fn = (
      id: string,
      props: Omit<SyncFunctionProps, keyof typeof common> & Partial<typeof common>,
      settings: z.ZodObject,
    ) =>
      new SyncFunction(this, id, { ...common, ...props })
        .bindDatabase(data.cluster, data.databaseName, data.runtimeSecret)
        .withSettings(settings, settingValues);

    const api = fn(
      'Api',
      {
        entry: 'lambdas/api/handler.ts',
        serviceName: 'api',
        description: 'REST API (buffered routes)',
        ...sizes.api,
      },
      ApiSettings,
    )
      .bindQueue(data.workQueue.queue, 'send', 'WORK_QUEUE_URL')
      .bindPatSecrets(patSecretPrefix, 'manage', data.secretsKey); // configurations store, rotate and delete PATs
    const apiStream = fn(
      'ApiStream',
      {
        entry: 'lambdas/stream/handler.ts',
        serviceName: 'api-stream',
        description: 'REST API (SSE routes, response streaming)',
        ...sizes.apiStream,
      },
      StreamSettings,
    ).bindQueue(data.workQueue.queue, 'send', 'WORK_QUEUE_URL'); // starting a sync sends its prepare step
    const processor = fn(
      'Processor',
      {
        entry: 'lambdas/processor/handler.ts',
        serviceName: 'processor',
        description: 'Work queue: prepare syncs, create work items in Azure DevOps',
        timeoutSeconds: sizes.processor.timeoutSeconds,
        memoryMb: sizes.processor.memoryMb,
        reservedConcurrency: sizes.processor.reservedConcurrency,
      },
      ProcessorSettings,
    )
      .bindQueue(data.workQueue.queue, 'send', 'WORK_QUEUE_URL')
      .bindQueue(data.finalizeQueue.queue, 'send', 'FINALIZE_QUEUE_URL')
      .bindPatSecrets(patSecretPrefix, 'read', data.secretsKey)
      .subscribe(data.workQueue.queue, sizes.processor.maxConcurrency);
    const finalizer = fn(
      'Finalizer',
      {
        entry: 'lambdas/finalizer/handler.ts',
        serviceName: 'finalizer',
        description: 'Finalize queue and the one-minute sweep',
        timeoutSeconds: sizes.finalizer.timeoutSeconds,
        memoryMb: sizes.finalizer.memoryMb,
        reservedConcurrency: sizes.finalizer.reservedConcurrency,
      },
      FinalizerSettings,
    )
      .bindQueue(data.workQueue.queue, 'send', 'WORK_QUEUE_URL') // the sweep resends lost messages
      .subscribe(data.finalizeQueue.queue, sizes.finalizer.maxConcurrency);
    // A missed sweep is simply done by the next one a minute later: no retries, no stale events.
    finalizer.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(2) });
    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the finalizer sweep every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(finalizer.fn, { retryAttempts: 0 })],
    });
    this.functions = { api, apiStream, processor, finalizer };

    this.migration = new SchemaMigration(this, 'SchemaMigration', {
      cluster: data.cluster,
      databaseName: data.databaseName,
      runtimeSecret: data.runtimeSecret,
      function: { ...common, ...sizes.migrate },
    });
    this.migration.runBefore(api, apiStream, processor, finalizer);

    this.api = new SyncApi(this, 'RestApi', {
      stage: config.stage,
      settings: config.api,
      tracing: config.tracing,
      logRetentionDays: config.logs.retentionDays,
      production: config.production,
      userPool: data.users.userPool,
      bufferedHandler: api.fn,
      streamHandler: apiStream.fn,
      streamTimeoutSeconds: sizes.apiStream.timeoutSeconds,
    });

    const metrics = new SyncMetrics(this, 'Metrics', { sweeperService: finalizer.serviceName });
    const runtimeFunctions = [api, apiStream, processor, finalizer];
    this.alarms = new SyncAlarms(this, 'Alarms', {
      stage: config.stage,
      settings: config.alarms,
      functions: runtimeFunctions,
      sweeper: finalizer,
      processor,
      workQueue: data.workQueue,
      finalizeQueue: data.finalizeQueue,
      api: this.api.api,
      metrics,
    });
    const dashboard = new SyncDashboard(this, 'Dashboard', {
      stage: config.stage,
      metrics,
      functions: [...runtimeFunctions, this.migration.migrate],
      workQueue: data.workQueue,
      finalizeQueue: data.finalizeQueue,
      api: this.api.api,
      alarms: this.alarms.alarms,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the REST API' });
    new CfnOutput(this, 'UserPoolId', { value: data.users.userPool.userPoolId });
    if (data.users.userPoolClientId) {
      new CfnOutput(this, 'UserPoolClientId', { value: data.users.userPoolClientId });
    }
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName });
  }
}
