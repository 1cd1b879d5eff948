import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as z from 'zod';
import { organizationProblem, parseAllowedOrigins } from '#core/domain/ado-organization.ts';
import { parseArdoqHost, parseHierarchyTypes } from '#core/domain/ardoq.ts';
import { DEFAULT_SETTINGS } from '#core/pipeline/deps.ts';
import { pipelineSettingsFromEnv } from '#lambdas/runtime/pipeline-settings.ts';
import type { LocalSystemOptions } from './local-system.ts';

/**
 * `npm start`'s environment: the local runtime's own variables, plus the pipeline settings the Lambdas
 * read in AWS too (PipelineEnv). Documented in the README; test/unit/settings.test.ts walks both.
 */
export const LocalEnv = z.object({
  PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(3000)
    .meta({ description: 'HTTP port (127.0.0.1)' }),
  LOCAL_DATA_DIR: z
    .string()
    .min(1)
    .default('.data')
    .meta({ description: 'PGlite database and the encrypted local secret store' }),
  DATABASE_URL: z.string().min(1).optional().meta({ description: 'Use this PostgreSQL instead of PGlite' }),
  PROCESSOR_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .meta({ description: "Concurrent processor invocations (the cloud's maxConcurrency)" }),
  PROCESSOR_THREADS: z.coerce.number().int().min(0).max(64).optional().meta({
    description:
      'Worker threads the processor invocations run on (default: PROCESSOR_CONCURRENCY capped by the cores; 0: the main thread)',
  }),
  ADO_ORGANIZATION: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A real Azure DevOps organization, configured on first start (needs ADO_PAT)' }),
  ADO_PAT: z.string().min(1).optional().meta({ description: 'The PAT of ADO_ORGANIZATION' }),
  ADO_SIM_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8081)
    .meta({ description: 'Port of the built-in Azure DevOps simulator' }),
  ADO_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .meta({ description: 'Origins a PAT may be sent to besides dev.azure.com and *.visualstudio.com' }),
  ARDOQ_API_HOST: z.string().min(1).optional().meta({
    description:
      'A real Ardoq (e.g. https://app.ardoq.com), configured on first start instead of the simulator (needs ARDOQ_API_TOKEN)',
  }),
  ARDOQ_API_TOKEN: z.string().min(1).optional().meta({ description: 'The API token of ARDOQ_API_HOST' }),
  ARDOQ_ORG_LABEL: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'The X-org label of ARDOQ_API_HOST (required on app.ardoq.com)' }),
  ARDOQ_SIM_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8082)
    .meta({ description: 'Port of the built-in Ardoq simulator' }),
  ARDOQ_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .meta({ description: 'Origins an Ardoq token may be sent to besides https://*.ardoq.com' }),
  ARDOQ_HIERARCHY_TYPES: z.string().optional().meta({
    description:
      'The Ardoq component types of the five levels, comma-separated (default Domain,Initiative,Epic,Feature,User Story)',
  }),
  SWEEP_INTERVAL_SECONDS: z.coerce
    .number()
    .min(1)
    .default(60)
    .meta({ description: 'How often the finalizer sweep runs' }),
  CORS_ORIGINS: z.string().optional().meta({ description: 'Allowed browser origins, comma-separated' }),
  LOCAL_AUTH_TOKEN: z.string().min(16, 'LOCAL_AUTH_TOKEN must be at least 16 characters').optional().meta({
    description:
      'Require Authorization: Bearer <token> on every route but /api/health; this token is an admin',
  }),
  LOCAL_READER_TOKEN: z
    .string()
    .min(16, 'LOCAL_READER_TOKEN must be at least 16 characters')
    .optional()
    .meta({
      description:
        'With LOCAL_AUTH_TOKEN: the token of a plain user (reads, syncs; no configuration writes); generated and printed when unset',
    }),
  LOG_LEVEL: z
    .enum(['DEBUG', 'INFO', 'WARN', 'ERROR'])
    .default('INFO')
    .meta({ description: 'Structured JSON logs: one line per sync transition at INFO, per item at DEBUG' }),
});

/** What `npm start` runs with, from its environment; throws naming a bad variable. */
export function localOptionsFromEnv(
  env: NodeJS.ProcessEnv,
): Omit<LocalSystemOptions, 'log'> & { logLevel: z.infer<typeof LocalEnv>['LOG_LEVEL'] } {
  const local = LocalEnv.parse(env);
  if (local.ADO_ORGANIZATION && !local.ADO_PAT) throw new Error('ADO_ORGANIZATION needs ADO_PAT');
  const adoAllowedOrigins = parseAllowedOrigins(local.ADO_ALLOWED_ORIGINS);
  const refused =
    local.ADO_ORGANIZATION === undefined
      ? undefined
      : organizationProblem(local.ADO_ORGANIZATION, adoAllowedOrigins);
  if (refused) throw new Error(`ADO_ORGANIZATION: ${refused}`);
  if (local.ARDOQ_API_HOST && !local.ARDOQ_API_TOKEN) throw new Error('ARDOQ_API_HOST needs ARDOQ_API_TOKEN');
  const ardoqAllowedOrigins = parseAllowedOrigins(local.ARDOQ_ALLOWED_ORIGINS, {
    loopback: true,
    setting: 'ARDOQ_ALLOWED_ORIGINS',
  });
  let ardoqHost: string | undefined;
  if (local.ARDOQ_API_HOST) {
    const host = parseArdoqHost(local.ARDOQ_API_HOST, ardoqAllowedOrigins);
    if (!host.ok) throw new Error(`ARDOQ_API_HOST: ${host.problem}`);
    ardoqHost = host.apiHost;
  }
  return {
    port: local.PORT,
    dataDir: local.LOCAL_DATA_DIR,
    ...(local.DATABASE_URL ? { databaseUrl: local.DATABASE_URL } : {}),
    processorConcurrency: local.PROCESSOR_CONCURRENCY,
    processorThreads:
      local.PROCESSOR_THREADS ?? Math.min(local.PROCESSOR_CONCURRENCY, availableParallelism()),
    debugThreads: local.LOG_LEVEL === 'DEBUG',
    sweepIntervalMs: local.SWEEP_INTERVAL_SECONDS * 1000,
    simulatorPort: local.ADO_SIM_PORT,
    adoAllowedOrigins,
    ardoqSimulatorPort: local.ARDOQ_SIM_PORT,
    ardoqAllowedOrigins,
    ...(local.ARDOQ_HIERARCHY_TYPES
      ? { hierarchyTypes: parseHierarchyTypes(local.ARDOQ_HIERARCHY_TYPES) }
      : {}),
    ...(ardoqHost && local.ARDOQ_API_TOKEN
      ? {
          ardoq: {
            apiHost: ardoqHost,
            token: local.ARDOQ_API_TOKEN,
            ...(local.ARDOQ_ORG_LABEL ? { orgLabel: local.ARDOQ_ORG_LABEL } : {}),
          },
        }
      : {}),
    ...(local.ADO_ORGANIZATION && local.ADO_PAT
      ? { organization: { name: local.ADO_ORGANIZATION, pat: local.ADO_PAT } }
      : {}),
    ...(local.CORS_ORIGINS ? { corsOrigins: local.CORS_ORIGINS.split(',').map((o) => o.trim()) } : {}),
    ...(local.LOCAL_AUTH_TOKEN
      ? {
          authTokens: {
            admin: local.LOCAL_AUTH_TOKEN,
            reader: local.LOCAL_READER_TOKEN ?? randomBytes(24).toString('base64url'),
          },
        }
      : {}),
    // Locally a claim goes stale sooner than in AWS (30 s): a restarted runtime recovers quickly.
    settings: pipelineSettingsFromEnv(env, { ...DEFAULT_SETTINGS, staleSeconds: 30 }),
    logLevel: local.LOG_LEVEL,
  };
}
