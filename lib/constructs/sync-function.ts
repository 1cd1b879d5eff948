import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type * as z from 'zod';
import { METRICS_NAMESPACE } from '#lambdas/runtime/observability.ts';

/** The repository root: entries, `package-lock.json` and bundled extras are resolved from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The business metrics' namespace is the functions' own (they emit EMF with it), defined once there.
export { METRICS_NAMESPACE };

// ESM output still meets CommonJS dependencies that call `require` (the AWS SDK's, some of middy's).
const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export interface SyncFunctionProps {
  /** Handler file relative to the project root, e.g. `lambdas/api/handler.ts` (export `handler`). */
  entry: string;
  /** Powertools service name; also names the function in the dashboard. */
  serviceName: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Executions reserved for (and the most allowed to) this function; null: the account's shared pool. */
  reservedConcurrency: number | null;
  logRetentionDays: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  tracing: 'off' | 'xray';
  /** Project folders copied next to the bundle (e.g. `migrations`), read at run time. */
  bundleFolders?: string[];
}

/** Variables the bind methods set together with their grants. */
const BOUND_VARIABLES = new Set([
  'DB_CLUSTER_ARN',
  'DB_SECRET_ARN',
  'DB_NAME',
  'WORK_QUEUE_URL',
  'FINALIZE_QUEUE_URL',
  'PAT_SECRET_PREFIX',
  'PAT_SECRET_KMS_KEY_ARN',
]);

/** What a Data API client calls (DataApiDatabase: statements and transactions). */
export const DATA_API_ACTIONS = [
  'rds-data:ExecuteStatement',
  'rds-data:BatchExecuteStatement',
  'rds-data:BeginTransaction',
  'rds-data:CommitTransaction',
  'rds-data:RollbackTransaction',
] as const;

/** SQS event source defaults (DESIGN.md §2): batches of 10 with partial batch failures. */
export const SQS_BATCH_SIZE = 10;

/**
 * One Lambda function with the project's defaults fixed in one place: Node.js 22 on arm64, an ESM
 * bundle built by the local esbuild (minified, source maps on), its own log group with retention, a
 * role that can write only to that log group. Resources are attached with intent methods that set the
 * environment variable and the IAM grant together, so neither can be forgotten.
 */
export class SyncFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    super(scope, id);
    this.serviceName = props.serviceName;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to this log group only.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.serviceName} function`,
    });
    this.logGroup.grantWrite(role);

    const bundleFolders = props.bundleFolders ?? [];
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(props.timeoutSeconds),
      memorySize: props.memoryMb,
      ...(props.reservedConcurrency === null
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      role,
      logGroup: this.logGroup,
      tracing: props.tracing === 'xray' ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        banner: ESM_REQUIRE_BANNER,
        mainFields: ['module', 'main'],
        // The SDK clients are pinned in package-lock.json and tested at those versions: ship them.
        bundleAwsSDK: true,
        ...(bundleFolders.length > 0
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) =>
                  bundleFolders.map((folder) => `cp -r "${inputDir}/${folder}" "${outputDir}/${folder}"`),
              },
            }
          : {}),
      },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the toolchain the handlers are tested with (middy 6, Powertools 2, target node22) supports it; nodejs24.x is a planned upgrade, not a drift.',
    });
    if (props.tracing === 'xray') {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (added by CDK for active tracing).',
      });
    }
  }

  /**
   * Data API statements on the cluster as the database user of `credentials` (read access to that one
   * secret, nothing else) + DB_CLUSTER_ARN/DB_SECRET_ARN/DB_NAME. The runtime functions pass the
   * runtime role's secret, the migrate function the owner's (`cluster.secret`): unlike
   * `cluster.grantDataApiAccess`, which would also grant the owner's secret to every caller.
   */
  bindDatabase(
    cluster: rds.IDatabaseCluster,
    databaseName: string,
    credentials: secretsmanager.ISecret,
  ): this {
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: [...DATA_API_ACTIONS], resources: [cluster.clusterArn] }),
    );
    this.grantSecretRead(credentials);
    this.fn.addEnvironment('DB_CLUSTER_ARN', cluster.clusterArn);
    this.fn.addEnvironment('DB_SECRET_ARN', credentials.secretArn);
    this.fn.addEnvironment('DB_NAME', databaseName);
    return this;
  }

  /**
   * Reads one secret, and decrypts it with its key through Secrets Manager only. In the function's own
   * policy: `secret.grantRead` would put a secret's key grant in the key's policy, naming this role from
   * the stateful stack (a cycle between the stacks).
   */
  grantSecretRead(secret: secretsmanager.ISecret): this {
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secret.secretArn],
      }),
    );
    if (secret.encryptionKey) this.grantKmsViaSecretsManager(secret.encryptionKey, ['kms:Decrypt']);
    return this;
  }

  /** KMS actions already granted, by key: each is granted once. */
  private readonly kmsGranted = new Map<kms.IKey, Set<string>>();

  private grantKmsViaSecretsManager(key: kms.IKey, wanted: string[]): void {
    const granted = this.kmsGranted.get(key) ?? new Set<string>();
    this.kmsGranted.set(key, granted);
    const actions = wanted.filter((action) => !granted.has(action));
    if (actions.length === 0) return;
    for (const action of actions) granted.add(action);
    const stack = Stack.of(this);
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
        },
      }),
    );
  }

  /** `send`: SendMessage(Batch); `consume`: receive, delete, change visibility. The URL goes to `envName`. */
  bindQueue(queue: sqs.IQueue, access: 'send' | 'consume', envName: string): this {
    if (access === 'send') queue.grantSendMessages(this.fn);
    else queue.grantConsumeMessages(this.fn);
    this.fn.addEnvironment(envName, queue.queueUrl);
    return this;
  }

  /** Lambda polls the queue: batches of 10, partial batch failures, at most `maxConcurrency` at once. */
  subscribe(queue: sqs.IQueue, maxConcurrency: number): this {
    this.fn.addEventSource(
      new SqsEventSource(queue, { batchSize: SQS_BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency }),
    );
    return this;
  }

  /**
   * PAT secrets live under `<prefix>/<configuration id>` and are created at run time by the API.
   * `read` fetches them; `manage` also creates, rewrites and deletes them; `none` passes the prefix only
   * (the runtime parses it at cold start) for a function that never touches a PAT. Scoped to the prefix.
   */
  bindPatSecrets(prefix: string, access: 'read' | 'manage' | 'none', key?: kms.IKey): this {
    this.fn.addEnvironment('PAT_SECRET_PREFIX', prefix);
    if (access === 'none') return this;
    const actions = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
    if (access === 'manage') {
      actions.push(
        'secretsmanager:CreateSecret',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DeleteSecret',
        // CreateSecret with its configuration-id tag
        'secretsmanager:TagResource',
      );
    }
    const stack = Stack.of(this);
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [patSecretsArn(stack, prefix)] }));
    if (key) {
      // The secrets are encrypted with the app's key, used through Secrets Manager only; the function
      // that creates them names the key.
      if (access === 'manage') this.fn.addEnvironment('PAT_SECRET_KMS_KEY_ARN', key.keyArn);
      this.grantKmsViaSecretsManager(
        key,
        access === 'manage' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      );
    }
    const at = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    Validations.of(this.fn.role ?? this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${at(stack.partition, 'Partition')}:secretsmanager:${at(stack.region, 'Region')}:${at(stack.account, 'AccountId')}:secret:${prefix}/*]`,
      reason:
        'PAT secrets are created at run time, one per Azure DevOps configuration, so their names are unknown at deploy time: access is scoped to this stage’s name prefix.',
    });
    return this;
  }

  /**
   * The function's plain settings: exactly the variables of its settings schema that no bind method
   * sets, from `values` (an optional variable without a value is left unset; a required one fails the
   * synth). The function is then given nothing its schema does not name.
   */
  withSettings(schema: z.ZodObject, values: Readonly<Record<string, string | undefined>>): this {
    for (const [name, field] of Object.entries(schema.shape) as Array<[string, z.ZodType]>) {
      if (BOUND_VARIABLES.has(name)) continue;
      const value = values[name];
      if (value === undefined) {
        if (field.safeParse(undefined).success) continue;
        throw new Error(`${this.serviceName}: no value for its setting ${name}`);
      }
      this.fn.addEnvironment(name, value);
    }
    return this;
  }

  /** Plain settings (no resource behind them). */
  setEnvironment(variables: Record<string, string>): this {
    for (const [name, value] of Object.entries(variables)) this.fn.addEnvironment(name, value);
    return this;
  }
}

/** `arn:…:secretsmanager:<region>:<account>:secret:<prefix>/*` (the random suffix AWS appends included). */
export function patSecretsArn(stack: Stack, prefix: string): string {
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${prefix}/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
