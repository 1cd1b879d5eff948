import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageConfig } from './config.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

/** The stacks of one stage, named `ArdoqAdoSync-<stage>-Stateful` and `…-Stateless`. */
export function addSyncStacks(
  app: App,
  config: StageConfig,
): { stateful: StatefulStack; stateless: StatelessStack } {
  const prefix = `ArdoqAdoSync-${config.stage}`;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, {
    config,
    description:
      'Ardoq → Azure DevOps sync: database (Aurora PostgreSQL Serverless v2, Data API), queues, users',
  });
  const stateless = new StatelessStack(app, `${prefix}-Stateless`, {
    config,
    data: stateful,
    description: 'Ardoq → Azure DevOps sync: functions, REST API, schedule, dashboard, alarms',
  });
  return { stateful, stateless };
}

/**
 * cdk-nag v3 is a policy validation plugin: it runs at synthesis, and any unacknowledged finding
 * (error or warning) fails `cdk synth`/`cdk deploy`. Acknowledgements sit next to their resources.
 */
export function checkWithCdkNag(app: App): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(checks);
  return checks;
}
