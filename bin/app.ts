/** The CDK app: builds the stage config from context and wires the stacks. Nothing else. */
import { App } from 'aws-cdk-lib';
import { loadStageConfig } from '../lib/config.ts';
import { addSyncStacks, checkWithCdkNag } from '../lib/sync-app.ts';

const app = new App();
const config = loadStageConfig({
  stage: app.node.tryGetContext('stage'),
  stages: app.node.tryGetContext('stages'),
});

addSyncStacks(app, config);
checkWithCdkNag(app);
