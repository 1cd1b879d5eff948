import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStageConfig } from '#lib/config.ts';
import { ADMIN_GROUP } from '#lib/constructs/user-directory.ts';
import { StatefulStack } from '#lib/stateful-stack.ts';

function synth(context: { stage?: string; stages?: unknown } = { stage: 'dev' }) {
  const app = new App();
  const stack = new StatefulStack(app, 'Stateful', { config: loadStageConfig(context) });
  return Template.fromStack(stack);
}

type QueueProps = {
  VisibilityTimeout?: number;
  MessageRetentionPeriod: number;
  SqsManagedSseEnabled: boolean;
  RedrivePolicy?: { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number };
};

/** The stack's queues, by logical id. */
function queues(template: Template): Record<string, QueueProps> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::SQS::Queue')).map(([id, q]) => [
      id,
      q.Properties as QueueProps,
    ]),
  );
}

describe('StatefulStack', () => {
  it('provisions Aurora PostgreSQL Serverless v2 with the Data API, encrypted, with a generated secret', () => {
    const template = synth({ stage: 'dev' });
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^16\\.'),
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      DatabaseName: 'ardoq_sync',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4, SecondsUntilAutoPause: 1800 },
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    // The owner's (master user) and the runtime role's (test/infra/database-roles.test.ts).
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete' });
  });

  it('protects the database of a stage that asks for it', () => {
    const template = synth({
      stage: 'prod',
      stages: {
        prod: {
          database: { minCapacity: 0.5, maxCapacity: 16, protect: true },
          alarms: { email: 'ops@example.com' },
        },
      },
    });
    template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({
        DeletionProtection: true,
        ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
      }),
    });
    // A production stage keeps its secrets key when the stack goes.
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ PendingWindowInDays: 30 }),
    });
  });

  describe('a production stage (issue 18)', () => {
    const prod = (stage: Record<string, unknown>) =>
      loadStageConfig({ stage: 'prod', stages: { prod: { database: { protect: true }, ...stage } } });

    it('refuses to synth without somewhere to send the alarms, naming the keys', () => {
      expect(() => prod({})).toThrow(/alarms\.email or alarms\.topicArn/);
      expect(() => prod({ alarms: { email: 'ops@example.com' } })).not.toThrow();
      expect(() => prod({ alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' } })).not.toThrow();
      // The explicit flag makes a stage production without a protected database, and the reverse.
      expect(() => loadStageConfig({ stage: 'qa', stages: { qa: { production: true } } })).toThrow(/alarms/);
      expect(() =>
        loadStageConfig({ stage: 'qa', stages: { qa: { production: false, database: { protect: true } } } }),
      ).not.toThrow();
    });

    it('requires TOTP MFA, optional elsewhere', () => {
      const alarms = { alarms: { email: 'ops@example.com' } };
      const mfaOf = (c: ReturnType<typeof loadStageConfig>) =>
        c.auth.mode === 'cognito' ? c.auth.mfa : null;
      expect(mfaOf(prod(alarms))).toBe('required');
      expect(() => prod({ ...alarms, auth: { mode: 'cognito', mfa: 'optional' } })).toThrow(/auth\.mfa/);
      expect(mfaOf(loadStageConfig({ stage: 'dev' }))).toBe('optional');
      expect(loadStageConfig({ stage: 'dev' }).production).toBe(false);
    });
  });

  it('encrypts both database secrets with one customer managed key, rotated yearly', () => {
    const template = synth();
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/ardoq-ado-sync-dev-secrets' });
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) {
      expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
  });

  it('rotates the owner and the runtime role secrets every 30 days, through an endpoint in the isolated VPC', () => {
    const template = synth();
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedules).toHaveLength(2);
    for (const schedule of schedules) {
      expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    }
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoints).toHaveLength(1);
    expect(JSON.stringify(endpoints[0]?.Properties.ServiceName)).toContain('.secretsmanager');
    expect(endpoints[0]?.Properties).toMatchObject({ PrivateDnsEnabled: true, VpcEndpointType: 'Interface' });
    // HTTPS from the VPC's own range, nothing wider.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 443, ToPort: 443 })],
    });
    // Each rotation function is the single-user PostgreSQL application of the Serverless Application Repository.
    const apps = Object.values(template.findResources('AWS::Serverless::Application'));
    expect(apps).toHaveLength(2);
    const mappings = template.toJSON().Mappings as Record<string, unknown>;
    for (const app of apps) {
      const [mapping] = app.Properties.Location.ApplicationId['Fn::FindInMap'] as [string];
      expect(JSON.stringify(mappings[mapping])).toMatch(/SecretsManagerRDSPostgreSQLRotationSingleUser/);
    }
  });

  it('rejects an invalid stage config with the field named', () => {
    expect(() => loadStageConfig({ stage: 'Prod!' })).toThrow(/stage/);
    expect(() =>
      loadStageConfig({ stage: 'dev', stages: { dev: { database: { maxCapacity: 0 } } } }),
    ).toThrow(/maxCapacity/);
  });

  describe('queues', () => {
    let template: Template;
    let all: Record<string, QueueProps>;
    let main: [string, QueueProps][];
    let dlqIds: (string | undefined)[];
    beforeAll(() => {
      template = synth({ stage: 'dev' });
      all = queues(template);
      main = Object.entries(all).filter(([, q]) => q.RedrivePolicy);
      dlqIds = main.map(([, q]) => q.RedrivePolicy?.deadLetterTargetArn['Fn::GetAtt'][0]);
    });

    it('has a work queue and a finalize queue, each with its own DLQ after 5 receives', () => {
      expect(Object.keys(all)).toHaveLength(4);
      expect(main.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
        'FinalizeQueue',
        'WorkQueue',
      ]);
      expect(new Set(dlqIds).size).toBe(2);
      for (const [, queue] of main) expect(queue.RedrivePolicy?.maxReceiveCount).toBe(5);
    });

    it('keeps a message invisible for 6× its consumer’s timeout, 4 days in the queue and 14 in the DLQ', () => {
      const config = loadStageConfig({ stage: 'dev' });
      const byName = Object.fromEntries(
        main.map(([id, q]) => [id.startsWith('Work') ? 'work' : 'finalize', q]),
      );
      expect(byName.work?.VisibilityTimeout).toBe(6 * config.functions.processor.timeoutSeconds);
      expect(byName.finalize?.VisibilityTimeout).toBe(6 * config.functions.finalizer.timeoutSeconds);
      for (const [, queue] of main) expect(queue.MessageRetentionPeriod).toBe(4 * 24 * 3600);
      for (const id of dlqIds) expect(all[id as string]?.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    });

    it('follows a longer processor timeout with the visibility timeout', () => {
      const longer = queues(
        synth({
          stage: 'dev',
          stages: { dev: { functions: { processor: { timeoutSeconds: 300 } }, sync: { staleSeconds: 600 } } },
        }),
      );
      const work = Object.entries(longer).find(([id, q]) => id.startsWith('Work') && q.RedrivePolicy);
      expect(work?.[1].VisibilityTimeout).toBe(1800);
    });

    it('encrypts every queue (SSE-SQS) and refuses requests without TLS', () => {
      for (const queue of Object.values(all)) expect(queue.SqsManagedSseEnabled).toBe(true);
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      const guarded = policies.flatMap((p) => p.Properties.Queues.map((q: { Ref: string }) => q.Ref));
      expect(guarded.sort()).toEqual(Object.keys(all).sort());
      for (const policy of policies) {
        expect(policy.Properties.PolicyDocument.Statement).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        );
      }
    });
  });

  describe('users', () => {
    it('creates a user pool for admin-created users only, with a strong password policy and threat protection', () => {
      const template = synth({ stage: 'dev' });
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        Policies: {
          PasswordPolicy: Match.objectLike({
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          }),
        },
        MfaConfiguration: 'OPTIONAL',
        UserPoolTier: 'PLUS',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      });
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        GenerateSecret: false,
        ExplicitAuthFlows: [
          'ALLOW_ADMIN_USER_PASSWORD_AUTH',
          'ALLOW_USER_SRP_AUTH',
          'ALLOW_REFRESH_TOKEN_AUTH',
        ],
        PreventUserExistenceErrors: 'ENABLED',
      });
    });

    it('creates the admins group whose members may change configurations (issue 15)', () => {
      const template = synth({ stage: 'dev' });
      const pool = Object.keys(template.findResources('AWS::Cognito::UserPool'))[0];
      template.resourceCountIs('AWS::Cognito::UserPoolGroup', 1);
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
        GroupName: ADMIN_GROUP,
        UserPoolId: { Ref: pool },
      });
      expect(ADMIN_GROUP).toBe('admins');
    });

    it('leaves the groups of an existing user pool alone', () => {
      const template = synth({
        stage: 'dev',
        stages: { dev: { auth: { mode: 'existing-user-pool', userPoolId: 'eu-west-1_AbC123xyz' } } },
      });
      template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    });

    it('rejects an existing user pool id that does not look like one', () => {
      expect(() =>
        loadStageConfig({
          stage: 'dev',
          stages: { dev: { auth: { mode: 'existing-user-pool', userPoolId: 'x' } } },
        }),
      ).toThrow(/userPoolId/);
    });
  });

  it('logs the VPC’s traffic to a log group with retention', () => {
    const template = synth({ stage: 'dev' });
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('rejects a stale threshold that a live processor invocation could reach', () => {
    expect(() =>
      loadStageConfig({
        stage: 'dev',
        stages: { dev: { functions: { processor: { timeoutSeconds: 300 } } } },
      }),
    ).toThrow(/staleSeconds/);
  });
});
