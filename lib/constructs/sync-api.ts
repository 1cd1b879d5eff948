import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiRoute } from '../api-routes.ts';
import type { StageConfig } from '../config.ts';

/** CORS request headers the frontend sends (CONTRACT.md §1). */
export const CORS_ALLOW_HEADERS = ['content-type', 'authorization', 'last-event-id'];

export interface SyncApiProps {
  stage: string;
  settings: StageConfig['api'];
  tracing: StageConfig['tracing'];
  logRetentionDays: number;
  /** A production stage: a WAF web ACL is attached (the given `webAclArn`, or one created here). */
  production: boolean;
  userPool: cognito.IUserPool;
  /** Answers the buffered routes. */
  bufferedHandler: lambda.IFunction;
  /** Answers the SSE routes through response streaming. */
  streamHandler: lambda.IFunction;
  /** How long a streamed response may run (API Gateway: 15 minutes at most). */
  streamTimeoutSeconds: number;
  routes?: readonly ApiRoute[];
}

/**
 * The REST API (v1: HTTP APIs cannot stream): every route of the app declared explicitly, the SSE
 * routes integrated with the streaming function (`responseTransferMode: STREAM`, the
 * `…/response-streaming-invocations` URI), a Cognito authorizer on every route but the public
 * ones, CORS preflight answered by API Gateway without authentication, stage throttling, JSON
 * access logs, and gateway errors in the app's `{ success: false, error }` envelope.
 */
export class SyncApi extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.LogGroup;
  /** API Gateway's execution log group, created here so that it has a retention. */
  readonly executionLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SyncApiProps) {
    super(scope, id);
    const { settings } = props;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `ardoq-ado-sync-${props.stage}`,
      description: 'Ardoq → Azure DevOps sync API',
      endpointTypes: [apigw.EndpointType.REGIONAL], // edge-optimized endpoints cut idle streams after 30 s
      cloudWatchRole: settings.createCloudWatchRole,
      // The role is an account-wide setting other APIs may rely on: never delete it with this stack.
      ...(settings.createCloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: props.stage,
        throttlingRateLimit: settings.throttling.rateLimit,
        throttlingBurstLimit: settings.throttling.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: accessLogFormat(),
        // Errors only, and never request or response bodies: bodies carry PATs.
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing === 'xray',
      },
      ...(settings.corsOrigins.length > 0
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: settings.corsOrigins,
              allowHeaders: CORS_ALLOW_HEADERS,
              allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
              maxAge: Duration.minutes(10),
            },
          }
        : {}),
    });
    // API Gateway would create this group itself, never expiring: created first, with the retention.
    this.executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stage}`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api.deploymentStage.node.addDependency(this.executionLogs);
    if (settings.createCloudWatchRole) {
      Validations.of(this.api.node.findChild('CloudWatchRole')).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-wide API Gateway logging role: AWS documents this managed policy for it, and access/execution logs (AwsSolutions-APIG1/APIG6) need it.',
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Requests are validated in the functions by the zod schemas that also generate the OpenAPI document, answering the contract’s 400 with field details; a gateway validator would answer another shape.',
    });

    const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
      identitySource: apigw.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });
    const integrations = {
      // One API-scoped invoke permission per function instead of one per method.
      buffered: new apigw.LambdaIntegration(props.bufferedHandler, { scopePermissionToMethod: false }),
      stream: new apigw.LambdaIntegration(props.streamHandler, {
        scopePermissionToMethod: false,
        responseTransferMode: apigw.ResponseTransferMode.STREAM,
        timeout: Duration.seconds(props.streamTimeoutSeconds),
      }),
    };
    for (const route of props.routes ?? API_ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      const method = resource.addMethod(
        route.method,
        integrations[route.target],
        route.auth
          ? { authorizer, authorizationType: apigw.AuthorizationType.COGNITO }
          : { authorizationType: apigw.AuthorizationType.NONE },
      );
      if (!route.auth) {
        const reason = `${route.method} ${route.path} is public by contract (liveness probe for monitors and load balancers); it reveals only whether the database answers.`;
        Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
        Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
      }
    }
    for (const method of this.api.methods.filter((m) => m.httpMethod === 'OPTIONS')) {
      const reason =
        'CORS preflight: browsers send OPTIONS without credentials, so it must be unauthenticated; API Gateway answers it itself (mock integration) without reaching a function.';
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
    }

    this.addGatewayResponses(settings.corsOrigins);

    const webAclArn =
      settings.webAclArn ?? (props.production ? this.createWebAcl(props.stage, settings) : undefined);
    if (webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn,
      });
    } else {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'Not a production stage and no api.webAclArn: every data route needs a Cognito token and the stage is throttled. Production stages always get a web ACL.',
      });
    }
  }

  /** A regional web ACL: a rate-based rule per client IP, then AWS's managed common rule set. */
  private createWebAcl(stage: string, settings: StageConfig['api']): string {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAclRules', {
      name: `ardoq-ado-sync-${stage}`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`ardoq-ado-sync-${stage}`),
      rules: [
        {
          name: 'rate-per-ip',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: settings.wafRateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('rate-per-ip'),
        },
        {
          name: 'aws-common',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // Sync requests carry whole hierarchies (MBs): the body is checked by the app's schemas.
              // and the text they hold reaches Azure DevOps escaped (an Ardoq description may show markup).
              ruleActionOverrides: [
                { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
                { name: 'CrossSiteScripting_BODY', actionToUse: { count: {} } },
              ],
            },
          },
          visibilityConfig: visibility('aws-common'),
        },
      ],
    });
    return acl.attrArn;
  }

  /**
   * API Gateway's own answers (no route, no or bad token, throttled, integration failure) in the app's
   * error envelope, readable by the browser (CORS), and 404 rather than 403 for an unknown route.
   */
  private addGatewayResponses(corsOrigins: readonly string[]): void {
    // A gateway response cannot choose among origins, and never echoes the caller's Origin: with several
    // configured origins it carries no CORS header (the browser then reports a network error for it).
    const cors: Record<string, string> = corsOrigins.includes('*')
      ? { 'Access-Control-Allow-Origin': "'*'" }
      : corsOrigins.length === 1
        ? { 'Access-Control-Allow-Origin': `'${corsOrigins[0]}'`, Vary: "'Origin'" }
        : {};
    const envelope = (error: string) => ({
      'application/json': `{"success":false,"error":${error}}`,
    });
    const respond = (id: string, type: apigw.ResponseType, error: string, statusCode?: string) =>
      this.api.addGatewayResponse(id, {
        type,
        ...(statusCode ? { statusCode } : {}),
        responseHeaders: { 'Content-Type': "'application/json'", ...cors },
        templates: envelope(error),
      });
    // API Gateway answers an unknown path or method with 403 "Missing Authentication Token".
    respond('NoRoute', apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '"No such route"', '404');
    respond('Unauthorized', apigw.ResponseType.UNAUTHORIZED, '"Authentication required"');
    respond('Default4xx', apigw.ResponseType.DEFAULT_4XX, '$context.error.messageString');
    respond('Default5xx', apigw.ResponseType.DEFAULT_5XX, '"Internal server error"');
  }
}

/** One JSON object per request; the caller is the token's subject, never a header it could forge. */
function accessLogFormat(): apigw.AccessLogFormat {
  const F = apigw.AccessLogField;
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      requestId: F.contextRequestId(),
      requestTime: F.contextRequestTime(),
      httpMethod: F.contextHttpMethod(),
      resourcePath: F.contextResourcePath(),
      path: F.contextPath(),
      status: F.contextStatus(),
      responseLength: F.contextResponseLength(),
      responseLatency: F.contextResponseLatency(),
      integrationLatency: F.contextIntegrationLatency(),
      integrationStatus: F.contextIntegrationStatus(),
      errorMessage: F.contextErrorMessage(),
      authorizerError: F.contextAuthorizerError(),
      sourceIp: F.contextIdentitySourceIp(),
      userAgent: F.contextIdentityUserAgent(),
      user: F.contextAuthorizerClaims('sub'),
    }),
  );
}
