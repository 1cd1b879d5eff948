import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWorkItem } from './create.ts';
import { badRequest, SIGN_IN_PAGE, SimHttpError, throttledBody, unavailableBody } from './errors.ts';
import { FaultPlan, type TransportFault } from './faults.ts';
import { type FieldDef, findField, PROCESS_NAMES } from './processes.ts';
import { RATE_LIMIT_RESOURCE, RateLimiter } from './rate-limit.ts';
import { type Outcome, route } from './routes.ts';
import { SimState } from './state.ts';
import type { AdoProjectControls, AdoSimulator, AdoSimulatorOptions, SimStats } from './types.ts';

/**
 * HTTP plumbing: authentication, api-version, the rate limit (rate-limit.ts), faults, latency, statistics;
 * endpoints live in routes.ts.
 */

const MAX_BODY_BYTES = 25 * 1024 * 1024;
const LATEST_API = [7, 2];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES
        ? reject(new SimHttpError(413, 'VS403439: The request body is too large.', 'RequestContentTooLarge'))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });

/** Basic auth with any user name and the PAT as password, compared in constant time. */
function authorized(header: string | undefined, pat: string): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const given = Buffer.from(decoded.slice(decoded.indexOf(':') + 1));
  const wanted = Buffer.from(pat);
  return decoded.includes(':') && given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** api-version from the query or the Accept header, as the service reads it. */
function checkApiVersion(method: string, query: URLSearchParams, accept: string | undefined): void {
  const version = query.get('api-version') ?? /api-version=([^;,\s]+)/i.exec(accept ?? '')?.[1];
  if (!version) {
    throw new SimHttpError(
      400,
      `No api-version was supplied for the "${method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").`,
      'VssVersionNotSpecifiedException',
    );
  }
  const match = /^(\d+)\.(\d+)(-preview(\.\d+)?)?$/.exec(version);
  if (!match) throw badRequest(`The api-version '${version}' is not valid.`, 'VssInvalidApiVersionException');
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major > (LATEST_API[0] ?? 0) || (major === LATEST_API[0] && minor > (LATEST_API[1] ?? 0))) {
    throw badRequest(
      `The requested REST API version of ${version} is out of range for this server. The latest REST API version this server supports is ${LATEST_API.join('.')}.`,
      'VssVersionOutOfRangeException',
    );
  }
}

/** Splits `/{project}/_apis/...` into its decoded project segment and the segments after `_apis`. */
function splitPath(pathname: string): { project?: string; rest: string[] } | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const apis = segments.findIndex((s) => s.toLowerCase() === '_apis');
  // `{project}/{team}/_apis/...` is accepted too: the team is not simulated.
  if (apis < 0 || apis > 2) return undefined;
  return { ...(apis > 0 && { project: segments[0] }), rest: segments.slice(apis + 1) };
}

const isCreateRequest = (method: string | undefined, pathname: string) =>
  method === 'POST' && /\/_apis\/wit\/workitems\/(\$|%24)[^/]+$/i.test(pathname);

/** Which core-area counter a request adds to (organization-level routes only). */
function coreArea(pathname: string): 'project' | 'operation' | 'process' | undefined {
  const path = splitPath(pathname);
  if (!path || path.project !== undefined) return undefined;
  const [area, resource] = path.rest.map((s) => s.toLowerCase());
  if (area === 'projects') return 'project';
  if (area === 'operations') return 'operation';
  if ((area === 'work' || area === 'process') && resource === 'processes') return 'process';
  return undefined;
}

/**
 * Counts field and type discovery: `[{project}/]_apis/wit/fields[/…]` and a project's
 * `_apis/wit/workitemtypes[/…]` (the process-level `work/processes/{id}/workItemTypes…` are process requests).
 */
function countDiscoveryRequest(stats: SimStats, pathname: string): void {
  const path = splitPath(pathname);
  const [area, resource] = (path?.rest ?? []).map((s) => s.toLowerCase());
  if (area !== 'wit') return;
  if (resource === 'fields') stats.fieldRequests += 1;
  else if (resource === 'workitemtypes' && path?.project !== undefined) stats.workItemTypeRequests += 1;
}

function countCoreRequest(stats: SimStats, method: string | undefined, pathname: string): void {
  const area = coreArea(pathname);
  if (area === 'project') {
    stats.projectRequests += 1;
    if (method === 'POST' && (splitPath(pathname)?.rest.length ?? 0) === 1) stats.projectCreates += 1;
  } else if (area === 'operation') stats.operationRequests += 1;
  else if (area === 'process') stats.processRequests += 1;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const html = typeof body === 'string';
  res.writeHead(status, {
    'Content-Type': html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8; api-version=7.1',
    ActivityId: randomUUID(),
    ...headers,
  });
  res.end(html ? body : JSON.stringify(body));
}

function faultAnswer(res: ServerResponse, fault: TransportFault, retryAfterSeconds: number): void {
  if (fault === 'unavailable') {
    send(res, 503, unavailableBody());
    return;
  }
  send(res, 429, throttledBody(), {
    'Retry-After': String(retryAfterSeconds),
    'X-RateLimit-Resource': 'ATCPU',
    'X-RateLimit-Delay': retryAfterSeconds.toFixed(3),
    'X-RateLimit-Limit': '200',
    'X-RateLimit-Remaining': '0',
    'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + retryAfterSeconds),
  });
}

const DEFAULT_PROJECTS = PROCESS_NAMES.map((process) => ({ name: `${process} Project`, process }));

export async function startAdoSimulator(
  options: AdoSimulatorOptions & { port?: number },
): Promise<AdoSimulator & AdoProjectControls> {
  if (!options.pat) throw new Error('startAdoSimulator needs a PAT');
  const plan = new FaultPlan(options.faults, options.seed ?? 1);
  const limiter = new RateLimiter(options.faults?.rateLimit);
  /** The counters `resetStats` zeroes (createsInFlight is live state, not a counter). */
  const zeroed = () => ({
    requests: 0,
    creates: 0,
    createMs: 0,
    throttled: 0,
    dropped: 0,
    projectRequests: 0,
    projectCreates: 0,
    operationRequests: 0,
    processRequests: 0,
    fieldRequests: 0,
    workItemTypeRequests: 0,
    tstuCharged: 0,
    rateLimitDelayed: 0,
    rateLimitDelayedMs: 0,
    rateLimitRejected: 0,
  });
  const stats: SimStats = { ...zeroed(), createsInFlight: 0, peakConcurrentCreates: 0 };
  let state: SimState | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, sim: SimState): Promise<void> {
    const body = await readBody(req);
    const wait = () => sleep(Math.max(0, plan.faults.latencyMs ?? 0));
    if (!authorized(req.headers.authorization, options.pat)) {
      await wait();
      return send(res, 203, SIGN_IN_PAGE, { 'X-TFS-FedAuthRealm': 'https://app.vssps.visualstudio.com/' });
    }
    const isCreate = isCreateRequest(req.method, url.pathname);
    // The rate limit first: a refused request never reaches the fault plan; a held one does after its hold.
    const admission = limiter.admit(isCreate);
    if (admission?.kind === 'reject') {
      stats.throttled += 1;
      stats.rateLimitRejected += 1;
      await wait();
      return send(res, 429, throttledBody(RATE_LIMIT_RESOURCE), limiter.headers(admission));
    }
    if (admission) {
      stats.tstuCharged = Math.round((stats.tstuCharged + admission.chargedTstu) * 1e6) / 1e6;
      if (admission.kind === 'delay') {
        stats.rateLimitDelayed += 1;
        stats.rateLimitDelayedMs += admission.delayMs;
        await sleep(admission.delayMs);
      }
    }
    /** The rate-limit headers, computed when answering (none while the mode is off or usage is low). */
    const limitHeaders = () => (admission ? limiter.headers(admission) : {});
    let outcome: Outcome;
    try {
      const fault = plan.transport(isCreate);
      if (fault) {
        outcome = { fault };
      } else {
        checkApiVersion(req.method ?? 'GET', url.searchParams, req.headers.accept);
        const path = splitPath(url.pathname);
        if (!path)
          throw new SimHttpError(
            404,
            'The requested path is not an Azure DevOps API route.',
            'RouteNotFound',
          );
        outcome = route(sim, plan, {
          method: req.method ?? 'GET',
          ...path,
          query: url.searchParams,
          contentType: req.headers['content-type'] ?? '',
          body,
        });
      }
    } catch (error) {
      // Answered by the server's error path, with the rate limit's headers as any other answer.
      if (error instanceof SimHttpError) error.headers = { ...error.headers, ...limitHeaders() };
      throw error;
    }
    await wait();
    if ('fault' in outcome) {
      if (outcome.fault === 'throttle') stats.throttled += 1;
      return faultAnswer(res, outcome.fault, plan.faults.retryAfterSeconds ?? 1);
    }
    if (outcome.drop) {
      stats.dropped += 1;
      req.socket.destroy();
      return;
    }
    send(res, outcome.status, outcome.json, { ...outcome.headers, ...limitHeaders() });
  }

  const server = createServer((req, res) => {
    stats.requests += 1;
    const sim = state;
    const url = new URL(req.url ?? '/', sim?.baseUrl ?? 'http://127.0.0.1');
    const isCreate = isCreateRequest(req.method, url.pathname);
    countCoreRequest(stats, req.method, url.pathname);
    countDiscoveryRequest(stats, url.pathname);
    const startedAt = performance.now();
    if (isCreate) {
      stats.creates += 1;
      stats.createsInFlight += 1;
      stats.peakConcurrentCreates = Math.max(stats.peakConcurrentCreates, stats.createsInFlight);
    }
    const done = sim ? handle(req, res, url, sim) : Promise.resolve(send(res, 503, unavailableBody()));
    done
      .catch(async (error: unknown) => {
        await sleep(Math.max(0, plan.faults.latencyMs ?? 0));
        if (error instanceof SimHttpError) return send(res, error.status, error.body(), error.headers);
        send(
          res,
          500,
          new SimHttpError(500, `Simulator failure: ${String(error)}`, 'InternalServerError').body(),
        );
      })
      .catch(() => res.destroy())
      .finally(() => {
        if (!isCreate) return;
        stats.createsInFlight -= 1;
        stats.createMs += performance.now() - startedAt;
      });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const sim = new SimState(`http://127.0.0.1:${port}`);
  sim.projectPageSize = options.projectPageSize;
  sim.projectMaxPageSize = options.projectMaxPageSize;
  if (options.projectCreateDelayMs !== undefined) sim.projectCreateDelayMs = options.projectCreateDelayMs;
  for (const p of options.projects ?? DEFAULT_PROJECTS) sim.addProject(p.name, p.process);
  state = sim;

  return {
    url: sim.baseUrl,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    setFaults: (faults) => {
      limiter.configure(faults.rateLimit); // validates first: a bad rateLimit throws and changes nothing
      plan.faults = { ...faults };
    },
    failNext: (op, kind, count, title) => plan.failNext(op, kind, count, title),
    rejectTitles: (titles) => plan.rejectTitles(titles),
    addProject: (name, process) => {
      sim.addProject(name, process);
    },
    addInheritedProcess: (name, parent, processOptions) =>
      sim.addInheritedProcess(name, parent, processOptions).typeId,
    projects: () =>
      sim.allProjects().map((p) => ({
        id: p.id,
        name: p.name,
        ...(p.description !== undefined && { description: p.description }),
        state: sim.projectState(p),
        visibility: p.visibility,
        processName: p.processRecord.name,
        processTypeId: p.processRecord.typeId,
        process: p.process,
        sourceControlType: p.sourceControlType,
      })),
    operations: () =>
      [...sim.operations.values()].map((o) => {
        const status = sim.operationStatus(o);
        return {
          id: o.id,
          projectId: o.project.id,
          projectName: o.project.name,
          status,
          ...(status === 'failed' && o.failure !== undefined && { resultMessage: o.failure }),
        };
      }),
    processes: () => sim.processes.map(({ base: _base, ...process }) => ({ ...process })),
    setProjectCreateDelay: (ms) => {
      sim.projectCreateDelayMs = Math.max(0, ms);
    },
    failNextProjectCreate: (resultMessage, count) =>
      plan.failProjectCreations(
        resultMessage ??
          'TF30170: The plugin Microsoft.ProjectCreationWizard.WorkItemTracking failed during task WITs.',
        count,
      ),
    seedWorkItem: (projectName, typeName, fields) => {
      const project = sim.project(projectName);
      const type = sim.type(project, typeName);
      const values = new Map<FieldDef, unknown>();
      let createdDate: Date | undefined;
      for (const [name, value] of Object.entries(fields)) {
        const field = findField(type, name);
        if (!field) throw new Error(`seedWorkItem: ${type.name} has no field ${name}`);
        if (field.referenceName === 'System.CreatedDate') createdDate = new Date(String(value));
        else if (field.readOnly) throw new Error(`seedWorkItem: ${field.referenceName} is read-only`);
        else values.set(field, value);
      }
      return sim.snapshot(createWorkItem(sim, project, type, { values, relations: [] }, createdDate));
    },
    workItems: (project) => sim.list(project, false),
    recycleBin: (project) => sim.list(project, true),
    resetStats: () => {
      Object.assign(stats, zeroed());
      stats.peakConcurrentCreates = stats.createsInFlight;
    },
  };
}
