import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  PROCESS_NAMES,
  type ProcessName,
  RATE_LIMIT_FLAGS,
  type RateLimitFlag,
  type ResolvedRateLimit,
  rateLimitFromFlags,
  resolveRateLimit,
  startAdoSimulator,
} from '#sim/ado/index.ts';
import { numberOption } from '#sim/shared/cli.ts';

// Runs the Azure DevOps Boards simulator alone (for `npm start` and manual checks). Options come from flags,
// else from ADO_SIM_* environment variables. It binds 127.0.0.1 only.

const rateLimitFlags = Object.keys(RATE_LIMIT_FLAGS) as RateLimitFlag[];

const row = (flag: string, variable: string, help: string) =>
  `  ${flag.padEnd(30)}${variable.padEnd(34)}${help}`;
const USAGE = [
  'Usage: npm run ado-sim -- [options]   (each option also reads the environment variable shown)',
  '',
  row('--port N', 'ADO_SIM_PORT', 'loopback port (8081; 0: any free one)'),
  row('--pat TOKEN', 'ADO_SIM_PAT', 'the only PAT accepted (default: a random one, printed)'),
  row('--projects "Name:Process,…"', 'ADO_SIM_PROJECTS', 'projects (default: one per process)'),
  row('--seed N', 'ADO_SIM_SEED', 'seed of the fault rates (1)'),
  row('--latency-ms N', 'ADO_SIM_LATENCY_MS', 'milliseconds added to every answer (0)'),
  row('--throttle-rate R', 'ADO_SIM_THROTTLE_RATE', 'share of requests answered 429 (0..1)'),
  row('--error-rate R', 'ADO_SIM_ERROR_RATE', 'share of requests answered 503 (0..1)'),
  row('--drop-rate R', 'ADO_SIM_DROP_RATE', 'share of creates answered by a closed socket (0..1)'),
  '',
  "Rate limit (Azure DevOps' TSTU throttling; off unless --rate-limit-tstu is above 0): answers carry",
  'X-RateLimit-* headers from usage >= warn fraction x limit, are held (X-RateLimit-Delay, Retry-After)',
  'from usage >= limit, and are refused 429 TF400733 from usage >= limit x hard factor.',
  '',
  ...rateLimitFlags.map((flag) => row(`--${flag} N`, RATE_LIMIT_FLAGS[flag][0], RATE_LIMIT_FLAGS[flag][2])),
].join('\n');

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string' },
    'latency-ms': { type: 'string' },
    'throttle-rate': { type: 'string' },
    'error-rate': { type: 'string' },
    'drop-rate': { type: 'string' },
    pat: { type: 'string' },
    projects: { type: 'string' },
    seed: { type: 'string' },
    ...Object.fromEntries(rateLimitFlags.map((flag) => [flag, { type: 'string' as const }])),
  },
  strict: true,
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** "Agile Project:Agile,Scrum Project:Scrum": the process follows the last colon of each entry. */
function parseProjects(raw: string | undefined): Array<{ name: string; process: ProcessName }> | undefined {
  if (!raw) return undefined;
  return raw.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    const name = entry.slice(0, at).trim();
    const process = PROCESS_NAMES.find(
      (p) =>
        p.toLowerCase() ===
        entry
          .slice(at + 1)
          .trim()
          .toLowerCase(),
    );
    if (at < 1 || !name || !process) {
      throw new Error(
        `--projects entry "${entry}" must be "Name:Process" with Process one of ${PROCESS_NAMES.join(', ')}`,
      );
    }
    return { name, process };
  });
}

const env = process.env;
const port = numberOption('port', values.port ?? env.ADO_SIM_PORT, 8081, { max: 65_535 });
const generatedPat = !(values.pat ?? env.ADO_SIM_PAT);
const pat = values.pat ?? env.ADO_SIM_PAT ?? randomBytes(26).toString('base64url');
const projects = parseProjects(values.projects ?? env.ADO_SIM_PROJECTS);
const seedRaw = values.seed ?? env.ADO_SIM_SEED;
const rateLimit = rateLimitFromFlags(
  Object.fromEntries(
    rateLimitFlags.map((flag) => [flag, (values as Record<string, unknown>)[flag] as string]),
  ),
  env,
);

const sim = await startAdoSimulator({
  pat,
  port,
  ...(projects && { projects }),
  ...(seedRaw !== undefined && { seed: numberOption('seed', seedRaw, 1) }),
  faults: {
    latencyMs: numberOption('latency-ms', values['latency-ms'] ?? env.ADO_SIM_LATENCY_MS, 0),
    throttleRate: numberOption('throttle-rate', values['throttle-rate'] ?? env.ADO_SIM_THROTTLE_RATE, 0, {
      max: 1,
    }),
    errorRate: numberOption('error-rate', values['error-rate'] ?? env.ADO_SIM_ERROR_RATE, 0, { max: 1 }),
    dropRate: numberOption('drop-rate', values['drop-rate'] ?? env.ADO_SIM_DROP_RATE, 0, { max: 1 }),
    ...(rateLimit && { rateLimit }),
  },
});

console.log(`ADO simulator listening on ${sim.url} (organization base URL)`);
for (const project of projects ?? PROCESS_NAMES.map((p) => ({ name: `${p} Project`, process: p }))) {
  console.log(`  project "${project.name}" (${project.process} process)`);
}
if (rateLimit) {
  const { windowMs, maxDelayMs } = resolveRateLimit(rateLimit) as ResolvedRateLimit;
  console.log(
    `  rate limit: ${rateLimit.limitTstu} TSTU per ${windowMs} ms (held up to ${maxDelayMs} ms, then 429)`,
  );
}
if (generatedPat) {
  // Printed in full only because it is a throwaway token of this local simulator, not a real credential.
  console.log(`  generated local simulator PAT (not an Azure DevOps credential): ${pat}`);
}

const stop = () => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
