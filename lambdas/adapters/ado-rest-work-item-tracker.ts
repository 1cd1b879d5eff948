import { isLoopbackHost, parseAllowedOrigins, resolveAdoBaseUrl } from '#core/domain/ado-organization.ts';
import {
  type AdoOperation,
  type AdoProcess,
  type AdoProject,
  type AdoProjectDetails,
  AdoRejectedError,
  AdoTransientError,
  type CreatedWorkItem,
  type CreateWorkItemOptions,
  type FieldDefinition,
  type FieldInstance,
  type NewAdoProject,
  type NewWorkItem,
  type ProcessTypeInfo,
  type TrackerConnection,
  type WorkItemDetails,
  type WorkItemSearch,
  type WorkItemTracker,
  type WorkItemTrackerFactory,
  type WorkItemTypeInfo,
} from '#core/ports/work-item-tracker.ts';
import { AdoHttpClient, type AdoHttpOptions, type AdoRequest } from './ado-http.ts';
import { errorCodeOf } from './ado-response.ts';
import { buildWiqlQuery } from './ado-wiql.ts';
import {
  asArray,
  asRecord,
  createPatch,
  identityOf,
  toWorkItemDetails,
  webUrlOf,
} from './ado-work-item-json.ts';

export { parseAllowedOrigins, resolveAdoBaseUrl } from '#core/domain/ado-organization.ts';
export { DEFAULT_ADO_TIMEOUT_MS } from './ado-http.ts';
export { buildWiqlQuery, escapeWiqlString } from './ado-wiql.ts';

export interface AdoRestWorkItemTrackerOptions extends AdoHttpOptions {
  /**
   * Origins a PAT may go to besides dev.azure.com and `{organization}.visualstudio.com`
   * (`ADO_ALLOWED_ORIGINS`). `adoTrackerFactory` always passes it. Omitted only by tests that build the
   * class directly against a local stand-in: then any loopback http origin is accepted as well.
   */
  allowedOrigins?: readonly string[];
}

const API_VERSION = 'api-version=7.1';
/** Azure DevOps reads and deletes at most 200 work items per call. */
export const MAX_IDS_PER_CALL = 200;
const PROJECT_PAGE_SIZE = 500;
/** Guards against a service that keeps handing out continuation tokens. */
const MAX_PROJECT_PAGES = 1_000;

/**
 * `WorkItemTracker` over the Azure DevOps REST API 7.1 (DESIGN.md §5). Throws only the port's error
 * classes (plus plain `Error` for invalid arguments); the PAT never appears in any of them.
 */
export class AdoRestWorkItemTracker implements WorkItemTracker {
  readonly baseUrl: string;
  readonly #http: AdoHttpClient;

  constructor(connection: TrackerConnection, options: AdoRestWorkItemTrackerOptions = {}) {
    this.baseUrl = resolveAdoBaseUrl(
      connection.organization,
      options.allowedOrigins ?? loopbackOriginOf(connection.organization),
    );
    if (!connection.pat) throw new Error('Azure DevOps PAT must not be empty');
    this.#http = new AdoHttpClient(connection.pat, options);
  }

  /** Delay (ms) the last answer announced (`Retry-After`/`X-RateLimit-Delay`); 0 when it announced none. */
  get lastRateLimitDelayMs(): number {
    return this.#http.lastRateLimitDelayMs;
  }

  async listProjects(): Promise<AdoProject[]> {
    const projects: AdoProject[] = [];
    const seenTokens = new Set<string>();
    let token: string | null = null;
    for (let page = 0; page < MAX_PROJECT_PAGES; page++) {
      const continuation = token === null ? '' : `&continuationToken=${encodeURIComponent(token)}`;
      const answer = await this.#http.send({
        method: 'GET',
        url: `${this.baseUrl}/_apis/projects?$top=${PROJECT_PAGE_SIZE}${continuation}&${API_VERSION}`,
        retry: 'idempotent',
      });
      for (const entry of asArray(asRecord(answer.json)?.value)) {
        const project = projectOf(entry);
        if (project) projects.push(project);
      }
      token = answer.headers.get('x-ms-continuationtoken');
      if (!token || seenTokens.has(token)) return projects;
      seenTokens.add(token);
    }
    return projects;
  }

  async getProject(idOrName: string): Promise<AdoProjectDetails | null> {
    if (!idOrName) throw new Error('Azure DevOps project name must not be empty');
    try {
      const answer = await this.#http.send({
        method: 'GET',
        url: `${this.baseUrl}/_apis/projects/${encodeURIComponent(idOrName)}?includeCapabilities=true&${API_VERSION}`,
        retry: 'idempotent',
        projectScoped: true,
      });
      const project = projectOf(answer.json);
      if (!project)
        throw new AdoTransientError('Azure DevOps answered a project without id and name', answer.status);
      const process = asRecord(asRecord(asRecord(answer.json)?.capabilities)?.processTemplate);
      return {
        ...project,
        ...(typeof process?.templateTypeId === 'string' ? { processTypeId: process.templateTypeId } : {}),
        ...(typeof process?.templateName === 'string' ? { processName: process.templateName } : {}),
      };
    } catch (error) {
      if (error instanceof AdoRejectedError && (error.projectMissing || error.status === 404)) return null;
      throw error;
    }
  }

  async createProject(project: NewAdoProject): Promise<AdoOperation> {
    const answer = await this.#http.send({
      method: 'POST',
      url: `${this.baseUrl}/_apis/projects?${API_VERSION}`,
      body: {
        name: project.name,
        ...(project.description ? { description: project.description } : {}),
        visibility: project.visibility,
        capabilities: {
          processTemplate: { templateTypeId: project.processTypeId },
          versioncontrol: { sourceControlType: project.sourceControl },
        },
      },
      // Not repeated after an unclear failure: a second create of the same name would be a 409.
      retry: 'create',
    });
    return operationOf(answer.json, answer.status);
  }

  async getOperation(id: string): Promise<AdoOperation> {
    const answer = await this.#http.send({
      method: 'GET',
      url: `${this.baseUrl}/_apis/operations/${encodeURIComponent(id)}?${API_VERSION}`,
      retry: 'idempotent',
    });
    return operationOf(answer.json, answer.status);
  }

  async listProcesses(): Promise<AdoProcess[]> {
    const answer = await this.#http.send({
      method: 'GET',
      url: `${this.baseUrl}/_apis/work/processes?${API_VERSION}`,
      retry: 'idempotent',
    });
    const processes: AdoProcess[] = [];
    for (const entry of asArray(asRecord(answer.json)?.value)) {
      const p = asRecord(entry);
      if (typeof p?.typeId !== 'string' || typeof p.name !== 'string') continue;
      processes.push({
        typeId: p.typeId,
        name: p.name,
        ...(typeof p.referenceName === 'string' ? { referenceName: p.referenceName } : {}),
        description: typeof p.description === 'string' ? p.description : '',
        ...(typeof p.parentProcessTypeId === 'string' ? { parentProcessTypeId: p.parentProcessTypeId } : {}),
        isEnabled: p.isEnabled !== false,
        isDefault: p.isDefault === true,
        ...(typeof p.customizationType === 'string' ? { customizationType: p.customizationType } : {}),
      });
    }
    return processes;
  }

  async listWorkItemTypes(project: string): Promise<WorkItemTypeInfo[]> {
    const answer = await this.#get(`${this.#projectUrl(project)}/_apis/wit/workitemtypes?${API_VERSION}`);
    const types: WorkItemTypeInfo[] = [];
    for (const entry of asArray(asRecord(answer.json)?.value)) {
      const type = asRecord(entry);
      if (typeof type?.name !== 'string') continue;
      // Each WorkItemType of the list carries `fields` (WorkItemTypeFieldInstance[]); an answer
      // without them leaves the caller to ask `listFields`.
      const fields = valuesOf(type.fields, 'referenceName');
      const details = fieldInstancesOf(type.fields);
      types.push({
        name: type.name,
        fields: fields.length > 0 ? fields : null,
        ...(typeof type.referenceName === 'string' ? { referenceName: type.referenceName } : {}),
        ...(typeof type.isDisabled === 'boolean' ? { isDisabled: type.isDisabled } : {}),
        ...(details.length > 0 ? { fieldDetails: details } : {}),
      });
    }
    return types;
  }

  async listFieldDefinitions(project: string): Promise<FieldDefinition[]> {
    const answer = await this.#get(`${this.#projectUrl(project)}/_apis/wit/fields?${API_VERSION}`);
    const fields: FieldDefinition[] = [];
    for (const entry of asArray(asRecord(answer.json)?.value)) {
      const f = asRecord(entry);
      if (typeof f?.referenceName !== 'string' || typeof f.name !== 'string') continue;
      fields.push({
        referenceName: f.referenceName,
        name: f.name,
        type: typeof f.type === 'string' ? f.type : 'string',
        readOnly: f.readOnly === true,
        isIdentity: f.isIdentity === true,
      });
    }
    return fields;
  }

  async listProcessTypes(processTypeId: string): Promise<ProcessTypeInfo[]> {
    const base = `${this.baseUrl}/_apis/work/processes/${encodeURIComponent(processTypeId)}/workitemtypes`;
    const answer = await this.#http.send({
      method: 'GET',
      url: `${base}?${API_VERSION}`,
      retry: 'idempotent',
    });
    const types: ProcessTypeInfo[] = [];
    for (const entry of asArray(asRecord(answer.json)?.value)) {
      const t = asRecord(entry);
      if (typeof t?.name !== 'string' || typeof t.referenceName !== 'string') continue;
      const fieldsAnswer = await this.#http.send({
        method: 'GET',
        url: `${base}/${encodeURIComponent(t.referenceName)}/fields?${API_VERSION}`,
        retry: 'idempotent',
      });
      const fields = asArray(asRecord(fieldsAnswer.json)?.value).flatMap((value) => {
        const f = asRecord(value);
        if (typeof f?.referenceName !== 'string' || typeof f.name !== 'string') return [];
        const allowed = asArray(f.allowedValues).map(String);
        return [
          {
            referenceName: f.referenceName,
            name: f.name,
            ...(typeof f.type === 'string' ? { type: f.type } : {}),
            readOnly: f.readOnly === true,
            ...(allowed.length > 0 ? { allowedValues: allowed } : {}),
          },
        ];
      });
      types.push({ name: t.name, referenceName: t.referenceName, isDisabled: t.isDisabled === true, fields });
    }
    return types;
  }

  async listFields(project: string, type: string): Promise<string[]> {
    const url = `${this.#projectUrl(project)}/_apis/wit/workitemtypes/${encodeURIComponent(type)}/fields?${API_VERSION}`;
    return valuesOf(asRecord((await this.#get(url)).json)?.value, 'referenceName');
  }

  async createWorkItem(
    project: string,
    item: NewWorkItem,
    options: CreateWorkItemOptions = {},
  ): Promise<CreatedWorkItem> {
    const answer = await this.#http.send({
      method: 'POST',
      url: `${this.#projectUrl(project)}/_apis/wit/workitems/$${encodeURIComponent(item.type)}?${API_VERSION}`,
      body: createPatch(item, this.baseUrl),
      contentType: 'application/json-patch+json',
      retry: 'create',
      projectScoped: true,
      ...(options.beforeSend ? { beforeSend: options.beforeSend } : {}),
    });
    const created = asRecord(answer.json);
    const id = created?.id;
    if (typeof id !== 'number') {
      // The request went through but we cannot tell which item it made: the caller reconciles.
      throw new AdoTransientError('Azure DevOps answered the create without a work item id', answer.status);
    }
    const result: CreatedWorkItem = { id, webUrl: webUrlOf(this.baseUrl, project, id) };
    const changedBy = identityOf(asRecord(created?.fields)?.['System.ChangedBy']);
    if (changedBy) result.changedBy = changedBy;
    if (answer.throttledMs > 0) result.throttledMs = answer.throttledMs;
    return result;
  }

  async searchWorkItems(project: string, search: WorkItemSearch): Promise<number[]> {
    const timePrecision = search.createdSince === undefined ? '' : 'timePrecision=true&';
    const answer = await this.#http.send({
      method: 'POST',
      url: `${this.#projectUrl(project)}/_apis/wit/wiql?${timePrecision}${API_VERSION}`,
      body: { query: buildWiqlQuery(search) },
      retry: 'idempotent',
      projectScoped: true,
    });
    return asArray(asRecord(answer.json)?.workItems)
      .map((entry) => asRecord(entry)?.id)
      .filter((id): id is number => typeof id === 'number');
  }

  async getWorkItems(ids: readonly number[]): Promise<WorkItemDetails[]> {
    checkIds(ids);
    const details: WorkItemDetails[] = [];
    for (let start = 0; start < ids.length; start += MAX_IDS_PER_CALL) {
      const answer = await this.#http.send({
        method: 'POST',
        url: `${this.baseUrl}/_apis/wit/workitemsbatch?${API_VERSION}`,
        body: { ids: ids.slice(start, start + MAX_IDS_PER_CALL), $expand: 'relations', errorPolicy: 'omit' },
        retry: 'idempotent',
      });
      for (const entry of asArray(asRecord(answer.json)?.value)) {
        const item = toWorkItemDetails(entry, this.baseUrl);
        if (item) details.push(item);
      }
    }
    return details;
  }

  async deleteWorkItems(project: string, ids: readonly number[]): Promise<void> {
    if (ids.length > MAX_IDS_PER_CALL) {
      throw new Error(`deleteWorkItems takes at most ${MAX_IDS_PER_CALL} ids per call, got ${ids.length}`);
    }
    checkIds(ids);
    if (ids.length === 0) return;
    const answer = await this.#http.send({
      method: 'POST',
      url: `${this.#projectUrl(project)}/_apis/wit/workitemsdelete?${API_VERSION}`,
      // destroy:false: to the recycle bin, restorable (old defect 10 destroyed everything for good).
      body: { ids, destroy: false, skipNotifications: true },
      // Deleting an item already in the recycle bin is reported per item and tolerated below.
      retry: 'idempotent',
      projectScoped: true,
    });
    const failures = asArray(asRecord(answer.json)?.results)
      .map(asRecord)
      .filter((result): result is Record<string, unknown> => result !== undefined && isDeleteFailure(result));
    if (failures.length === 0) return;
    const firstMessage =
      typeof failures[0]?.message === 'string' ? this.#http.redact(failures[0].message.trim()) : '';
    throw new AdoRejectedError(
      `Azure DevOps could not delete work items ${failures.map((failure) => String(failure.id)).join(', ')}` +
        (firstMessage ? `: ${firstMessage}` : ''),
      answer.status,
      errorCodeOf(firstMessage),
    );
  }

  #projectUrl(project: string): string {
    if (!project) throw new Error('Azure DevOps project name must not be empty');
    return `${this.baseUrl}/${encodeURIComponent(project)}`;
  }

  #get(url: string): Promise<{ json: unknown }> {
    const request: AdoRequest = { method: 'GET', url, retry: 'idempotent', projectScoped: true };
    return this.#http.send(request);
  }
}

export interface AdoTrackerFactoryOptions extends AdoHttpOptions {
  /** `ADO_ALLOWED_ORIGINS`, as a list or its comma-separated text (checked by `parseAllowedOrigins`). */
  allowedOrigins: string | readonly string[] | undefined;
}

/**
 * The production `WorkItemTrackerFactory`: REST trackers that send a PAT only to dev.azure.com,
 * `{organization}.visualstudio.com` or an allowed origin. A stored organization that is not (or no
 * longer) allowed gets no request: building its tracker throws `AdoHostNotAllowedError`.
 */
export function adoTrackerFactory(options: AdoTrackerFactoryOptions): WorkItemTrackerFactory {
  const { allowedOrigins: value, ...http } = options;
  const allowedOrigins = parseAllowedOrigins(value);
  return (connection) => new AdoRestWorkItemTracker(connection, { ...http, allowedOrigins });
}

/** `[origin]` when the organization is a loopback http URL (see `allowedOrigins`), else none. */
function loopbackOriginOf(organization: string): string[] {
  try {
    const url = new URL(organization.trim());
    return url.protocol === 'http:' && isLoopbackHost(url.hostname) ? [url.origin] : [];
  } catch {
    return [];
  }
}

/** The string `key` of every object in a list. */
/** A TeamProjectReference of an answer, or undefined without id and name. */
function projectOf(entry: unknown): AdoProject | undefined {
  const p = asRecord(entry);
  if (typeof p?.id !== 'string' || typeof p.name !== 'string') return undefined;
  const text = (key: string) => (typeof p[key] === 'string' ? { [key]: p[key] as string } : {});
  return {
    id: p.id,
    name: p.name,
    ...text('description'),
    ...text('url'),
    ...text('state'),
    ...(typeof p.revision === 'number' ? { revision: p.revision } : {}),
    ...text('visibility'),
    ...text('lastUpdateTime'),
  };
}

const OPERATION_STATUSES = new Set(['notSet', 'queued', 'inProgress', 'cancelled', 'succeeded', 'failed']);

/** An OperationReference / Operation of an answer. */
function operationOf(json: unknown, status: number): AdoOperation {
  const o = asRecord(json);
  if (typeof o?.id !== 'string' || typeof o.status !== 'string' || !OPERATION_STATUSES.has(o.status)) {
    throw new AdoTransientError('Azure DevOps answered an operation without id or status', status);
  }
  return {
    id: o.id,
    status: o.status as AdoOperation['status'],
    ...(typeof o.url === 'string' ? { url: o.url } : {}),
    ...(typeof o.resultMessage === 'string' ? { resultMessage: o.resultMessage } : {}),
  };
}

/** The field instances of a work item type, with their allowed values when listed. */
function fieldInstancesOf(list: unknown): FieldInstance[] {
  return asArray(list).flatMap((entry) => {
    const f = asRecord(entry);
    if (typeof f?.referenceName !== 'string' || typeof f.name !== 'string') return [];
    const allowed = asArray(f.allowedValues).map(String);
    return [
      {
        referenceName: f.referenceName,
        name: f.name,
        ...(allowed.length > 0 ? { allowedValues: allowed } : {}),
      },
    ];
  });
}

function valuesOf(list: unknown, key: string): string[] {
  return asArray(list)
    .map((entry) => asRecord(entry)?.[key])
    .filter((value): value is string => typeof value === 'string');
}

function checkIds(ids: readonly number[]): void {
  const invalid = ids.find((id) => !Number.isSafeInteger(id) || id <= 0);
  if (invalid !== undefined) throw new Error(`invalid work item id ${invalid}`);
}

/** A per-item failure other than "already deleted / does not exist" (both mean the item is gone). */
function isDeleteFailure(result: Record<string, unknown>): boolean {
  const code = typeof result.code === 'number' ? result.code : 200;
  if (code < 400 || code === 404) return false;
  const message = typeof result.message === 'string' ? result.message : '';
  return !/TF401232|does not exist|already (been )?deleted/i.test(message);
}
