import { type CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { MigrateSettings } from '#lambdas/migrate/settings.ts';
import { SyncFunction, type SyncFunctionProps } from './sync-function.ts';

/** Construct id of the provider `triggers.Trigger` adds to the stack once (aws-cdk-lib internals). */
const TRIGGER_PROVIDER_ID = 'AWSCDK.TriggerCustomResourceProviderCustomResourceProvider';

export interface SchemaMigrationProps {
  /** The migrate function connects with the cluster's own secret: the schema owner (master user). */
  cluster: rds.DatabaseCluster;
  databaseName: string;
  /**
   * The runtime role's secret (`StatefulStack.runtimeSecret`): the migrate function reads it to set
   * that role's password.
   */
  runtimeSecret: secretsmanager.ISecret;
  function: Pick<
    SyncFunctionProps,
    'timeoutSeconds' | 'memoryMb' | 'reservedConcurrency' | 'logRetentionDays' | 'logLevel' | 'tracing'
  >;
}

/**
 * Applies `migrations/*.sql` through the Data API during the deployment: a Trigger invokes the
 * migrate function (the SQL files ship inside its bundle) after the database exists and before the
 * functions that use the schema change, so a failed migration fails the deployment (and rolls it
 * back) while the old functions keep running. It re-runs whenever the bundle changes (a new file).
 */
export class SchemaMigration extends Construct {
  readonly migrate: SyncFunction;
  readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: SchemaMigrationProps) {
    super(scope, id);
    const { runtimeSecret } = props;
    if (!props.cluster.secret)
      throw new Error('SchemaMigration needs a cluster with generated owner credentials');
    this.migrate = new SyncFunction(this, 'Migrate', {
      entry: 'lambdas/migrate/handler.ts',
      serviceName: 'migrate',
      description: 'Applies pending schema migrations (deploy-time trigger)',
      bundleFolders: ['migrations'],
      ...props.function,
    }).bindDatabase(props.cluster, props.databaseName, props.cluster.secret);
    // Read only: the password goes into the database; the secret itself is never changed here.
    this.migrate.grantSecretRead(runtimeSecret);
    this.migrate.withSettings(MigrateSettings, { RUNTIME_DB_SECRET_ARN: runtimeSecret.secretArn });

    this.trigger = new triggers.Trigger(this, 'Trigger', {
      handler: this.migrate.fn,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: Duration.seconds(props.function.timeoutSeconds),
      executeOnHandlerChange: true,
      // The cluster and its writer instance must accept Data API calls; the role must hold its grants.
      executeAfter: [props.cluster, this.migrate],
    });

    // CDK's Trigger provider function logs to /aws/lambda/<name>, created on first use without
    // retention: create that group first, with the stage's retention.
    const provider = Stack.of(this).node.findChild(TRIGGER_PROVIDER_ID);
    const providerHandler = provider.node.findChild('Handler') as CfnResource;
    const providerLogs = new logs.LogGroup(this, 'TriggerProviderLogs', {
      logGroupName: `/aws/lambda/${providerHandler.ref}`,
      retention: props.function.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.trigger.executeAfter(providerLogs);
  }

  /** These constructs (and everything under them) are created or updated only after the migration. */
  runBefore(...scopes: Construct[]): void {
    this.trigger.executeBefore(...scopes);
  }
}
