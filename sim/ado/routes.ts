import { createWorkItem, parseCreatePatch, titleOf } from './create.ts';
import { badRequest, ruleError, SimHttpError } from './errors.ts';
import type { CreateFault, FaultPlan } from './faults.ts';
import { getField, listFields, processTypeFields, processTypes, typeFields } from './field-endpoints.ts';
import { deleteItems, wiql, workItemsBatch } from './id-endpoints.ts';
import { FIELDS, PROCESSES } from './processes.ts';
import {
  coreProcesses,
  createProject,
  getOperation,
  getProject,
  listProjects,
  workProcesses,
} from './project-endpoints.ts';
import type { Outcome, RouteRequest } from './route-types.ts';
import type { ProjectRecord, SimState } from './state.ts';
import { typeJson, workItemJson } from './wire.ts';

/** Endpoint handlers: from a decoded request to an answer, or a SimHttpError. */

export type { Outcome, RouteRequest } from './route-types.ts';

const ok = (json: unknown): Outcome => ({ status: 200, json });
const list = (value: unknown[]): Outcome => ok({ count: value.length, value });

const methodNotAllowed = (method: string) =>
  new SimHttpError(
    405,
    `The requested resource does not support http method '${method}'.`,
    'HttpMethodNotAllowed',
  );
const notFound = () =>
  new SimHttpError(
    404,
    'The controller for the requested path was not found (unknown API route).',
    'RouteNotFound',
  );

function requireContentType(req: RouteRequest, wanted: string): void {
  const got = req.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (got !== wanted) {
    throw new SimHttpError(
      415,
      `The request indicated a Content-Type of "${got || 'none'}" for method type "${req.method}" which is not supported. Valid content types for this method are: ${wanted}.`,
      'UnsupportedMediaType',
    );
  }
}

function jsonBody(req: RouteRequest): Record<string, unknown> {
  requireContentType(req, 'application/json');
  try {
    const parsed: unknown = JSON.parse(req.body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw badRequest('The request body could not be read as a JSON object.', 'VssRequestContentException');
}

const one = (values: string[], wanted: string[]) =>
  values.length === wanted.length && values.every((v, i) => v === wanted[i]);

export function route(state: SimState, plan: FaultPlan, req: RouteRequest): Outcome {
  const rest = req.rest.map((s, i) => (i < 2 ? s.toLowerCase() : s));
  const [area, resource, third, fourth] = rest;
  const expect = (method: string) => {
    if (req.method !== method) throw methodNotAllowed(req.method);
  };

  if (req.project === undefined) {
    const id = req.rest[1];
    if (one(rest, ['projects'])) {
      if (req.method === 'POST') return createProject(state, plan, jsonBody(req));
      expect('GET');
      return listProjects(state, req);
    }
    if (area === 'projects' && id !== undefined && rest.length === 2) {
      expect('GET');
      return getProject(state, req, id);
    }
    if (area === 'operations' && id !== undefined && rest.length === 2) {
      expect('GET');
      return getOperation(state, id);
    }
    if (area === 'work' && resource === 'processes' && rest.length <= 3) {
      expect('GET');
      return workProcesses(state, req, req.rest[2]);
    }
    // The process-level API: a process's types, and a type's fields.
    if (area === 'work' && resource === 'processes' && fourth?.toLowerCase() === 'workitemtypes') {
      const [typeId = '', , witRefName, last] = req.rest.slice(2);
      if (rest.length === 4) {
        expect('GET');
        return processTypes(state, typeId);
      }
      if (rest.length === 6 && witRefName !== undefined && last?.toLowerCase() === 'fields') {
        expect('GET');
        return processTypeFields(state, typeId, witRefName);
      }
    }
    if (area === 'process' && resource === 'processes' && rest.length <= 3) {
      expect('GET');
      return coreProcesses(state, req.rest[2]);
    }
  }
  if (area === 'wit' && resource === 'workitemsbatch' && rest.length === 2) {
    expect('POST');
    if (req.project !== undefined) state.project(req.project);
    return workItemsBatch(state, jsonBody(req));
  }
  if (area === 'wit' && resource === 'fields' && rest.length <= 3) {
    expect('GET');
    const scope = req.project === undefined ? undefined : state.project(req.project);
    return third === undefined ? listFields(state, scope) : getField(state, scope, third);
  }
  if (req.project === undefined || area !== 'wit') throw notFound();

  const project = state.project(req.project);
  if (resource === 'workitemtypes') {
    expect('GET');
    if (rest.length === 2) return list(PROCESSES[project.process].map((t) => typeJson(state, project, t)));
    const type = state.type(project, third ?? '');
    if (rest.length === 3) return ok(typeJson(state, project, type));
    if (rest.length === 4 && fourth?.toLowerCase() === 'fields') return typeFields(state, req, project, type);
  }
  if (resource === 'workitems' && rest.length === 3 && third?.startsWith('$')) {
    expect('POST');
    return create(state, plan, req, project, third.slice(1));
  }
  if (resource === 'wiql' && rest.length === 2) {
    expect('POST');
    return wiql(state, req, jsonBody(req), project.name);
  }
  if (resource === 'workitemsdelete' && rest.length === 2) {
    expect('POST');
    return deleteItems(state, jsonBody(req));
  }
  throw notFound();
}

function create(
  state: SimState,
  plan: FaultPlan,
  req: RouteRequest,
  project: ProjectRecord,
  typeName: string,
): Outcome {
  const type = state.type(project, typeName);
  requireContentType(req, 'application/json-patch+json');
  if (req.query.get('bypassRules')?.toLowerCase() === 'true') {
    throw new SimHttpError(
      403,
      'TF401289: The current user does not have permission to bypass work item rules.',
      'UnauthorizedAccessException',
    );
  }
  if (req.query.get('validateOnly')?.toLowerCase() === 'true') {
    throw badRequest('validateOnly is not supported by the Azure DevOps simulator.');
  }
  let patch: unknown;
  try {
    patch = JSON.parse(req.body);
  } catch {
    patch = undefined;
  }
  const input = parseCreatePatch(type, patch);
  const fault: CreateFault | undefined = plan.create(titleOf(input));
  if (fault === 'throttle' || fault === 'unavailable') return { fault };
  if (fault === 'reject') throw ruleError('Title', FIELDS.title.referenceName, 'InvalidListValue');
  const item = createWorkItem(state, project, type, input);
  return {
    status: 200,
    json: workItemJson(state, item, { relations: true, links: true }),
    drop: fault === 'drop',
  };
}
