import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadStageConfig } from '#lib/config.ts';
import { StatefulStack } from '#lib/stateful-stack.ts';

function synth(context: { stage?: string; stages?: unknown }) {
  const app = new App();
  const stack = new StatefulStack(app, 'Stateful', { config: loadStageConfig(context) });
  return Template.fromStack(stack);
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
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete' });
  });

  it('protects the database of a stage that asks for it', () => {
    const template = synth({
      stage: 'prod',
      stages: { prod: { database: { minCapacity: 0.5, maxCapacity: 16, protect: true } } },
    });
    template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({
        DeletionProtection: true,
        ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
      }),
    });
  });

  it('rejects an invalid stage config with the field named', () => {
    expect(() => loadStageConfig({ stage: 'Prod!' })).toThrow(/stage/);
    expect(() =>
      loadStageConfig({ stage: 'dev', stages: { dev: { database: { maxCapacity: 0 } } } }),
    ).toThrow(/maxCapacity/);
  });
});
