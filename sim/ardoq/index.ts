/**
 * Ardoq simulator: a local stand-in for the Ardoq REST API v2 (read side: me, workspaces, workspace context,
 * components), written from the public contract at developer.ardoq.com only. Used by `npm start`,
 * `bin/ardoq-sim.ts`, the tests and the bench; never by the Lambdas (sim/README.md).
 */

export { levelCounts } from './generate.ts';
export { PLANNING_TYPES } from './model.ts';
export { DEMO_WORKSPACE_NAME } from './seed-demo.ts';
export {
  EDGE_CASES,
  EDGE_CASES_WORKSPACE_NAME,
  type EdgeCaseDef,
  EMPTY_WORKSPACE_NAME,
} from './seed-edge-cases.ts';
export {
  DEFAULT_PAGE_SIZE,
  DEFAULT_WORKSPACE_PAGE_SIZE,
  SIGN_IN_PAGE,
  startArdoqSimulator,
} from './server.ts';
export type {
  ArdoqComponentJson,
  ArdoqFaultKind,
  ArdoqFaults,
  ArdoqPathKind,
  ArdoqSimStats,
  ArdoqSimulator,
  ArdoqSimulatorOptions,
  ArdoqWorkspaceJson,
  ArdoqWorkspaceRef,
  EdgeCaseKey,
  EdgeCaseWorkspace,
  GeneratedWorkspace,
  GenerateWorkspaceOptions,
  NewArdoqComponent,
  RecordedRequest,
} from './types.ts';
export { ARDOQ_FAULT_KINDS } from './types.ts';
