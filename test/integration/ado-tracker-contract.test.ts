import { adoTrackerFactory } from '#adapters/ado-rest-work-item-tracker.ts';
import { startAdoSimulator } from '#sim/ado/index.ts';
import { describeTrackerContract } from '#test/support/tracker-contract.ts';

// The real REST adapter against the Azure DevOps simulator over loopback HTTP.
const PAT = 'contract-simulator-pat-0123456789abcdefghijklmnopqrstuv';

describeTrackerContract('AdoRestWorkItemTracker over the ADO simulator', async () => {
  const sim = await startAdoSimulator({ pat: PAT, port: 0, projectCreateDelayMs: 60 });
  const trackers = adoTrackerFactory({ allowedOrigins: [new URL(sim.url).origin] });
  return {
    tracker: trackers({ organization: sim.url, pat: PAT }),
    wrongPat: trackers({ organization: sim.url, pat: `${PAT}-wrong` }),
    baseUrl: sim.url,
    seedProject: (name, process) => sim.addProject(name, process),
    teardown: () => sim.close(),
  };
});
