import { badRequest, workItemNotFound } from './errors.ts';
import type { Outcome, RouteRequest } from './route-types.ts';
import type { ItemRecord, SimState } from './state.ts';
import { parseWiql, runWiql, WIQL_RESULT_LIMIT } from './wiql.ts';
import { workItemJson } from './wire.ts';

/** Endpoints that take lists of ids or find them: workitemsbatch, wiql, workitemsdelete. */

export const MAX_BATCH = 200;

const ok = (json: unknown): Outcome => ({ status: 200, json });
const list = (value: unknown[]): Outcome => ok({ count: value.length, value });

function idList(raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((id) => Number.isInteger(id) && id > 0)) {
    throw badRequest('VS403437: The ids parameter must be a non-empty list of work item ids.');
  }
  if (raw.length > MAX_BATCH) {
    throw badRequest(`VS403474: The number of work item ids exceeds the limit of ${MAX_BATCH}.`);
  }
  return raw as number[];
}

export function workItemsBatch(state: SimState, body: Record<string, unknown>): Outcome {
  const ids = idList(body.ids);
  const expand = String(body.$expand ?? 'none').toLowerCase();
  if (!['none', 'relations', 'fields', 'links', 'all'].includes(expand)) {
    throw badRequest(
      `The $expand value '${String(body.$expand)}' is not valid: None, Relations, Fields, Links or All.`,
    );
  }
  const fields = body.fields;
  if (
    fields !== undefined &&
    fields !== null &&
    !(Array.isArray(fields) && fields.every((f) => typeof f === 'string'))
  ) {
    throw badRequest('The fields parameter must be a list of field reference names.');
  }
  if (Array.isArray(fields) && fields.length > 0 && expand !== 'none') {
    throw badRequest('The expand parameter can not be used with the fields parameter.');
  }
  const policy = String(body.errorPolicy ?? 'fail').toLowerCase();
  if (policy !== 'fail' && policy !== 'omit')
    throw badRequest(`The errorPolicy '${String(body.errorPolicy)}' is not valid: Fail or Omit.`);
  const view = {
    relations: expand === 'relations' || expand === 'all',
    links: expand === 'links' || expand === 'all',
    ...(Array.isArray(fields) && fields.length > 0 && { fields: fields as string[] }),
  };
  // With errorPolicy Omit the service keeps the position of a missing item and answers null there.
  const value = ids.map((id) => {
    const item = state.live(id);
    if (item) return workItemJson(state, item, view);
    if (policy === 'fail') throw workItemNotFound(id);
    return null;
  });
  return list(value);
}

export function wiql(
  state: SimState,
  req: RouteRequest,
  body: Record<string, unknown>,
  project: string,
): Outcome {
  if (typeof body.query !== 'string' || !body.query.trim())
    throw badRequest('VS402782: The query text is missing.');
  const query = parseWiql(body.query);
  const timePrecision = req.query.get('timePrecision')?.toLowerCase() === 'true';
  let ids = runWiql(query, state.items.values(), project, timePrecision);
  const top = req.query.get('$top');
  if (top !== null) {
    ids = ids.slice(0, Math.max(0, Number(top) || 0));
  } else if (ids.length > WIQL_RESULT_LIMIT) {
    throw badRequest(
      `VS402337: The number of work items returned exceeds the size limit of ${WIQL_RESULT_LIMIT}. Change the query to return fewer work items.`,
      'WorkItemTrackingQueryResultSizeLimitExceededException',
    );
  }
  const idColumn = {
    referenceName: 'System.Id',
    name: 'ID',
    url: `${state.baseUrl}/_apis/wit/fields/System.Id`,
  };
  return ok({
    queryType: 'flat',
    queryResultType: 'workItem',
    asOf: new Date().toISOString(),
    columns: [idColumn],
    sortColumns: [{ field: idColumn, descending: query.descending }],
    workItems: ids.map((id) => ({ id, url: state.itemUrl(id) })),
  });
}

export function deleteItems(state: SimState, body: Record<string, unknown>): Outcome {
  const ids = idList(body.ids);
  const destroy = body.destroy === true;
  const deletedDate = new Date().toISOString();
  const results = ids.map((id) => {
    const item: ItemRecord | undefined = state.items.get(id);
    if (!item || (item.deleted && !destroy)) {
      return { code: 404, id, message: workItemNotFound(id).message };
    }
    if (destroy) {
      state.items.delete(id);
      return { code: 200, id, message: null };
    }
    item.deleted = true;
    return {
      code: 200,
      id,
      message: null,
      name: item.fields['System.Title'],
      project: item.project,
      type: item.type,
      deletedBy: `${state.identity.displayName} <${state.identity.uniqueName}>`,
      deletedDate,
      url: `${state.baseUrl}/_apis/wit/recyclebin/${id}`,
      resource: workItemJson(state, item, { relations: true, links: false }),
    };
  });
  return ok({ results });
}
