import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStageConfig, type StageConfig } from '#lib/config.ts';
import { PROJECT_ROOT } from '#lib/constructs/sync-function.ts';
import type { StatefulStack } from '#lib/stateful-stack.ts';
import type { StatelessStack } from '#lib/stateless-stack.ts';
import { addSyncStacks } from '#lib/sync-app.ts';

/** The stage context `cdk synth` uses by default (cdk.json). */
export function cdkJsonContext(): { stage?: unknown; stages?: unknown } {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: { stage?: unknown; stages?: unknown };
  };
  return { stage: cdkJson.context.stage, stages: cdkJson.context.stages };
}

export interface SynthesizedApp {
  app: App;
  config: StageConfig;
  stateful: StatefulStack;
  stateless: StatelessStack;
  statefulTemplate: Template;
  statelessTemplate: Template;
}

/**
 * Both stacks of one stage, synthesized once per file. Bundling the five functions takes ~10 s: a
 * stage variant skips it (bundles do not depend on the stage config; one file tests the real ones).
 * CDK's built-in CloudFormation validation (~10 s, warnings only) runs in the `cdk synth` test.
 */
export function synthApp(
  context: { stage?: unknown; stages?: unknown } = cdkJsonContext(),
  options: { bundling?: boolean } = {},
): SynthesizedApp {
  const app = new App({
    builtinCloudFormationValidation: false,
    ...(options.bundling === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {}),
  });
  const config = loadStageConfig(context);
  const { stateful, stateless } = addSyncStacks(app, config);
  return {
    app,
    config,
    stateful,
    stateless,
    statefulTemplate: Template.fromStack(stateful),
    statelessTemplate: Template.fromStack(stateless),
  };
}

/**
 * Every unacknowledged cdk-nag finding (errors and warnings) as `rule at construct path`. cdk-nag v3
 * reports through CDK's policy validation; `validateScope` runs the same checks on the synthesized tree.
 */
export function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) => `${violation.severity} ${violation.ruleName} at ${resource.constructPath ?? '?'}`,
    ),
  );
}

/** Warnings and errors CDK attached to a stack's constructs (acknowledged ones excluded). */
export function annotationsOf(synth: SynthesizedApp): string[] {
  return [synth.stateful, synth.stateless].flatMap((stack) => {
    const annotations = Annotations.fromStack(stack);
    return [...annotations.findWarning('*', '*'), ...annotations.findError('*', '*')].map(
      (message) => `${message.level} ${message.id}: ${String(message.entry.data)}`,
    );
  });
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;

export function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

/** Logical id of the single resource of this type whose properties contain this value. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  if (ids.length !== 1) throw new Error(`expected one ${type} matching, found ${ids.length}`);
  return ids[0] as string;
}

/** An API Gateway method as routed: method, full path, authorization and integration. */
export interface ApiMethod {
  httpMethod: string;
  path: string;
  authorizationType: string;
  authorizerId: unknown;
  integration: Record<string, unknown>;
}

/** Rebuilds the full path of every method from the template's resource tree. */
export function apiMethods(template: Template): ApiMethod[] {
  const resources = resourcesOf(template);
  const pathOf = (ref: unknown): string => {
    const logicalId = (ref as { Ref?: string }).Ref;
    const resource = logicalId ? resources[logicalId] : undefined;
    if (resource?.Type !== 'AWS::ApiGateway::Resource') return ''; // the API's root
    const props = resource.Properties as { ParentId: unknown; PathPart: string };
    return `${pathOf(props.ParentId)}/${props.PathPart}`;
  };
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGateway::Method')
    .map((resource) => {
      const props = resource.Properties as Record<string, unknown>;
      return {
        httpMethod: props.HttpMethod as string,
        path: pathOf(props.ResourceId) || '/',
        authorizationType: props.AuthorizationType as string,
        authorizerId: props.AuthorizerId,
        integration: (props.Integration ?? {}) as Record<string, unknown>,
      };
    });
}

export interface IamStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
type PolicyDocument = { Statement: IamStatement[] };

/** Every statement of every IAM policy (inline role policies and AWS::IAM::Policy), with its resource id. */
export function iamStatements(template: Template): (IamStatement & { policy: string })[] {
  return Object.entries(resourcesOf(template)).flatMap(([logicalId, resource]) => {
    const properties = resource.Properties ?? {};
    const documents =
      resource.Type === 'AWS::IAM::Policy'
        ? [properties.PolicyDocument as PolicyDocument]
        : resource.Type === 'AWS::IAM::Role'
          ? ((properties.Policies ?? []) as { PolicyDocument: PolicyDocument }[]).map((p) => p.PolicyDocument)
          : [];
    return documents.flatMap((document) =>
      document.Statement.map((statement) => ({ policy: logicalId, ...statement })),
    );
  });
}

/** Actions without resource-level permissions: `*` is the only resource they accept. */
export const NO_RESOURCE_LEVEL_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'cloudwatch:PutMetricData',
]);

/** Resource patterns with a wildcard that cannot be avoided, and why. */
export const ALLOWED_WILDCARD_RESOURCES = (stage: string): RegExp[] => [
  // PAT secrets are created at run time under the stage's prefix (names unknown at deploy time).
  new RegExp(`:secret:ardoq-ado-sync/${stage}/pat/\\*"`),
  // CDK's Trigger provider invokes the migrate function's current version (`<function arn>:*`).
  /^\[\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["SchemaMigrationMigrateFunction[0-9A-F]+","Arn"\]\},":\*"\]\]\}\]$/,
];

/**
 * IAM statements that use a wildcard where a resource could be named: an action with `*`, a `*`
 * resource for an action that supports resource-level permissions, or a resource pattern not in
 * the allowed list. Empty when the policies are as narrow as they can be.
 */
export function wildcardProblems(template: Template, stage: string): string[] {
  const allowed = ALLOWED_WILDCARD_RESOURCES(stage);
  return iamStatements(template).flatMap((statement) => {
    const actions = [statement.Action].flat();
    const resources = [statement.Resource].flat();
    const problems = actions.filter((a) => a.includes('*')).map((a) => `${statement.policy}: action ${a}`);
    if (resources.includes('*')) {
      problems.push(
        ...actions
          .filter((a) => !NO_RESOURCE_LEVEL_ACTIONS.has(a))
          .map((a) => `${statement.policy}: ${a} on *`),
      );
    } else {
      const text = JSON.stringify(statement.Resource);
      if (text.includes('*') && !allowed.some((pattern) => pattern.test(text))) {
        problems.push(`${statement.policy}: resource ${text}`);
      }
    }
    return problems;
  });
}
