/**
 * `npm start`: the whole system on this machine (DESIGN.md §7). Configuration by environment:
 * PORT (3000), LOCAL_DATA_DIR (.data), DATABASE_URL (PGlite when unset), PROCESSOR_CONCURRENCY (4),
 * ADO_ORGANIZATION + ADO_PAT (a real organization; otherwise the built-in simulator on ADO_SIM_PORT,
 * default 8081), ADO_ALLOWED_ORIGINS (comma-separated origins a PAT may be sent to besides
 * https://dev.azure.com and https://{organization}.visualstudio.com, e.g. an Azure DevOps Server
 * `https://ado.corp.example` or a stand-in `http://127.0.0.1:8080`; plain http only for loopback; the
 * built-in simulator's origin is always allowed), SWEEP_INTERVAL_SECONDS (60), CORS_ORIGINS,
 * LOCAL_AUTH_TOKEN (require a bearer token), LOG_LEVEL.
 */
import * as z from 'zod';
import { organizationProblem, parseAllowedOrigins } from '#core/configurations/ado-organization.ts';
import { asLog, createLogger } from '#lambdas/runtime/observability.ts';
import { startLocalSystem } from './local/local-system.ts';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  LOCAL_DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z.string().min(1).optional(),
  PROCESSOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  ADO_ORGANIZATION: z.string().min(1).optional(),
  ADO_PAT: z.string().min(1).optional(),
  ADO_SIM_PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  ADO_ALLOWED_ORIGINS: z.string().optional(),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().min(1).default(60),
  CORS_ORIGINS: z.string().optional(),
  LOCAL_AUTH_TOKEN: z.string().min(16, 'LOCAL_AUTH_TOKEN must be at least 16 characters').optional(),
});

const env = Env.parse(process.env);
if (env.ADO_ORGANIZATION && !env.ADO_PAT) throw new Error('ADO_ORGANIZATION needs ADO_PAT');
const adoAllowedOrigins = parseAllowedOrigins(env.ADO_ALLOWED_ORIGINS);
const organizationRefused =
  env.ADO_ORGANIZATION === undefined
    ? undefined
    : organizationProblem(env.ADO_ORGANIZATION, adoAllowedOrigins);
if (organizationRefused) throw new Error(`ADO_ORGANIZATION: ${organizationRefused}`);
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';
const logger = createLogger('local');

const system = await startLocalSystem({
  port: env.PORT,
  dataDir: env.LOCAL_DATA_DIR,
  ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  processorConcurrency: env.PROCESSOR_CONCURRENCY,
  sweepIntervalMs: env.SWEEP_INTERVAL_SECONDS * 1000,
  simulatorPort: env.ADO_SIM_PORT,
  adoAllowedOrigins,
  ...(env.ADO_ORGANIZATION && env.ADO_PAT
    ? { organization: { name: env.ADO_ORGANIZATION, pat: env.ADO_PAT } }
    : {}),
  ...(env.CORS_ORIGINS ? { corsOrigins: env.CORS_ORIGINS.split(',').map((o) => o.trim()) } : {}),
  ...(env.LOCAL_AUTH_TOKEN ? { authToken: env.LOCAL_AUTH_TOKEN } : {}),
  log: asLog(logger),
});

const project = system.simulator ? 'Agile Project' : '<your project>';
const example = JSON.stringify({
  epics: [
    {
      _id: 'epic-1',
      name: 'Checkout revamp',
      type: 'Epic',
      children: [
        {
          _id: 'feature-1',
          name: 'One-page checkout',
          type: 'Feature',
          children: [{ _id: 'story-1', name: 'Pay with a saved card', type: 'User Story', priority: 'high' }],
        },
      ],
    },
  ],
});
console.log(
  `database: ${env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${env.LOCAL_DATA_DIR}/pglite`}`,
);
console.log(
  `queues: fauxqs (SQS emulator on a worker thread), ${env.PROCESSOR_CONCURRENCY} concurrent processor invocations`,
);
console.log(
  system.simulator
    ? `Azure DevOps: built-in simulator at ${system.simulator.url} (projects: Agile Project, Scrum Project, CMMI Project, Basic Project)`
    : 'Azure DevOps: the active configuration',
);
console.log(`listening on ${system.url}`);
console.log('\nTry it:');
console.log(
  `  curl -s -X POST '${system.url}/api/azure-devops/projects/${encodeURIComponent(project)}/workitems' \\\n` +
    `    -H 'content-type: application/json' -d '${example}'`,
);
console.log(`  curl -s ${system.url}/api/sync-history/<sync_history_id from the answer>`);
console.log(`  curl -sN ${system.url}/api/sync-history/<sync_history_id>/events     # live progress (SSE)`);
console.log(`API description: ${system.url}/api/openapi.json`);
if (env.LOCAL_AUTH_TOKEN)
  console.log("Authentication: every route but /api/health needs 'Authorization: Bearer $LOCAL_AUTH_TOKEN'");

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping…');
  await system.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
