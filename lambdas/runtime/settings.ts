import * as z from 'zod';
import { parseAllowedOrigins } from '#core/domain/ado-organization.ts';
import { parseHierarchyTypes } from '#core/domain/ardoq.ts';
import { PipelineEnv } from './pipeline-settings.ts';

/**
 * The environment variables a function may read, each defined once. A function's own settings schema
 * (`lambdas/<function>/settings.ts`) picks the ones it uses, so it is given only those (the CDK sets
 * exactly its schema's variables, test/infra checks it) and builds only the clients they name.
 */
export const FIELDS = {
  /** Aurora through the Data API: the cluster, the credentials secret, the database. */
  DB_CLUSTER_ARN: z.string().min(1),
  DB_SECRET_ARN: z.string().min(1),
  DB_NAME: z.string().min(1),
  /** The runtime role's credentials secret, read by the migrate function only (it sets that role's password). */
  RUNTIME_DB_SECRET_ARN: z.string().min(1),
  WORK_QUEUE_URL: z.url(),
  FINALIZE_QUEUE_URL: z.url(),
  /** PAT secrets live under `<prefix>/<configuration id>` in Secrets Manager. */
  PAT_SECRET_PREFIX: z.string().min(1),
  /**
   * The customer-managed KMS key (ARN) that encrypts the credential secrets the function creates;
   * optional (absent: Secrets Manager's `aws/secretsmanager` key). Reading a secret needs no setting.
   */
  PAT_SECRET_KMS_KEY_ARN: z.string().min(1).optional(),
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
  /**
   * Origins an Ardoq API token may go to besides https://*.ardoq.com, comma-separated; https only and
   * no loopback host.
   */
  ARDOQ_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parseAllowedOrigins(text, { loopback: false, setting: 'ARDOQ_ALLOWED_ORIGINS' });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** The Ardoq component types of the five levels, domain to user story. */
  ARDOQ_HIERARCHY_TYPES: z
    .string()
    .default('Domain,Initiative,Epic,Feature,User Story')
    .transform((text, ctx) => {
      try {
        return parseHierarchyTypes(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Comma-separated browser origins allowed by CORS. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** The Cognito group whose members may change configurations. */
  ADMIN_GROUP: z.string().min(1).default('admins'),
  ...PipelineEnv.shape,
};

type FieldName = keyof typeof FIELDS;

/** A settings schema of the given fields. */
export const settingsOf = <const K extends readonly FieldName[]>(...names: K) =>
  z.object(
    Object.fromEntries(names.map((name) => [name, FIELDS[name]])) as { [N in K[number]]: (typeof FIELDS)[N] },
  );

/** Parses a function's settings at cold start; a missing or bad variable fails fast, naming it. */
export function parseSettings<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(`Invalid environment: ${issue?.path.join('.')}: ${issue?.message}`);
}
