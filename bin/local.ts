/**
 * `npm start`: the whole system on this machine (DESIGN.md §7), configured by environment variables
 * (bin/local/local-env.ts: the local runtime's own, and the pipeline settings shared with AWS).
 */
import { asLog, createLogger } from '#lambdas/runtime/observability.ts';
import { localOptionsFromEnv } from './local/local-env.ts';
import { startLocalSystem } from './local/local-system.ts';

// The AWS SDK's notice that its 2027 releases will need Node 22 is for AWS deployments (the Lambdas
// run nodejs22.x); on a developer machine it is only noise at every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { logLevel, ...options } = localOptionsFromEnv(process.env);
process.env.POWERTOOLS_LOG_LEVEL ??= logLevel;
const logger = createLogger('local');
const env = {
  DATABASE_URL: options.databaseUrl,
  LOCAL_DATA_DIR: options.dataDir,
  PROCESSOR_CONCURRENCY: options.processorConcurrency,
  LOCAL_AUTH_TOKEN: options.authTokens?.admin,
};

const system = await startLocalSystem({ ...options, log: asLog(logger) });

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
  `queues: fauxqs (SQS emulator on a worker thread), ${env.PROCESSOR_CONCURRENCY} concurrent processor invocations ${
    system.processorThreads > 0
      ? `on ${system.processorThreads} worker thread${system.processorThreads === 1 ? '' : 's'}`
      : 'on the main thread'
  }`,
);
console.log(
  system.simulator
    ? `Azure DevOps: built-in simulator at ${system.simulator.url} (projects: Agile Project, Scrum Project, CMMI Project, Basic Project)`
    : 'Azure DevOps: the active configuration',
);
console.log(
  system.ardoqSimulator
    ? `Ardoq: built-in simulator at ${system.ardoqSimulator.url} (workspace "${system.ardoqSimulator.demoWorkspace.name}")`
    : 'Ardoq: the active configuration',
);
console.log(`listening on ${system.url}`);
// With tokens on, the examples carry the plain user's (a sync and its reads need no admin).
const auth = options.authTokens ? ` -H 'authorization: Bearer ${options.authTokens.reader}'` : '';
console.log('\nTry it:');
console.log(
  `  curl -s -X POST '${system.url}/api/azure-devops/projects/${encodeURIComponent(project)}/workitems'${auth} \\\n` +
    `    -H 'content-type: application/json' -d '${example}'`,
);
console.log(`  curl -s${auth} ${system.url}/api/sync-history/<sync_history_id from the answer>`);
console.log(
  `  curl -sN${auth} ${system.url}/api/sync-history/<sync_history_id>/events     # live progress (SSE)`,
);
console.log(`API description: ${system.url}/api/openapi.json`);
if (options.authTokens) {
  console.log("Authentication: every route but /api/health needs 'Authorization: Bearer <token>'");
  console.log('  admin (configuration writes too): $LOCAL_AUTH_TOKEN');
  console.log(`  plain user (reads and syncs):       ${options.authTokens.reader}`);
}

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
