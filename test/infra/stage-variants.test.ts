import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  annotationsOf,
  apiMethods,
  nagFindings,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
  wildcardProblems,
} from './support/synth.ts';

const OIDC_SECRET = 'ardoq-ado-sync/prod/oidc-client-secret';
const WEB_ACL = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/sync/0f1e2d3c';
const SHARED_POOL = 'eu-west-1_AbC123xyz';
const SHARED_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';

/** A production stage: every option that changes the template turned on. */
const prodContext = {
  stage: 'prod',
  stages: {
    prod: {
      database: { minCapacity: 0.5, maxCapacity: 16, protect: true },
      functions: { processor: { maxConcurrency: 8 } },
      tracing: 'xray',
      logs: { retentionDays: 90, level: 'WARN' },
      api: {
        corsOrigins: ['https://syncflow.example.com'],
        throttling: { rateLimit: 20, burstLimit: 40 },
        webAclArn: WEB_ACL,
      },
      auth: {
        mode: 'cognito',
        mfa: 'required',
        oidc: {
          name: 'EntraID',
          issuerUrl: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
          clientId: 'a-client-id',
          clientSecretName: OIDC_SECRET,
          domainPrefix: 'ardoq-ado-sync-prod',
          callbackUrls: ['https://syncflow.example.com/auth/callback'],
        },
      },
      alarms: { email: 'ops@example.com' },
    },
  },
};

/** A stage in an account that already has a user pool, an ops topic and API Gateway logging. */
const sharedContext = {
  stage: 'shared',
  stages: {
    shared: {
      api: { createCloudWatchRole: false },
      auth: { mode: 'existing-user-pool', userPoolId: SHARED_POOL, userPoolClientId: 'shared-client' },
      alarms: { topicArn: SHARED_TOPIC },
    },
  },
};

let prod: SynthesizedApp;
let shared: SynthesizedApp;

beforeAll(() => {
  // The bundles are the dev stage's (stateless-stack.test.ts): only the templates differ here.
  prod = synthApp(prodContext, { bundling: false });
  shared = synthApp(sharedContext, { bundling: false });
});

describe('a production stage (protected database, email alarms, X-Ray, OIDC sign-in, WAF)', () => {
  it('passes cdk-nag and CDK’s own checks', () => {
    expect(nagFindings(prod.app)).toEqual([]);
    expect(annotationsOf(prod)).toEqual([]);
  });

  it('sends every alarm, and its recovery, to an encrypted topic with the email subscribed', () => {
    const t = prod.statelessTemplate;
    const topics = Object.keys(t.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBe(11);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topics[0] }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topics[0] }]);
    }
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('takes the processor concurrency, throttling, retention and log level from the stage', () => {
    const t = prod.statelessTemplate;
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 8 },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 }),
      ]),
    });
    for (const template of [prod.statefulTemplate, t]) {
      for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
        expect(group.Properties.RetentionInDays).toBe(90);
      }
    }
    const levels = Object.values(t.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment?.Variables)
      .filter((vars) => vars?.POWERTOOLS_SERVICE_NAME)
      .map((vars) => `${vars.POWERTOOLS_SERVICE_NAME}=${vars.POWERTOOLS_LOG_LEVEL}`)
      .sort();
    expect(levels).toEqual([
      'api-stream=WARN',
      'api=WARN',
      // The stuck-sync alarm reads a metric now: the finalizer logs at the stage's level too.
      'finalizer=WARN',
      'migrate=WARN',
      'processor=WARN',
    ]);
  });

  it('traces functions and the stage with X-Ray, the only `*` resource being X-Ray’s', () => {
    const t = prod.statelessTemplate;
    const ours = Object.values(t.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    for (const fn of ours) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    t.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    expect(wildcardProblems(t, 'prod')).toEqual([]);
    expect(wildcardProblems(prod.statefulTemplate, 'prod')).toEqual([]);
  });

  it('federates the OIDC issuer into the user pool, its client secret resolved by CloudFormation, MFA required', () => {
    const t = prod.statefulTemplate;
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      UserPoolTier: 'PLUS',
      DeletionProtection: 'ACTIVE',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'EntraID',
      ProviderType: 'OIDC',
      ProviderDetails: Match.objectLike({
        client_id: 'a-client-id',
        client_secret: `{{resolve:secretsmanager:${OIDC_SECRET}:SecretString:::}}`,
        oidc_issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      }),
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'ardoq-ado-sync-prod' });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      SupportedIdentityProviders: ['COGNITO', { Ref: Match.stringLikeRegexp('^UsersOidc') }],
      AllowedOAuthFlows: ['code'],
      CallbackURLs: ['https://syncflow.example.com/auth/callback'],
    });
  });

  it('attaches the web ACL to the stage and allows the single frontend origin', () => {
    const t = prod.statelessTemplate;
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: WEB_ACL,
      ResourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    for (const preflight of apiMethods(t).filter((m) => m.httpMethod === 'OPTIONS')) {
      expect(JSON.stringify(preflight.integration.IntegrationResponses)).toContain(
        "'https://syncflow.example.com'",
      );
    }
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.Access-Control-Allow-Origin': "'https://syncflow.example.com'",
      }),
    });
  });
});

describe('a production stage without a web ACL of its own (issue 18)', () => {
  let t: SynthesizedApp['statelessTemplate'];
  let stateful: SynthesizedApp['statefulTemplate'];
  let app: SynthesizedApp;
  beforeAll(() => {
    app = synthApp(
      { stage: 'live', stages: { live: { production: true, alarms: { topicArn: SHARED_TOPIC } } } },
      { bundling: false },
    );
    t = app.statelessTemplate;
    stateful = app.statefulTemplate;
  });

  it('passes cdk-nag and CDK’s own checks', () => {
    expect(nagFindings(app.app)).toEqual([]);
    expect(annotationsOf(app)).toEqual([]);
  });

  it('creates a regional web ACL with a rate limit per client IP and AWS’s common rule set, and attaches it', () => {
    const acls = Object.entries(t.findResources('AWS::WAFv2::WebACL'));
    expect(acls).toHaveLength(1);
    const [aclId, acl] = acls[0] as [string, { Properties: Record<string, unknown> }];
    expect(acl.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const rules = acl.Properties.Rules as Array<Record<string, unknown>>;
    expect(rules[0]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP' } },
    });
    expect(rules[1]).toMatchObject({
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
    });
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
    });
  });

  it('requires TOTP MFA of every user', () => {
    stateful.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  it('sends the alarms to the given topic', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([SHARED_TOPIC]);
  });
});

describe('a stage sharing an existing user pool, ops topic and API Gateway logging role', () => {
  it('passes cdk-nag and CDK’s own checks', () => {
    expect(nagFindings(shared.app)).toEqual([]);
    expect(annotationsOf(shared)).toEqual([]);
  });

  it('authorizes with the existing pool and creates none', () => {
    shared.statefulTemplate.resourceCountIs('AWS::Cognito::UserPool', 0);
    shared.statefulTemplate.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    const authorizer = Object.values(
      shared.statelessTemplate.findResources('AWS::ApiGateway::Authorizer'),
    )[0];
    expect(JSON.stringify(authorizer?.Properties.ProviderARNs)).toContain(`:userpool/${SHARED_POOL}`);
    const outputs = shared.statelessTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.UserPoolId?.Value).toBe(SHARED_POOL);
    expect(outputs.UserPoolClientId?.Value).toBe('shared-client');
  });

  it('sends the alarms to the existing topic', () => {
    const t = shared.statelessTemplate;
    t.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([SHARED_TOPIC]);
    }
  });

  it('leaves the account-wide API Gateway logging role alone', () => {
    const resources = resourcesOf(shared.statelessTemplate);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Account')).toEqual([]);
    shared.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });
});
