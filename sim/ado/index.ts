/**
 * Azure DevOps Boards simulator: a local stand-in for the REST 7.1 service, written from the REST contract
 * only. Used by `npm start`, `npm run ado-sim`, the tests and the bench; never by the Lambdas (sim/README.md).
 */

export { PROCESS_NAMES, SYSTEM_PROCESSES, type SystemProcessDef } from './processes.ts';
export {
  RATE_LIMIT_DEFAULTS,
  RATE_LIMIT_FLAGS,
  type RateLimitFlag,
  type ResolvedRateLimit,
  rateLimitFromFlags,
  resolveRateLimit,
} from './rate-limit.ts';
export { startAdoSimulator } from './server.ts';
export type {
  AdoProjectControls,
  AdoSimulator,
  AdoSimulatorOptions,
  FailNextKind,
  FailNextOp,
  InheritedProcessOptions,
  ProcessName,
  SimFaults,
  SimOperation,
  SimOperationStatus,
  SimProcess,
  SimProject,
  SimProjectInfo,
  SimProjectState,
  SimRateLimit,
  SimRelation,
  SimStats,
  SimWorkItem,
} from './types.ts';
