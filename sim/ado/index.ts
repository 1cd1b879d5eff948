/** Azure DevOps Boards simulator: a test double of the REST 7.1 service, written from the REST contract only. */

export { PROCESS_NAMES } from './processes.ts';
export { startAdoSimulator } from './server.ts';
export type {
  AdoSimulator,
  AdoSimulatorOptions,
  FailNextKind,
  FailNextOp,
  ProcessName,
  SimFaults,
  SimProject,
  SimRelation,
  SimStats,
  SimWorkItem,
} from './types.ts';
