import { badRequest, coreError, invalidProject, operationNotFound, projectAlreadyExists } from './errors.ts';
import type { FaultPlan } from './faults.ts';
import type { Outcome, RouteRequest } from './route-types.ts';
import type { SimState } from './state.ts';
import { coreProcessJson, operationJson, processJson, projectJson, teamProjectJson } from './wire.ts';

/**
 * The core area's endpoints: projects (list with continuation, get, create through an operation),
 * operations and processes. Wordings marked "unverified" were not captured from a real organization.
 */

const DEFAULT_PAGE_SIZE = 100;

const ok = (json: unknown, headers?: Record<string, string>): Outcome => ({
  status: 200,
  json,
  ...(headers && { headers }),
});

/** A non-negative integer query parameter; undefined when absent. */
function intParam(query: URLSearchParams, name: string, min: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min)
    throw badRequest(
      `The value '${raw}' of the ${name} parameter is not valid.`,
      'InvalidQueryParameterException',
    );
  return value;
}

// The project states a list can be filtered on (ProjectState); the simulator deletes no project.
const STATE_FILTERS = ['wellformed', 'createpending', 'new', 'all', 'deleting', 'deleted', 'unchanged'];

/** The continuation token is opaque to clients: here, the creation order of the next project to answer. */
const encodeToken = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');
function decodeToken(token: string): number {
  const seq = /^seq:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))?.[1];
  // Unverified wording.
  if (seq === undefined)
    throw badRequest('The continuation token is not valid.', 'InvalidContinuationTokenException');
  return Number(seq);
}

/**
 * `GET /_apis/projects`: creation order, `stateFilter` (default wellFormed: a project under creation is
 * listed only with createPending/new/all), `$top` (default the page size), `$skip`, and
 * `x-ms-continuationtoken` while more remain.
 */
export function listProjects(state: SimState, req: RouteRequest): Outcome {
  const filter = (req.query.get('stateFilter') ?? 'wellFormed').toLowerCase();
  if (!STATE_FILTERS.includes(filter))
    throw badRequest(
      `The value '${req.query.get('stateFilter')}' of stateFilter is not a valid project state.`,
    );
  const top = intParam(req.query, '$top', 1);
  const skip = intParam(req.query, '$skip', 0) ?? 0;
  const token = req.query.get('continuationToken');
  const from = token ? decodeToken(token) : 0;
  let pageSize = top ?? state.projectPageSize ?? DEFAULT_PAGE_SIZE;
  if (state.projectMaxPageSize !== undefined) pageSize = Math.min(pageSize, state.projectMaxPageSize);
  pageSize = Math.max(1, pageSize);

  const matching = state
    .allProjects()
    .filter((p) => p.seq >= from)
    .filter((p) => filter === 'all' || state.projectState(p).toLowerCase() === filter)
    .slice(skip);
  const page = matching.slice(0, pageSize);
  const next = matching[pageSize];
  const value = page.map((p) => projectJson(state, p));
  return ok(
    { count: value.length, value },
    next ? { 'x-ms-continuationtoken': encodeToken(next.seq) } : undefined,
  );
}

/** `GET /_apis/projects/{projectIdOrName}`: a usable project only (one being created is not found yet). */
export function getProject(state: SimState, req: RouteRequest, nameOrId: string): Outcome {
  const project = state.project(nameOrId);
  const capabilities = req.query.get('includeCapabilities')?.toLowerCase() === 'true';
  return ok(teamProjectJson(state, project, capabilities));
}

// biome-ignore format: a list of names
const RESERVED_NAMES = new Set([
  'aux', 'com1', 'com2', 'com3', 'com4', 'com5', 'com6', 'com7', 'com8', 'com9', 'com10', 'con',
  'defaultcollection', 'lpt1', 'lpt2', 'lpt3', 'lpt4', 'lpt5', 'lpt6', 'lpt7', 'lpt8', 'lpt9', 'nul', 'prn',
  'server', 'signalr', 'web', 'app_browsers', 'app_code', 'app_data', 'app_globalresources',
  'app_localresources', 'app_themes', 'app_webresources', 'bin', 'web.config',
]);
const FORBIDDEN_CHARS = /[\\/:*?"<>|;#${},+=[\]]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL_OR_SURROGATE = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

/**
 * Why a project name breaks the service's naming restrictions (learn.microsoft.com, "Naming
 * restrictions", project names), or undefined when it is valid.
 */
export function projectNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'it is empty';
  if (name.length > 64) return 'it is longer than 64 characters';
  if (CONTROL_OR_SURROGATE.test(name)) return 'it contains a control or surrogate character';
  const forbidden = FORBIDDEN_CHARS.exec(name)?.[0];
  if (forbidden) return `it contains the character ${forbidden}`;
  if (name.startsWith('_')) return 'it starts with an underscore';
  if (name.startsWith('.') || name.endsWith('.')) return 'it starts or ends with a period';
  if (RESERVED_NAMES.has(name.toLowerCase())) return 'it is a reserved name';
  return undefined;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/**
 * `POST /_apis/projects`: validates like the service (name, capabilities, process, visibility), refuses a
 * name in use with 409 TF200019, then queues the creation and answers 202 with its operation.
 */
export function createProject(state: SimState, plan: FaultPlan, body: Record<string, unknown>): Outcome {
  const { name, description } = body;
  if (typeof name !== 'string') throw invalidProject('The project name is required.');
  const problem = projectNameProblem(name);
  if (problem) throw invalidProject(`The project name '${name}' is not valid: ${problem}.`);
  if (description !== undefined && description !== null && typeof description !== 'string')
    throw invalidProject('The project description must be a string.');

  const capabilities = record(body.capabilities);
  const templateTypeId = record(capabilities?.processTemplate)?.templateTypeId;
  const sourceControl = record(capabilities?.versioncontrol)?.sourceControlType;
  if (!capabilities || typeof templateTypeId !== 'string' || typeof sourceControl !== 'string') {
    throw invalidProject(
      'The project capabilities are required: capabilities.processTemplate.templateTypeId and capabilities.versioncontrol.sourceControlType.',
    );
  }
  const sourceControlType = (['Git', 'Tfvc'] as const).find(
    (t) => t.toLowerCase() === sourceControl.toLowerCase(),
  );
  if (!sourceControlType)
    throw invalidProject(`The source control type '${sourceControl}' is not valid: use Git or Tfvc.`);
  const process = state.processes.find((p) => p.typeId === templateTypeId.toLowerCase());
  if (!process) throw invalidProject(`The process template type id '${templateTypeId}' is not valid.`);
  if (!process.isEnabled)
    throw invalidProject(`The process '${process.name}' is disabled: a project cannot be created with it.`);

  const rawVisibility = body.visibility ?? 'private';
  const visibility = (['private', 'public'] as const).find(
    (v) => typeof rawVisibility === 'string' && v === rawVisibility.toLowerCase(),
  );
  if (!visibility) throw invalidProject(`The project visibility '${String(rawVisibility)}' is not valid.`);

  const taken = state.nameTaken(name);
  if (taken) throw projectAlreadyExists(name);

  const operation = state.queueProjectCreation(
    {
      name,
      process,
      ...(typeof description === 'string' && { description }),
      visibility,
      sourceControlType,
    },
    plan.projectCreation(),
  );
  return { status: 202, json: operationJson(state, operation, false) };
}

/** `GET /_apis/operations/{operationId}`. */
export function getOperation(state: SimState, id: string): Outcome {
  const operation = state.operations.get(id.toLowerCase());
  if (!operation) throw operationNotFound(id);
  return ok(operationJson(state, operation, true));
}

/** `GET /_apis/work/processes[/{processTypeId}]`, `$expand=projects` adds each process's projects. */
export function workProcesses(state: SimState, req: RouteRequest, typeId?: string): Outcome {
  const expand = (req.query.get('$expand') ?? '').toLowerCase() === 'projects';
  if (typeId === undefined) {
    const value = state.processes.map((p) => processJson(state, p, expand));
    return ok({ count: value.length, value });
  }
  return ok(processJson(state, findProcessById(state, typeId), expand));
}

/** `GET /_apis/process/processes[/{processId}]` (the core area's view of the same processes). */
export function coreProcesses(state: SimState, id?: string): Outcome {
  if (id === undefined) {
    const value = state.processes.map((p) => coreProcessJson(state, p));
    return ok({ count: value.length, value });
  }
  return ok(coreProcessJson(state, findProcessById(state, id)));
}

function findProcessById(state: SimState, typeId: string) {
  const process = state.processes.find((p) => p.typeId === typeId.toLowerCase());
  // Unverified wording and typeKey.
  if (!process)
    throw coreError(404, `The process with type id ${typeId} does not exist.`, 'ProcessNotFoundException');
  return process;
}
