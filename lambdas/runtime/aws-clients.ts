import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AdoHttpOptions } from '#adapters/ado-http.ts';
import { adoTrackerFactory } from '#adapters/ado-rest-work-item-tracker.ts';
import { type ArdoqRestClientOptions, ardoqClientFactory } from '#adapters/ardoq-rest-client.ts';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { SecretsManagerSecretStore } from '#adapters/secret-stores.ts';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import type { ArdoqClientFactory } from '#core/ports/ardoq.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import { CONSUMER_DATABASE, type DataApiBudget } from './time-budgets.ts';

/** The adapters of AWS, each built from the settings that name it (once per cold start). */

/**
 * The Data API database; `budget` is the function's resume wait (time-budgets.ts): the
 * consumers' by default, `REQUEST_DATABASE` for a function behind API Gateway.
 */
export const dataApiDatabase = (
  s: { DB_CLUSTER_ARN: string; DB_SECRET_ARN: string; DB_NAME: string },
  budget: DataApiBudget = CONSUMER_DATABASE,
) =>
  new DataApiDatabase({
    resourceArn: s.DB_CLUSTER_ARN,
    secretArn: s.DB_SECRET_ARN,
    database: s.DB_NAME,
    ...budget,
  });

export const sqsWorkQueue = (s: { WORK_QUEUE_URL: string; FINALIZE_QUEUE_URL?: string }) =>
  new SqsWorkQueue(new SQSClient({}), {
    workQueueUrl: s.WORK_QUEUE_URL,
    ...(s.FINALIZE_QUEUE_URL ? { finalizeQueueUrl: s.FINALIZE_QUEUE_URL } : {}),
  });

/** The credential secrets; new ones are encrypted with PAT_SECRET_KMS_KEY_ARN when it is set. */
export const patSecrets = (s: { PAT_SECRET_PREFIX: string; PAT_SECRET_KMS_KEY_ARN?: string | undefined }) =>
  new SecretsManagerSecretStore(new SecretsManagerClient({}), s.PAT_SECRET_PREFIX, s.PAT_SECRET_KMS_KEY_ARN);

/** `budget`: timeouts and retries (the adapter's defaults, or `REQUEST_ARDOQ` on the API path). */
export const ardoqClients = (
  s: { ARDOQ_ALLOWED_ORIGINS: string[] },
  budget: Omit<ArdoqRestClientOptions, 'allowedOrigins'> = {},
): ArdoqClientFactory => ardoqClientFactory({ ...budget, allowedOrigins: s.ARDOQ_ALLOWED_ORIGINS });

/** `budget`: timeouts and retries (the adapter's defaults, or `REQUEST_ADO` on the API path). */
export const adoTrackers = (
  s: { ADO_ALLOWED_ORIGINS: string[] },
  budget: Omit<AdoHttpOptions, 'transport' | 'sleep' | 'now'> = {},
): WorkItemTrackerFactory => adoTrackerFactory({ ...budget, allowedOrigins: s.ADO_ALLOWED_ORIGINS });
