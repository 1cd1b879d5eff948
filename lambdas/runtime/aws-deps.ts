import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { adoTrackerFactory, parseAllowedOrigins } from '#adapters/ado-rest-work-item-tracker.ts';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { SecretsManagerSecretStore } from '#adapters/secret-stores.ts';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import { DEFAULT_SETTINGS, type Log, type PipelineDeps, type PipelineMetrics } from '#core/pipeline/deps.ts';
import { systemClock } from '#core/ports/clock.ts';
import type { ApiOptions } from '#lambdas/api/app.ts';
import { pipelineSettingsFromEnv } from './pipeline-settings.ts';

/** The functions' environment, parsed once at cold start; a missing variable fails fast. */
const Env = z.object({
  DB_CLUSTER_ARN: z.string().min(1),
  DB_SECRET_ARN: z.string().min(1),
  DB_NAME: z.string().min(1),
  WORK_QUEUE_URL: z.url(),
  FINALIZE_QUEUE_URL: z.url(),
  PAT_SECRET_PREFIX: z.string().min(1),
  /**
   * Origins a PAT may go to besides dev.azure.com and *.visualstudio.com (Azure DevOps Server),
   * comma-separated; https only and no loopback host (in a Lambda, that is the runtime API).
   */
  ADO_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parseAllowedOrigins(text, { loopback: false });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
});

/** Real adapters for AWS: Data API, SQS, Secrets Manager, Azure DevOps REST. */
export function awsDeps(
  log: Log,
  metrics: PipelineMetrics,
  env: NodeJS.ProcessEnv = process.env,
): PipelineDeps {
  const config = Env.parse(env);
  return {
    db: new DataApiDatabase({
      resourceArn: config.DB_CLUSTER_ARN,
      secretArn: config.DB_SECRET_ARN,
      database: config.DB_NAME,
    }),
    queue: new SqsWorkQueue(new SQSClient({}), {
      workQueueUrl: config.WORK_QUEUE_URL,
      finalizeQueueUrl: config.FINALIZE_QUEUE_URL,
    }),
    secrets: new SecretsManagerSecretStore(new SecretsManagerClient({}), config.PAT_SECRET_PREFIX),
    trackers: adoTrackerFactory({ allowedOrigins: config.ADO_ALLOWED_ORIGINS }),
    clock: systemClock,
    log,
    metrics,
    settings: pipelineSettingsFromEnv(env, DEFAULT_SETTINGS),
  };
}

const ApiEnv = z.object({
  /** Comma-separated browser origins allowed by CORS (`http://localhost:*` = any port). */
  CORS_ORIGINS: z.string().default(''),
});

/** The API's options in AWS: API Gateway's authorizer authenticates; CORS origins from the stage config. */
export function apiOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiOptions {
  const config = ApiEnv.parse(env);
  return {
    auth: { mode: 'authorizer' },
    corsOrigins: config.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  };
}
