import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { ROUTES } from '#lambdas/api/route-table.ts';
import { ApiSettings } from '#lambdas/api/settings.ts';
import { FinalizerSettings } from '#lambdas/finalizer/settings.ts';
import { MigrateSettings } from '#lambdas/migrate/settings.ts';
import { ProcessorSettings } from '#lambdas/processor/settings.ts';
import { StreamSettings } from '#lambdas/stream/settings.ts';
import { API_ROUTES } from '#lib/api-routes.ts';
import { loadStageConfig } from '#lib/config.ts';
import { PROJECT_ROOT } from '#lib/constructs/sync-function.ts';
import {
  annotationsOf,
  apiMethods,
  iamStatements,
  logicalIdOf,
  nagFindings,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
  wildcardProblems,
} from './support/synth.ts';

const SSE_ROUTES = [
  'POST /api/azure-devops/projects/{project}/workitems',
  'GET /api/sync-history/{id}/events',
];
const PUBLIC_ROUTES = ['GET /api/health'];
const SERVICES = ['api', 'api-stream', 'processor', 'finalizer', 'migrate'];

const run = promisify(execFile);

let synth: SynthesizedApp;
let template: Template;

/** Logical id of the Lambda function of one SyncFunction, by its Powertools service name. */
function functionId(service: string): string {
  return logicalIdOf(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service }) },
  });
}

/** Properties of that Lambda function. */
function functionProperties(service: string): Record<string, unknown> {
  const properties = resourcesOf(template)[functionId(service)]?.Properties;
  if (!properties) throw new Error(`no function for ${service}`);
  return properties;
}

/** The environment of that function (tokens stay CloudFormation objects). */
function environmentOf(service: string): Record<string, unknown> {
  return (functionProperties(service).Environment as { Variables: Record<string, unknown> }).Variables;
}

/** IAM statements of the policies attached to that function's role. */
function roleStatements(service: string) {
  const role = (functionProperties(service).Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return iamStatements(template).filter((s) =>
    JSON.stringify(resourcesOf(template)[s.policy]?.Properties?.Roles ?? []).includes(`"${role}"`),
  );
}

/** Each function's own settings schema (lambdas/<function>/settings.ts). */
const SETTINGS: Record<string, z.ZodObject> = {
  api: ApiSettings,
  'api-stream': StreamSettings,
  processor: ProcessorSettings,
  finalizer: FinalizerSettings,
  migrate: MigrateSettings,
};
/** Set by SyncFunction for the Lambda runtime and Powertools, not read by our settings. */
const RUNTIME_VARIABLES = new Set([
  'NODE_OPTIONS',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
]);
/** A plausible value for a variable CloudFormation resolves at deploy time. */
const resolvedStandIn = (name: string) =>
  name.endsWith('_URL') ? 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' : `arn:stand-in:${name}`;

beforeAll(() => {
  synth = synthApp(); // the dev stage exactly as `npx cdk synth` builds it from cdk.json
  template = synth.statelessTemplate;
});

describe('REST API routes', () => {
  it('declares exactly the routes of lambdas/api, each with the same authentication as the app', () => {
    const appRoutes = ROUTES.map(
      (route) =>
        `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')} auth=${route.permission !== 'public'}`,
    );
    const declared = API_ROUTES.map((route) => `${route.method} ${route.path} auth=${route.auth}`);
    expect(declared.sort()).toEqual(appRoutes.sort());

    const deployed = apiMethods(template)
      .filter((m) => m.httpMethod !== 'OPTIONS')
      .map((m) => `${m.httpMethod} ${m.path}`);
    expect(deployed.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('integrates exactly the SSE routes with the streaming function, through response streaming', () => {
    const apiStream = functionId('api-stream');
    const api = functionId('api');
    const methods = apiMethods(template).filter((m) => m.httpMethod !== 'OPTIONS');
    const streamed = methods.filter((m) => m.integration.ResponseTransferMode === 'STREAM');
    expect(streamed.map((m) => `${m.httpMethod} ${m.path}`).sort()).toEqual([...SSE_ROUTES].sort());
    for (const method of streamed) {
      const uri = JSON.stringify(method.integration.Uri);
      expect(method.integration.Type).toBe('AWS_PROXY');
      expect(uri).toContain('/response-streaming-invocations');
      expect(uri).toContain(apiStream);
      expect(method.integration.TimeoutInMillis).toBe(synth.config.functions.apiStream.timeoutSeconds * 1000);
    }
    for (const method of methods.filter((m) => m.integration.ResponseTransferMode !== 'STREAM')) {
      const uri = JSON.stringify(method.integration.Uri);
      expect(method.integration.Type).toBe('AWS_PROXY');
      expect(uri).toContain('2015-03-31/functions/');
      expect(uri).toContain(api);
    }
  });

  it('guards every method with the Cognito authorizer except GET /api/health and the CORS preflights', () => {
    const authorizer = logicalIdOf(template, 'AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('UserPool') })],
    });
    const methods = apiMethods(template);
    expect(methods.filter((m) => m.httpMethod === 'OPTIONS').length).toBeGreaterThan(0);
    for (const method of methods) {
      const key = `${method.httpMethod} ${method.path}`;
      if (method.httpMethod === 'OPTIONS' || PUBLIC_ROUTES.includes(key)) {
        expect({ key, type: method.authorizationType }).toEqual({ key, type: 'NONE' });
      } else {
        expect({ key, type: method.authorizationType, id: method.authorizerId }).toEqual({
          key,
          type: 'COGNITO_USER_POOLS',
          id: { Ref: authorizer },
        });
      }
    }
  });

  it('answers CORS preflights itself for the configured origins, with the headers the frontend sends', () => {
    const routePaths = new Set(API_ROUTES.map((r) => r.path));
    const preflights = apiMethods(template).filter((m) => m.httpMethod === 'OPTIONS');
    for (const path of routePaths) expect(preflights.map((m) => m.path)).toContain(path);
    for (const preflight of preflights) {
      expect(preflight.integration.Type).toBe('MOCK');
      const text = JSON.stringify(preflight.integration.IntegrationResponses);
      expect(text).toContain("'content-type,authorization,last-event-id'");
      for (const origin of synth.config.api.corsOrigins) expect(text).toContain(origin);
    }
    for (const fn of ['api', 'api-stream']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: fn,
            CORS_ORIGINS: synth.config.api.corsOrigins.join(','),
          }),
        },
      });
    }
  });

  it('throttles the stage, logs errors without bodies, and writes JSON access logs to a log group with retention', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
    });
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0] as {
      Properties: {
        AccessLogSetting: { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
      };
    };
    const format = JSON.parse(stage.Properties.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    const [logGroupId] = stage.Properties.AccessLogSetting.DestinationArn['Fn::GetAtt'];
    expect(resourcesOf(template)[logGroupId]?.Properties).toMatchObject({ RetentionInDays: 30 });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  it('answers API Gateway’s own errors in the app’s envelope, and an unknown route with 404', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
      ResponseTemplates: { 'application/json': '{"success":false,"error":"No such route"}' },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      ResponseTemplates: { 'application/json': '{"success":false,"error":"Authentication required"}' },
    });
  });

  it('never echoes the caller’s Origin on its own errors: with two configured origins, no CORS header', () => {
    // dev configures http://localhost:5173 and http://localhost:3000 (cdk.json).
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'));
    expect(responses.length).toBeGreaterThanOrEqual(4);
    for (const response of responses) {
      expect(JSON.stringify(response.Properties.ResponseParameters ?? {})).not.toContain(
        'method.request.header',
      );
      expect(response.Properties.ResponseParameters ?? {}).not.toHaveProperty(
        'gatewayresponse.header.Access-Control-Allow-Origin',
      );
    }
  });

  it('creates API Gateway’s execution log group itself, with the stage’s retention, before the stage', () => {
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([, group]) =>
      JSON.stringify(group.Properties.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
    );
    expect(groups).toHaveLength(1);
    const [id, group] = groups[0] as [string, { Properties: { RetentionInDays: number } }];
    expect(group.Properties.RetentionInDays).toBe(30);
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0] as {
      DependsOn?: string[];
    };
    expect(stage.DependsOn).toContain(id);
  });

  it('outputs ApiUrl, UserPoolId and UserPoolClientId for the frontend', () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'UserPoolId', 'UserPoolClientId', 'DashboardName']),
    );
  });
});

describe('functions', () => {
  it('run Node.js 22 on arm64 with source maps, their timeout and memory, and their own log group with retention', () => {
    const resources = resourcesOf(template);
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const ours = functions.filter(([, fn]) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    // The only other function is CDK's Trigger provider (its runtime is CDK's choice).
    expect(functions.map(([id]) => id).filter((id) => !ours.some(([own]) => own === id))).toEqual([
      expect.stringMatching(/^AWSCDKTriggerCustomResourceProvider/),
    ]);
    expect(ours.map(([, fn]) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort()).toEqual(
      [...SERVICES].sort(),
    );
    const sizes = {
      api: synth.config.functions.api,
      'api-stream': synth.config.functions.apiStream,
      processor: synth.config.functions.processor,
      finalizer: synth.config.functions.finalizer,
      migrate: synth.config.functions.migrate,
    } as Record<string, { timeoutSeconds: number; memoryMb: number }>;
    for (const [, fn] of ours) {
      const p = fn.Properties;
      const service = p.Environment.Variables.POWERTOOLS_SERVICE_NAME as string;
      expect({ service, runtime: p.Runtime, arch: p.Architectures }).toEqual({
        service,
        runtime: 'nodejs22.x',
        arch: ['arm64'],
      });
      expect(p.Timeout).toBe(sizes[service]?.timeoutSeconds);
      expect(p.MemorySize).toBe(sizes[service]?.memoryMb);
      expect(p.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_METRICS_NAMESPACE: 'ArdoqAdoSync',
      });
      expect(p.TracingConfig).toBeUndefined(); // tracing: off
      const logGroup = resources[p.LoggingConfig.LogGroup.Ref as string];
      expect({ service, logs: logGroup?.Properties?.RetentionInDays }).toEqual({ service, logs: 30 });
    }
  });

  it('leave no log group without retention, the Trigger provider’s included', () => {
    for (const t of [synth.statefulTemplate, template]) {
      for (const group of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
        expect(group.Properties.RetentionInDays).toBe(30);
      }
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: {
        'Fn::Join': [
          '',
          ['/aws/lambda/', { Ref: Match.stringLikeRegexp('^AWSCDKTriggerCustomResourceProvider') }],
        ],
      },
    });
  });

  it('reserve concurrency per function, so open SSE streams can never starve the processor', () => {
    const { functions } = synth.config;
    const reserved = (service: string) => functionProperties(service).ReservedConcurrentExecutions;
    expect({
      api: reserved('api'),
      'api-stream': reserved('api-stream'),
      processor: reserved('processor'),
      finalizer: reserved('finalizer'),
      migrate: reserved('migrate'),
    }).toEqual({ api: 10, 'api-stream': 20, processor: 4, finalizer: 3, migrate: 1 });
    // The processor's pollers always find an execution; the sweep always finds one beside them.
    expect(reserved('processor')).toBeGreaterThanOrEqual(functions.processor.maxConcurrency);
    expect(reserved('finalizer')).toBeGreaterThan(functions.finalizer.maxConcurrency);
  });

  it('follow a stage’s reserved concurrency, default it from maxConcurrency, and refuse a processor starved by it', () => {
    const config = (functions: Record<string, unknown>) =>
      loadStageConfig({ stage: 'xy', stages: { xy: { functions } } });
    expect(config({ processor: { maxConcurrency: 8 } }).functions.processor.reservedConcurrency).toBe(8);
    expect(config({ apiStream: { reservedConcurrency: 50 } }).functions.apiStream.reservedConcurrency).toBe(
      50,
    );
    expect(
      config({ apiStream: { reservedConcurrency: null } }).functions.apiStream.reservedConcurrency,
    ).toBeNull();
    expect(() => config({ processor: { maxConcurrency: 8, reservedConcurrency: 4 } })).toThrow(
      /processor.reservedConcurrency must be at least its maxConcurrency/,
    );
    expect(() => config({ finalizer: { maxConcurrency: 2, reservedConcurrency: 2 } })).toThrow(
      /finalizer.reservedConcurrency must exceed its maxConcurrency/,
    );
    expect(() => config({ api: { reservedConcurrency: 0 } })).toThrow();
  });

  it('give each function exactly the variables of its own settings schema, with the stage’s values', () => {
    const { sync, functions } = synth.config;
    for (const [service, schema] of Object.entries(SETTINGS)) {
      const variables = environmentOf(service);
      const own = Object.keys(variables).filter((name) => !RUNTIME_VARIABLES.has(name));
      // Every variable it gets is one its schema names; every one its schema needs, it gets.
      const named = Object.keys(schema.shape);
      expect(
        own.filter((name) => !named.includes(name)),
        service,
      ).toEqual([]);
      const required = Object.entries(schema.shape as Record<string, z.ZodType>)
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([name]) => name);
      expect(
        required.filter((name) => !own.includes(name)),
        service,
      ).toEqual([]);
      // The stage's values, where the schema names them.
      const expected: Record<string, string> = {
        SYNC_DEADLINE_MINUTES: String(sync.deadlineMinutes),
        STALE_SECONDS: String(sync.staleSeconds),
        ARDOQ_BASE_URL: sync.ardoqBaseUrl,
        OVERWRITE_RETRY_MINUTES: String(sync.overwriteRetryMinutes),
        CANCEL_WAIT_SECONDS: String(sync.cancelWaitSeconds),
        PAT_SECRET_PREFIX: `ardoq-ado-sync/${synth.config.stage}/pat`,
        DB_NAME: synth.config.database.name,
        ADMIN_GROUP: 'admins',
      };
      for (const [name, value] of Object.entries(expected)) {
        if (named.includes(name)) expect(variables[name], `${service}: ${name}`).toBe(value);
      }
      // The settings parse at cold start from exactly these variables (tokens stand in for ARNs).
      const resolved = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : resolvedStandIn(k)]),
      );
      expect(schema.safeParse(resolved).error?.issues ?? [], service).toEqual([]);
    }
    // What each function is given, in short (issue 15): no function gets another's.
    expect(Object.keys(environmentOf('api-stream'))).not.toContain('PAT_SECRET_PREFIX');
    expect(Object.keys(environmentOf('finalizer'))).not.toContain('PAT_SECRET_PREFIX');
    expect(Object.keys(environmentOf('finalizer'))).not.toContain('FINALIZE_QUEUE_URL');
    expect(Object.keys(environmentOf('migrate'))).not.toContain('WORK_QUEUE_URL');
    expect(sync.staleSeconds).toBeGreaterThan(functions.processor.timeoutSeconds);
  });

  it('grant each role exactly what its function’s deps use: the runtime database user to all but migrate', () => {
    const cluster = 'cluster';
    const runtime = 'RuntimeSecretAttachment';
    const owner = 'DatabaseSecretAttachment';
    const work = 'WorkQueue';
    const finalize = 'FinalizeQueue';
    const pat = 'pat/*';
    const key = 'SecretsKey';
    const DECRYPT = 'kms:Decrypt';
    const DATA_API = [
      'rds-data:BatchExecuteStatement',
      'rds-data:BeginTransaction',
      'rds-data:CommitTransaction',
      'rds-data:ExecuteStatement',
      'rds-data:RollbackTransaction',
    ].join(',');
    const READ_SECRET = 'secretsmanager:DescribeSecret,secretsmanager:GetSecretValue';
    const SEND = 'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage';
    const CONSUME =
      'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage';
    const LOGS = 'logs:CreateLogStream,logs:PutLogEvents';
    const grants = (service: string) =>
      roleStatements(service)
        .map((s) => {
          const resource = JSON.stringify(s.Resource);
          const on = [cluster, runtime, owner, work, finalize, pat, key, 'Logs'].find((name) =>
            name === cluster ? resource.includes(':cluster:') : resource.includes(name),
          );
          return `${[s.Action].flat().sort().join(',')} on ${on ?? resource}`;
        })
        .sort();
    const expected = (...lines: string[]) => [`${LOGS} on Logs`, ...lines].sort();
    expect(grants('api')).toEqual(
      expected(
        `${DATA_API} on ${cluster}`,
        `${READ_SECRET} on ${runtime}`,
        `${DECRYPT} on ${key}`,
        `${SEND} on ${work}`,
        `secretsmanager:CreateSecret,secretsmanager:DeleteSecret,secretsmanager:DescribeSecret,secretsmanager:GetSecretValue,secretsmanager:PutSecretValue,secretsmanager:TagResource on ${pat}`,
        // new credential secrets are encrypted with the app's key
        `kms:GenerateDataKey on ${key}`,
      ),
    );
    expect(grants('api-stream')).toEqual(
      expected(
        `${DATA_API} on ${cluster}`,
        `${READ_SECRET} on ${runtime}`,
        `${DECRYPT} on ${key}`,
        `${SEND} on ${work}`,
      ),
    );
    expect(grants('processor')).toEqual(
      expected(
        `${DATA_API} on ${cluster}`,
        `${READ_SECRET} on ${runtime}`,
        `${DECRYPT} on ${key}`,
        `${SEND} on ${work}`,
        `${CONSUME} on ${work}`,
        `${SEND} on ${finalize}`,
        `${READ_SECRET} on ${pat}`,
      ),
    );
    expect(grants('finalizer')).toEqual(
      expected(
        `${DATA_API} on ${cluster}`,
        `${READ_SECRET} on ${runtime}`,
        `${DECRYPT} on ${key}`,
        `${SEND} on ${work}`,
        `${CONSUME} on ${finalize}`,
      ),
    );
    expect(grants('migrate')).toEqual(
      expected(
        `${DATA_API} on ${cluster}`,
        `${READ_SECRET} on ${owner}`,
        `${READ_SECRET} on ${runtime}`,
        `${DECRYPT} on ${key}`,
      ),
    );
    // The key is used through Secrets Manager only.
    for (const service of ['api', 'api-stream', 'processor', 'finalizer', 'migrate']) {
      for (const statement of roleStatements(service).filter((s) =>
        JSON.stringify(s.Resource).includes(key),
      )) {
        expect(JSON.stringify(statement.Condition), service).toMatch(/kms:ViaService.*secretsmanager\./);
      }
    }
    // Only the function that creates credential secrets is told the key.
    expect(JSON.stringify(environmentOf('api').PAT_SECRET_KMS_KEY_ARN)).toContain(key);
    expect(environmentOf('processor').PAT_SECRET_KMS_KEY_ARN).toBeUndefined();
    // The variable names the secret the role may read.
    for (const service of ['api', 'api-stream', 'processor', 'finalizer']) {
      expect(JSON.stringify(environmentOf(service).DB_SECRET_ARN), service).toContain(runtime);
    }
    expect(JSON.stringify(environmentOf('migrate').DB_SECRET_ARN)).toContain(owner);
    expect(JSON.stringify(environmentOf('migrate').RUNTIME_DB_SECRET_ARN)).toContain(runtime);
  });

  describe('bundles', () => {
    const bundleOf = (service: string) => {
      const key = (functionProperties(service).Code as { S3Key: string }).S3Key;
      return join(synth.app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
    };
    it('are minified ESM with a source map and a require shim for CommonJS dependencies', () => {
      for (const service of SERVICES) {
        const code = readFileSync(join(bundleOf(service), 'index.mjs'), 'utf8');
        expect(code.startsWith('import { createRequire as __createRequire }')).toBe(true);
        expect(existsSync(join(bundleOf(service), 'index.mjs.map'))).toBe(true);
        expect(code).not.toMatch(/^\s*\/\/ /m); // minified: no comment survives
      }
    });

    it('ship the migrations next to the migrate function, byte for byte', () => {
      const shipped = join(bundleOf('migrate'), 'migrations');
      const files = readdirSync(join(PROJECT_ROOT, 'migrations')).filter((f) => f.endsWith('.sql'));
      expect(files.length).toBeGreaterThan(0);
      expect(readdirSync(shipped).sort()).toEqual(files.sort());
      for (const file of files) {
        expect(readFileSync(join(shipped, file), 'utf8')).toBe(
          readFileSync(join(PROJECT_ROOT, 'migrations', file), 'utf8'),
        );
      }
    });

    it('load as ES modules in a plain Node process, with the environment the stack gives them', async () => {
      // A fresh `node` (not vitest's module loader): what the Lambda runtime does at cold start.
      const script = `
        globalThis.awslambda = { streamifyResponse: (fn) => fn, HttpResponseStream: { from: (s) => s } };
        const types = {};
        for (const [service, file] of JSON.parse(process.argv[1])) {
          types[service] = typeof (await import(file)).handler;
        }
        console.log(JSON.stringify(types));`;
      const bundles = SERVICES.map((service) => [
        service,
        pathToFileURL(join(bundleOf(service), 'index.mjs')).href,
      ]);
      const { stdout } = await run(
        process.execPath,
        ['--input-type=module', '-e', script, JSON.stringify(bundles)],
        {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:test',
            DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test',
            DB_NAME: 'ardoq_sync',
            WORK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work',
            FINALIZE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/finalize',
            PAT_SECRET_PREFIX: 'ardoq-ado-sync/test/pat',
            RUNTIME_DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:runtime',
          },
          timeout: 60_000,
        },
      );
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual(
        Object.fromEntries(SERVICES.map((service) => [service, 'function'])),
      );
    });
  });
});

describe('queues and event sources', () => {
  it('feed the processor and the finalizer in batches of 10, with partial batch failures and bounded concurrency', () => {
    const { processor, finalizer } = synth.config.functions;
    expect(processor.maxConcurrency).toBe(4);
    expect(finalizer.maxConcurrency).toBe(2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    for (const [service, maxConcurrency, queue] of [
      ['processor', processor.maxConcurrency, 'WorkQueue'],
      ['finalizer', finalizer.maxConcurrency, 'FinalizeQueue'],
    ] as const) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionId(service) },
        EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp(`${queue}[0-9A-F]+Arn`) },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: maxConcurrency },
      });
    }
  });

  it('keep a message invisible for at least 6× the timeout of the function that consumes it', () => {
    const queueVisibility = (queue: SynthesizedApp['stateful']['workQueue']) => {
      const id = synth.stateful.getLogicalId(queue.queue.node.defaultChild as CfnElement);
      return resourcesOf(synth.statefulTemplate)[id]?.Properties?.VisibilityTimeout as number;
    };
    const timeout = (service: string) => functionProperties(service).Timeout as number;
    expect(queueVisibility(synth.stateful.workQueue)).toBeGreaterThanOrEqual(6 * timeout('processor'));
    expect(queueVisibility(synth.stateful.finalizeQueue)).toBeGreaterThanOrEqual(6 * timeout('finalizer'));
  });

  it('run the finalizer sweep every minute, without retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('finalizer'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
  });
});

describe('schema migration at deploy time', () => {
  it('runs the migrate function by a Trigger, after the database and before every other function', () => {
    const resources = resourcesOf(template);
    const triggerId = logicalIdOf(template, 'Custom::Trigger', {});
    const trigger = resources[triggerId];
    const migrate = functionId('migrate');
    expect(trigger?.Properties).toMatchObject({
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
    });
    expect(JSON.stringify(trigger?.Properties?.HandlerArn)).toContain(
      `${migrate.replace(/[0-9A-F]{8}$/, '')}CurrentVersion`,
    );
    expect(trigger?.DependsOn).toEqual(expect.arrayContaining([migrate]));

    // After the cluster: a cross-stack dependency, so the whole database stack deploys first.
    const afterScopes = synth.stateless.migration.trigger.node.dependencies;
    expect(afterScopes).toContain(synth.stateful.cluster);
    expect(synth.stateless.dependencies).toContain(synth.stateful);

    // Before: every other function, its event source mapping and its role depend on the trigger.
    for (const service of ['api', 'api-stream', 'processor', 'finalizer']) {
      expect({ service, dependsOn: resources[functionId(service)]?.DependsOn }).toEqual({
        service,
        dependsOn: expect.arrayContaining([triggerId]),
      });
    }
    for (const [id, mapping] of Object.entries(template.findResources('AWS::Lambda::EventSourceMapping'))) {
      expect({ id, dependsOn: mapping.DependsOn }).toEqual({
        id,
        dependsOn: expect.arrayContaining([triggerId]),
      });
    }
  });
});

describe('least privilege', () => {
  it('grants `*` only to actions without resource-level permissions, and wildcards only where names are unknowable', () => {
    expect(wildcardProblems(synth.statefulTemplate, 'dev')).toEqual([]);
    expect(wildcardProblems(template, 'dev')).toEqual([]);
    // The only wildcard resources: the PAT prefix and the Trigger provider's qualifier.
    const patterns = iamStatements(template)
      .map((s) => JSON.stringify(s.Resource))
      .filter((text) => text.includes('*'));
    expect(patterns.length).toBeGreaterThan(0);
  });

  it('lets the API manage PAT secrets, the processor read them, and nobody else touch them', () => {
    const secretActions = (service: string) =>
      roleStatements(service)
        .filter((s) => JSON.stringify(s.Resource).includes(':secret:ardoq-ado-sync/'))
        .flatMap((s) => [s.Action].flat())
        .sort();
    expect(secretActions('api')).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:DeleteSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      // each secret is created with its configuration-id tag
      'secretsmanager:TagResource',
    ]);
    expect(secretActions('processor')).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(secretActions('api-stream')).toEqual([]);
    expect(secretActions('finalizer')).toEqual([]);
    expect(secretActions('migrate')).toEqual([]);
  });

  it('uses AWS managed policies only on the roles CDK creates for the Trigger provider and API Gateway logging', () => {
    const managed = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([, role]) => role.Properties.ManagedPolicyArns)
      .map(
        ([id, role]) =>
          `${id.replace(/[0-9A-F]{8}$/, '')} ${JSON.stringify(role.Properties.ManagedPolicyArns)}`,
      );
    expect(managed).toEqual([
      expect.stringMatching(
        /^AWSCDKTriggerCustomResourceProviderCustomResourceProviderRole .*AWSLambdaBasicExecutionRole/,
      ),
      expect.stringMatching(/^RestApiCloudWatchRole .*AmazonAPIGatewayPushToCloudWatchLogs/),
    ]);
    expect(
      Object.keys(
        synth.statefulTemplate.findResources('AWS::IAM::Role', {
          Properties: { ManagedPolicyArns: Match.anyValue() },
        }),
      ),
    ).toEqual([]);
  });
});

describe('operations', () => {
  it('alarms on each DLQ, each function’s errors, the oldest work message, stuck syncs, a stopped sweep, throttling and API 5xx', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties.AlarmName as string)
      .sort();
    expect(names).toEqual(
      [
        'work-dlq-not-empty',
        'finalize-dlq-not-empty',
        'api-errors',
        'api-stream-errors',
        'processor-errors',
        'finalizer-errors',
        'work-oldest-message-age',
        'stuck-syncs',
        'sweep-not-running',
        'ado-throttling',
        'api-5xx',
      ]
        .map((suffix) => `ardoq-ado-sync-dev-${suffix}`)
        .sort(),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'ardoq-ado-sync-dev-work-oldest-message-age',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 15 * 60,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'ardoq-ado-sync-dev-work-dlq-not-empty',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // No topic configured for dev: the alarms show on the dashboard only.
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
  });

  it('detects stuck syncs from the sweep’s metric, not from log text: a sync failed at its deadline', () => {
    // The sweep emits SyncsPastDeadline (EMF, service finalizer) on every run: no log is parsed.
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'ardoq-ado-sync-dev-stuck-syncs',
      Namespace: 'ArdoqAdoSync',
      MetricName: 'SyncsPastDeadline',
      Dimensions: [{ Name: 'service', Value: 'finalizer' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('has a dashboard with syncs, items, duration, queues, DLQs and per-function errors and duration', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const metric of [
      'SyncsStarted',
      'SyncsFinished',
      'ItemsCreated',
      'ItemsFailed',
      'ItemsThrottled',
      'SyncDuration',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'Errors',
      'Duration',
      'SyncsPastDeadline',
    ]) {
      expect(body).toContain(metric);
    }
    for (const service of SERVICES) expect(body).toContain(`\\"label\\":\\"${service}\\"`);
  });
});

describe('checks', () => {
  it('cdk-nag AwsSolutions: no unacknowledged finding, errors and warnings alike', () => {
    expect(nagFindings(synth.app)).toEqual([]);
  });

  it('CDK reports no warning or error on either stack', () => {
    expect(annotationsOf(synth)).toEqual([]);
  });
});
