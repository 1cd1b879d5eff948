import { parseArgs } from 'node:util';
import { startArdoqSimulator } from '#sim/ardoq/index.ts';
import { numberOption } from '#sim/shared/cli.ts';

// Runs the Ardoq REST API v2 simulator alone (for manual checks and `npm start`'s default Ardoq). Options come
// from flags, else from ARDOQ_SIM_* environment variables. It binds 127.0.0.1 only.

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    token: { type: 'string' },
    org: { type: 'string' },
    'latency-ms': { type: 'string' },
    'throttle-every': { type: 'string' },
    'page-size': { type: 'string' },
    seed: { type: 'string' },
    generate: { type: 'string' },
  },
  strict: true,
});

const env = process.env;
const port = numberOption('port', values.port ?? env.ARDOQ_SIM_PORT, 8082, { max: 65_535, integer: true });
const givenToken = values.token ?? env.ARDOQ_SIM_TOKEN;
// An empty label turns the X-org check off (as with a custom Ardoq domain).
const orgLabel = values.org ?? env.ARDOQ_SIM_ORG ?? 'demo-org';
const generate = numberOption('generate', values.generate ?? env.ARDOQ_SIM_GENERATE, 0, {
  max: 1_000_000,
  integer: true,
});

const sim = await startArdoqSimulator({
  port,
  ...(givenToken && { token: givenToken }),
  ...(orgLabel && { orgLabel }),
  seed: numberOption('seed', values.seed ?? env.ARDOQ_SIM_SEED, 1, { integer: true }),
  pageSize: numberOption('page-size', values['page-size'] ?? env.ARDOQ_SIM_PAGE_SIZE, 100, {
    min: 1,
    max: 10_000,
    integer: true,
  }),
  latencyMs: numberOption('latency-ms', values['latency-ms'] ?? env.ARDOQ_SIM_LATENCY_MS, 0, {
    integer: true,
  }),
  faults: {
    throttleEvery: numberOption(
      'throttle-every',
      values['throttle-every'] ?? env.ARDOQ_SIM_THROTTLE_EVERY,
      0,
      { integer: true },
    ),
  },
});
const generated =
  generate > 0 ? sim.generateWorkspace({ name: `Generated ${generate}`, components: generate }) : undefined;

console.log(`Ardoq simulator listening on ${sim.url} (API host; REST API v2 under /api/v2)`);
console.log(
  sim.orgLabel
    ? `  org label (send it as the X-org header): ${sim.orgLabel}`
    : '  org label: none (X-org is not checked)',
);
for (const workspace of [
  { ...sim.demoWorkspace, count: sim.demoWorkspace.components },
  { ...sim.edgeCases, count: Object.keys(sim.edgeCases.ids).length },
  { ...sim.emptyWorkspace, count: 0 },
  ...(generated ? [{ ...generated, count: generated.components }] : []),
]) {
  console.log(`  workspace "${workspace.name}" ${workspace.id} (${workspace.count} components)`);
}
if (!givenToken) {
  // Printed in full only because it is a throwaway token of this local simulator, not an Ardoq credential.
  console.log(`  generated local simulator token (not an Ardoq credential): ${sim.token}`);
} else {
  console.log('  token: the one given in --token / ARDOQ_SIM_TOKEN');
}

const stop = () => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
