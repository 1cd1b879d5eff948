import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from './config.ts';
import { SyncQueue } from './constructs/sync-queue.ts';
import { UserDirectory } from './constructs/user-directory.ts';

/**
 * The database user of the running functions (created by migrations/0009_runtime_role.sql): DML on
 * the tables they use, no DDL, no TRUNCATE, nothing on the audit trigger.
 */
export const RUNTIME_DB_USER = 'ardoq_sync_app';

const VPC_CIDR = '10.0.0.0/16';

export interface StatefulStackProps extends StackProps {
  config: StageConfig;
}

/**
 * Everything that keeps data: the Aurora PostgreSQL Serverless v2 cluster, reached by the Lambdas
 * through the Data API only (so they need no VPC), the queues that hold work in flight, and the user
 * directory (users and their MFA secrets are data too).
 */
export class StatefulStack extends Stack {
  /** Its `secret` is the schema owner's (master user `sync_admin`): for the migrate function only. */
  readonly cluster: rds.DatabaseCluster;
  readonly databaseName: string;
  /**
   * Credentials of the runtime role {@link RUNTIME_DB_USER}, for the api, stream, processor and
   * finalizer functions (Data API with this secret). Its password reaches the database through the
   * migrate function, which alone holds the owner's secret.
   */
  readonly runtimeSecret: secretsmanager.ISecret;
  /**
   * The app's secrets key (customer managed, yearly rotation): the database secrets and the secrets
   * the API creates at run time for each configuration's PAT or Ardoq token.
   */
  readonly secretsKey: kms.Key;
  /** Prepare and item messages, consumed by the processor. */
  readonly workQueue: SyncQueue;
  /** Finalize messages, consumed by the finalizer. */
  readonly finalizeQueue: SyncQueue;
  readonly users: UserDirectory;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { database, stage, functions, auth, logs: logSettings, production } = props.config;

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `Ardoq → Azure DevOps sync (${stage}): database credentials and configuration tokens`,
      alias: `alias/ardoq-ado-sync-${stage}-secrets`,
      enableKeyRotation: true,
      // A production key outlives the stack: secrets scheduled for deletion stay recoverable.
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(production ? 30 : 7),
    });

    // Isolated subnets only: nothing in the VPC talks to the internet, and the functions use the Data API.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      // CDK's default range, written out: the endpoint's security group names it.
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', {
          retention: logSettings.retentionDays as logs.RetentionDays,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.databaseName = database.name;
    this.cluster = new rds.DatabaseCluster(this, 'Database', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      writer: rds.ClusterInstance.serverlessV2('writer'),
      serverlessV2MinCapacity: database.minCapacity,
      serverlessV2MaxCapacity: database.maxCapacity,
      ...(database.minCapacity === 0
        ? { serverlessV2AutoPauseDuration: Duration.minutes(database.autoPauseMinutes) }
        : {}),
      enableDataApi: true,
      credentials: rds.Credentials.fromGeneratedSecret('sync_admin', { encryptionKey: this.secretsKey }),
      defaultDatabaseName: database.name,
      storageEncrypted: true,
      iamAuthentication: true,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      backup: { retention: Duration.days(database.protect ? 14 : 1) },
      deletionProtection: database.protect,
      removalPolicy: database.protect ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      clusterIdentifier: `ardoq-ado-sync-${stage}`,
    });
    if (!database.protect) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'This stage does not set database.protect (a dev/test stage meant to be torn down); protected stages get deletion protection and a snapshot on removal.',
      });
    }
    // The runtime role's password: generated here, set in the database by the migrate function.
    const runtimeSecret = new rds.DatabaseSecret(this, 'RuntimeSecret', {
      username: RUNTIME_DB_USER,
      dbname: database.name,
      masterSecret: this.cluster.secret,
      encryptionKey: this.secretsKey,
    });
    this.runtimeSecret = runtimeSecret.attach(this.cluster);

    // Both database secrets rotate every 30 days (single user: each user changes its own password).
    // The rotation functions run in the isolated subnets and reach Secrets Manager through an
    // interface endpoint (no NAT by design). The Data API reads the secret on every call; the
    // adapter retries an authentication failure of the short window between the password change
    // and the secret's promotion.
    const rotationSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const endpoint = vpc.addInterfaceEndpoint('SecretsManagerEndpoint', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets: rotationSubnets,
      privateDnsEnabled: true,
      // HTTPS from inside the VPC only (the rotation functions), not from anywhere.
      open: false,
    });
    endpoint.connections.allowFrom(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from the VPC');
    this.cluster.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      endpoint,
      vpcSubnets: rotationSubnets,
    });
    new secretsmanager.SecretRotation(this, 'RuntimeSecretRotation', {
      application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
      secret: this.runtimeSecret,
      target: this.cluster,
      vpc,
      vpcSubnets: rotationSubnets,
      endpoint,
      automaticallyAfter: Duration.days(30),
    });

    this.workQueue = new SyncQueue(this, 'WorkQueue', {
      consumerTimeoutSeconds: functions.processor.timeoutSeconds,
    });
    this.finalizeQueue = new SyncQueue(this, 'FinalizeQueue', {
      consumerTimeoutSeconds: functions.finalizer.timeoutSeconds,
    });
    this.users = new UserDirectory(this, 'Users', { auth, protect: database.protect });
  }
}
