import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PROCESS_NAMES, type ProcessName, startAdoSimulator } from '#sim/ado/index.ts';
import { numberOption } from '#sim/shared/cli.ts';

// Runs the Azure DevOps Boards simulator alone (for `npm start` and manual checks). Options come from flags,
// else from ADO_SIM_* environment variables. It binds 127.0.0.1 only.

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'latency-ms': { type: 'string' },
    'throttle-rate': { type: 'string' },
    'error-rate': { type: 'string' },
    'drop-rate': { type: 'string' },
    pat: { type: 'string' },
    projects: { type: 'string' },
    seed: { type: 'string' },
  },
  strict: true,
});

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
  },
});

console.log(`ADO simulator listening on ${sim.url} (organization base URL)`);
for (const project of projects ?? PROCESS_NAMES.map((p) => ({ name: `${p} Project`, process: p }))) {
  console.log(`  project "${project.name}" (${project.process} process)`);
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
