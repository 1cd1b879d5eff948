/** The CDK app: builds the stage config from context and wires the stacks. Nothing else. */
import { App } from 'aws-cdk-lib';
import { loadStageConfig } from '../lib/config.ts';
import { StatefulStack } from '../lib/stateful-stack.ts';

const app = new App();
const config = loadStageConfig({
  stage: app.node.tryGetContext('stage'),
  stages: app.node.tryGetContext('stages'),
});

new StatefulStack(app, `ArdoqAdoSync-${config.stage}-Stateful`, {
  config,
  description: 'Ardoq → Azure DevOps sync: database (Aurora PostgreSQL Serverless v2 with the Data API)',
});
