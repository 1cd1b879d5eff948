import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { adoTrackerFactory } from '#adapters/ado-rest-work-item-tracker.ts';
import { ardoqClientFactory } from '#adapters/ardoq-rest-client.ts';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { SecretsManagerSecretStore } from '#adapters/secret-stores.ts';
import { SqsWorkQueue } from '#adapters/sqs-work-queue.ts';
import type { ArdoqClientFactory } from '#core/ports/ardoq.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';

/** The adapters of AWS, each built from the settings that name it (once per cold start). */

export const dataApiDatabase = (s: { DB_CLUSTER_ARN: string; DB_SECRET_ARN: string; DB_NAME: string }) =>
  new DataApiDatabase({ resourceArn: s.DB_CLUSTER_ARN, secretArn: s.DB_SECRET_ARN, database: s.DB_NAME });

export const sqsWorkQueue = (s: { WORK_QUEUE_URL: string; FINALIZE_QUEUE_URL?: string }) =>
  new SqsWorkQueue(new SQSClient({}), {
    workQueueUrl: s.WORK_QUEUE_URL,
    ...(s.FINALIZE_QUEUE_URL ? { finalizeQueueUrl: s.FINALIZE_QUEUE_URL } : {}),
  });

export const patSecrets = (s: { PAT_SECRET_PREFIX: string }) =>
  new SecretsManagerSecretStore(new SecretsManagerClient({}), s.PAT_SECRET_PREFIX);

export const ardoqClients = (s: { ARDOQ_ALLOWED_ORIGINS: string[] }): ArdoqClientFactory =>
  ardoqClientFactory({ allowedOrigins: s.ARDOQ_ALLOWED_ORIGINS });

export const adoTrackers = (s: { ADO_ALLOWED_ORIGINS: string[] }): WorkItemTrackerFactory =>
  adoTrackerFactory({ allowedOrigins: s.ADO_ALLOWED_ORIGINS });
