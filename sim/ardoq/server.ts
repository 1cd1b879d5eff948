import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultPlan } from './faults.ts';
import { generateWorkspace } from './generate.ts';
import { Cursors } from './paging.ts';
import { errorBody, type Outcome, parsePath, type RouteContext, route } from './routes.ts';
import { seedDemoWorkspace } from './seed-demo.ts';
import { seedEdgeCasesWorkspace, seedEmptyWorkspace } from './seed-edge-cases.ts';
import { SimState } from './state.ts';
import type {
  ArdoqFaultKind,
  ArdoqPathKind,
  ArdoqSimStats,
  ArdoqSimulator,
  ArdoqSimulatorOptions,
  RecordedRequest,
} from './types.ts';
import { componentJson } from './wire.ts';

/**
 * HTTP plumbing of the Ardoq simulator: one-shot faults, User-Agent, bearer token, X-org, throttling, latency,
 * statistics and the request record; the endpoints live in routes.ts. Order of the checks on a request:
 * a queued fault (a proxy or the network answers first) → User-Agent (403) → token (401) → X-org (401) →
 * throttleEvery (429) → the endpoint (404, 405, 400 or 200), then the latency before any answer.
 */

export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_WORKSPACE_PAGE_SIZE = 50;
const DEFAULT_RECORDED = 100;
const DEFAULT_CURSOR_TTL_MS = 15 * 60_000;

/** What an SSO portal or a corporate proxy answers instead of the API. */
export const SIGN_IN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in | Ardoq</title></head>
<body>
<form method="post" action="/login">
<h1>Sign in to continue</h1>
<label>Email <input type="email" name="email"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;

const JSON_TYPE = 'application/json; charset=utf-8';

type AuthState = RecordedRequest['auth'];

function bearer(header: string | undefined, token: string): AuthState {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!header) return 'missing';
  if (!match?.[1]) return 'invalid';
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? 'valid' : 'invalid';
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The origin of `_links.next`: the Host the client used when it is a loopback one, else the bound address. */
function originOf(req: IncomingMessage, fallback: string): string {
  const host = header(req, 'host') ?? '';
  return /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/i.test(host) ? `http://${host}` : fallback;
}

const newStats = (): ArdoqSimStats => ({
  requests: 0,
  requestsByKind: { me: 0, workspaces: 0, workspace: 0, context: 0, components: 0, component: 0, other: 0 },
  pagesServed: 0,
  throttled: 0,
  dropped: 0,
  rejected: 0,
  inFlight: 0,
  peakConcurrentRequests: 0,
});

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number ≥ 1, got ${value}`);
  return value;
}

export async function startArdoqSimulator(options: ArdoqSimulatorOptions = {}): Promise<ArdoqSimulator> {
  if (options.host !== undefined && options.host !== '127.0.0.1') {
    throw new Error('The Ardoq simulator listens on 127.0.0.1 only');
  }
  const token = options.token ?? randomBytes(16).toString('hex');
  if (!token || /\s/.test(token))
    throw new Error('The simulator token must be a non-empty string without spaces');
  const orgLabel = options.orgLabel || undefined;
  const seed = options.seed ?? 1;
  const pageSize = positiveInteger('pageSize', options.pageSize, DEFAULT_PAGE_SIZE);
  const workspacePageSize = positiveInteger(
    'workspacePageSize',
    options.workspacePageSize,
    DEFAULT_WORKSPACE_PAGE_SIZE,
  );
  const recordLimit = Math.max(0, Math.floor(options.recordRequests ?? DEFAULT_RECORDED));
  const plan = new FaultPlan({
    ...options.faults,
    ...(options.latencyMs !== undefined && { latencyMs: options.latencyMs }),
  });

  const state = new SimState(seed);
  const demo = seedDemoWorkspace(state);
  const edgeCases = seedEdgeCasesWorkspace(state);
  const empty = seedEmptyWorkspace(state);

  let stats = newStats();
  let recorded: RecordedRequest[] = [];
  const pending = new Set<AbortController>();
  let baseUrl = 'http://127.0.0.1';
  const ctx: RouteContext = {
    state,
    cursors: new Cursors(options.cursorTtlMs ?? DEFAULT_CURSOR_TTL_MS),
    pageSize,
    workspacePageSize,
    org: {
      label: orgLabel ?? 'ardoq-simulator',
      name: orgLabel ? `${orgLabel} (simulated)` : 'Ardoq Simulator',
    },
  };

  function record(
    req: IncomingMessage,
    url: URL,
    kind: ArdoqPathKind,
    auth: AuthState,
  ): RecordedRequest | undefined {
    if (recordLimit === 0) return undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    if (headers.authorization !== undefined)
      headers.authorization = auth === 'valid' ? 'Bearer [token]' : '[other]';
    const query = new URLSearchParams(url.search);
    for (const [name, value] of [...query]) if (value === token) query.set(name, '[token]');
    const search = query.toString();
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: `${url.pathname}${search ? `?${search}` : ''}`,
      kind,
      headers,
      auth,
      status: 0,
    };
    recorded.push(entry);
    if (recorded.length > recordLimit) recorded = recorded.slice(-recordLimit);
    return entry;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const path = parsePath(url.pathname);
    stats.requestsByKind[path.kind] += 1;
    const auth = bearer(header(req, 'authorization'), token);
    const entry = record(req, url, path.kind, auth);

    /** Waits, then answers; nothing is written when the client went away or the simulator closed meanwhile. */
    const answer = async (
      status: number,
      body: unknown,
      headers: Record<string, string> = {},
      delayMs = plan.latencyMs,
    ) => {
      if (delayMs > 0 && !(await pause(delayMs, signal))) return;
      if (signal.aborted || res.destroyed) return;
      if (status === 429) stats.throttled += 1;
      if (status === 401 || status === 403) stats.rejected += 1;
      if (entry) entry.status = status;
      const html = typeof body === 'string';
      res.writeHead(status, { 'Content-Type': html ? 'text/html; charset=utf-8' : JSON_TYPE, ...headers });
      res.end(html ? body : JSON.stringify(body));
    };
    const throttled = () =>
      answer(429, errorBody(429, 'Too Many Requests'), { 'Retry-After': String(plan.retryAfterSeconds) });

    let delayMs = plan.latencyMs;
    const fault: ArdoqFaultKind | undefined = plan.take(url.pathname);
    switch (fault) {
      case 'unauthorized':
        return answer(401, errorBody(401, 'Unauthorized'));
      case 'html':
        return answer(200, SIGN_IN_PAGE);
      case 'throttle':
        return throttled();
      case 'server-error':
        return answer(500, errorBody(500, 'Internal Server Error'));
      case 'drop':
        if (delayMs > 0 && !(await pause(delayMs, signal))) return;
        stats.dropped += 1;
        req.socket.destroy();
        return;
      case 'slow':
        delayMs = plan.slowMs;
        break;
      default:
        break;
    }

    // Ardoq documents that every API request must carry a User-Agent.
    if (!header(req, 'user-agent')?.trim()) {
      return answer(403, errorBody(403, 'Forbidden: a User-Agent header is required'), {}, delayMs);
    }
    if (auth !== 'valid') return answer(401, errorBody(401, 'Unauthorized'), {}, delayMs);
    if (orgLabel !== undefined && header(req, 'x-org') !== orgLabel) {
      return answer(401, errorBody(401, 'Unknown organization'), {}, delayMs);
    }
    if (plan.throttleNow()) {
      return answer(
        429,
        errorBody(429, 'Too Many Requests'),
        { 'Retry-After': String(plan.retryAfterSeconds) },
        delayMs,
      );
    }
    const outcome: Outcome = route(
      ctx,
      {
        method: req.method ?? 'GET',
        pathname: url.pathname,
        query: url.searchParams,
        origin: originOf(req, baseUrl),
      },
      path,
    );
    if (outcome.page && outcome.status === 200) stats.pagesServed += 1;
    return answer(outcome.status, outcome.json, outcome.headers, delayMs);
  }

  const server = createServer((req, res) => {
    stats.requests += 1;
    stats.inFlight += 1;
    stats.peakConcurrentRequests = Math.max(stats.peakConcurrentRequests, stats.inFlight);
    const controller = new AbortController();
    pending.add(controller);
    // The client went away (a timeout, an abort) or the socket was dropped: stop waiting for it.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      stats.inFlight -= 1;
      pending.delete(controller);
    };
    handle(req, res, controller.signal)
      .catch(() => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'Content-Type': JSON_TYPE });
          res.end(JSON.stringify(errorBody(500, 'Internal Server Error')));
        } else res.destroy();
      })
      .finally(done);
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    token,
    orgLabel,
    seed,
    demoWorkspace: { id: demo._id, name: demo.name, components: demo.items.length },
    edgeCases,
    emptyWorkspace: { id: empty._id, name: empty.name },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const controller of pending) controller.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    setFaults: (faults) => plan.set(faults),
    failNext: (kind, count, pathPrefix) => plan.failNext(kind, count, pathPrefix),
    expireCursors: () => ctx.cursors.expireAll(),
    addWorkspace: ({ name, description }) => {
      const workspace = state.addWorkspace(name, description);
      return { id: workspace._id, name: workspace.name };
    },
    addComponent: (workspaceId, input) =>
      componentJson(state, state.addComponent(state.workspace(workspaceId), input)),
    generateWorkspace: (generate) => generateWorkspace(state, generate),
    components: (workspaceId) => state.workspace(workspaceId).items.map((r) => componentJson(state, r)),
    get stats() {
      return stats;
    },
    resetStats: () => {
      const inFlight = stats.inFlight;
      stats = newStats();
      stats.inFlight = inFlight;
      stats.peakConcurrentRequests = inFlight;
    },
    get requests() {
      return recorded.map((r) => ({ ...r, headers: { ...r.headers } }));
    },
    clearRequests: () => {
      recorded = [];
    },
  };
}

/** Sleeps `ms`; false when `signal` aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
