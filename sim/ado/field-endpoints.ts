import { coreError, SimHttpError, typeNotFound } from './errors.ts';
import {
  fieldExpand,
  fieldInstanceJson,
  processFieldJson,
  processTypeJson,
  workItemFieldJson,
} from './field-wire.ts';
import { fieldsOf, findTypeByReference, PROCESS_NAMES, PROCESSES, type TypeDef } from './processes.ts';
import type { Outcome, RouteRequest } from './route-types.ts';
import type { ProcessRecord, ProjectRecord, SimState } from './state.ts';

/**
 * Field and type discovery: the field definitions of a project or of the organization (`_apis/wit/fields`),
 * a project type's fields with `$expand`, and the process-level API (`_apis/work/processes/{id}/
 * workItemTypes[/{ref}/fields]`), which describes a process without a project.
 */

const ok = (json: unknown): Outcome => ({ status: 200, json });
const list = (value: unknown[]): Outcome => ok({ count: value.length, value });

/**
 * `GET [{project}/]_apis/wit/fields`: a project's fields are those of its process's types; the
 * organization's, those of every process. That the project-level list stops at its process is the
 * simulator's reading (unverified: the service may list the whole organization's fields there too).
 * `$expand` (extensionFields, includeDeleted) changes nothing here: the simulator has neither.
 */
export function listFields(state: SimState, project: ProjectRecord | undefined): Outcome {
  const fields = fieldsOf(project ? [project.process] : PROCESS_NAMES);
  return list(fields.map((field) => workItemFieldJson(state, field)));
}

/** `GET [{project}/]_apis/wit/fields/{fieldNameOrRefName}`; unknown → 404 TF51535 (status unverified). */
export function getField(state: SimState, project: ProjectRecord | undefined, name: string): Outcome {
  const wanted = name.toLowerCase();
  const field = fieldsOf(project ? [project.process] : PROCESS_NAMES).find(
    (d) => d.referenceName.toLowerCase() === wanted || d.name.toLowerCase() === wanted,
  );
  if (!field)
    throw new SimHttpError(404, `TF51535: Cannot find field ${name}.`, 'WorkItemFieldInvalidException');
  return ok(workItemFieldJson(state, field));
}

/**
 * `GET {project}/_apis/wit/workitemtypes/{type}/fields`: WorkItemTypeFieldInstance, with `allowedValues`
 * only for `$expand=allowedValues` (or `all`) and `dependentFields` only for `$expand=dependentFields` (or
 * `all`), as the service answers.
 */
export function typeFields(
  state: SimState,
  req: RouteRequest,
  project: ProjectRecord,
  type: TypeDef,
): Outcome {
  const expand = fieldExpand(req.query.get('$expand'));
  const types = PROCESSES[project.process];
  return list(type.fields.map((field) => fieldInstanceJson(state, project.id, field, type, types, expand)));
}

function processById(state: SimState, typeId: string): ProcessRecord {
  const process = state.processes.find((p) => p.typeId === typeId.toLowerCase());
  // Same answer as `GET _apis/work/processes/{id}` for an unknown id (wording and typeKey unverified).
  if (!process)
    throw coreError(404, `The process with type id ${typeId} does not exist.`, 'ProcessNotFoundException');
  return process;
}

/**
 * `GET _apis/work/processes/{processTypeId}/workItemTypes`: ProcessWorkItemType. An inherited process
 * answers its system parent's types (it customizes none in the simulator).
 */
export function processTypes(state: SimState, typeId: string): Outcome {
  const process = processById(state, typeId);
  return list(PROCESSES[process.base].map((type) => processTypeJson(state, process, type)));
}

/**
 * `GET _apis/work/processes/{processTypeId}/workItemTypes/{witRefName}/fields`: ProcessWorkItemTypeField.
 * The type is named by its reference name; a display name or an unknown one answers the project-level
 * API's 404 VS402323 (the process API's own wording is unverified).
 */
export function processTypeFields(state: SimState, typeId: string, witRefName: string): Outcome {
  const process = processById(state, typeId);
  const type = findTypeByReference(process.base, witRefName);
  if (!type) throw typeNotFound(witRefName);
  return list(type.fields.map((field) => processFieldJson(state, process, field)));
}
