import { parseAllowedOrigins } from '#core/domain/ado-organization.ts';
import { type ArdoqComponent, parseArdoqHost } from '#core/domain/ardoq.ts';
import {
  ArdoqAuthError,
  type ArdoqClient,
  type ArdoqClientFactory,
  type ArdoqConnection,
  ArdoqHostNotAllowedError,
  type ArdoqIdentity,
  ArdoqNotFoundError,
  ArdoqThrottledError,
  ArdoqTransientError,
} from '#core/ports/ardoq.ts';
import { createScrubber, isJsonContentType, parseDelayHeader } from './ado-response.ts';
import {
  type HttpAnswer,
  HttpTimeoutError,
  type HttpTransport,
  nodeHttpTransport,
} from './http-transport.ts';

/** Per request, body included: a browsing route must answer before API Gateway's 29 s. */
export const DEFAULT_ARDOQ_TIMEOUT_MS = 20_000;
/** Guards against a service that keeps handing out next links (100 per page: 1,000,000 components). */
const MAX_PAGES = 10_000;
/** Ardoq asks every API client to name itself (a request without a User-Agent is refused). */
const USER_AGENT = 'ardoq-ado-sync/1.0 (+https://github.com/DigitalQatalyst/ArchBridge-SyncFlow)';

export interface ArdoqRestClientOptions {
  transport?: HttpTransport;
  timeoutMs?: number;
  /** 429s waited out per request, each by its `Retry-After` (default 3). */
  maxThrottleWaits?: number;
  /** Longest `Retry-After` waited inside a call; a longer one is thrown (default 5 s). */
  maxInCallWaitMs?: number;
  /** Transient failures retried per request (default 1: a GET is safe to repeat). */
  maxTransientRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Origins a token may go to besides `https://*.ardoq.com` (`ARDOQ_ALLOWED_ORIGINS`). */
  allowedOrigins?: readonly string[];
}

interface Page {
  values?: unknown;
  _links?: { next?: { href?: unknown } };
}

/**
 * `ArdoqClient` over Ardoq's REST API v2: bearer token, `X-org`, a User-Agent, a timeout per call,
 * `Retry-After` honoured, redirects never followed, `_links.next` followed on the same origin only.
 * Throws only the port's error classes; the token never appears in any of them.
 */
export class ArdoqRestClient implements ArdoqClient {
  readonly apiHost: string;
  readonly #headers: Record<string, string>;
  readonly #scrub: (text: string) => string;
  readonly #transport: HttpTransport;
  readonly #timeoutMs: number;
  readonly #maxThrottleWaits: number;
  readonly #maxInCallWaitMs: number;
  readonly #maxTransientRetries: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(connection: ArdoqConnection, options: ArdoqRestClientOptions = {}) {
    const host = parseArdoqHost(connection.apiHost, options.allowedOrigins ?? []);
    if (!host.ok) throw new ArdoqHostNotAllowedError(host.problem);
    this.apiHost = host.apiHost;
    this.#headers = {
      Authorization: `Bearer ${connection.token}`,
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      ...(connection.orgLabel ? { 'X-org': connection.orgLabel } : {}),
    };
    this.#scrub = createScrubber(connection.token);
    this.#transport = options.transport ?? nodeHttpTransport;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ARDOQ_TIMEOUT_MS;
    this.#maxThrottleWaits = options.maxThrottleWaits ?? 3;
    this.#maxInCallWaitMs = options.maxInCallWaitMs ?? 5_000;
    this.#maxTransientRetries = options.maxTransientRetries ?? 1;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async me(): Promise<ArdoqIdentity> {
    const body = asObject(await this.#get('/api/v2/me'), 'me');
    const user = asObject(body.user ?? {}, 'me.user');
    const org = asObject(body.org ?? body.organization ?? {}, 'me.org');
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const identity: ArdoqIdentity = {};
    const userName = text(user.name);
    const email = text(user.email);
    if (userName !== undefined || email !== undefined) {
      identity.user = {
        ...(userName !== undefined ? { name: userName } : {}),
        ...(email !== undefined ? { email } : {}),
      };
    }
    const orgName = text(org.name);
    const label = text(org.label);
    if (orgName !== undefined || label !== undefined) {
      identity.organization = {
        ...(orgName !== undefined ? { name: orgName } : {}),
        ...(label !== undefined ? { label } : {}),
      };
    }
    return identity;
  }

  workspaces(): AsyncIterable<ArdoqComponent[]> {
    return this.#pages('/api/v2/workspaces', 'workspace') as AsyncIterable<ArdoqComponent[]>;
  }

  async workspace(id: string): Promise<Record<string, unknown>> {
    return asObject(
      await this.#get(`/api/v2/workspaces/${encodeURIComponent(id)}`, 'Workspace'),
      'workspace',
    );
  }

  async context(id: string): Promise<Record<string, unknown>> {
    return asObject(
      await this.#get(`/api/v2/workspaces/${encodeURIComponent(id)}/context`, 'Workspace'),
      'workspace context',
    );
  }

  components(workspaceId: string): AsyncIterable<ArdoqComponent[]> {
    return this.#pages(
      `/api/v2/components?rootWorkspace=${encodeURIComponent(workspaceId)}`,
      'component',
    ) as AsyncIterable<ArdoqComponent[]>;
  }

  /** Every page of a paginated resource, following `_links.next` on the same origin only. */
  async *#pages(path: string, what: string): AsyncIterable<Record<string, unknown>[]> {
    let url: string | undefined = `${this.apiHost}${path}`;
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES)
        throw new ArdoqTransientError(`Ardoq kept sending next pages (more than ${MAX_PAGES})`);
      const body = asObject(await this.#getUrl(url), `${what} page`) as Page;
      if (!Array.isArray(body.values))
        throw new ArdoqTransientError(`Ardoq answered a ${what} page without values`);
      const values = body.values.filter(
        (v): v is Record<string, unknown> =>
          typeof v === 'object' && v !== null && typeof (v as { _id?: unknown })._id === 'string',
      );
      yield values;
      url = this.#nextUrl(body._links?.next?.href);
    }
  }

  /** The next page's URL: an absolute link on Ardoq's own origin, else the end (or an error). */
  #nextUrl(href: unknown): string | undefined {
    if (href === undefined || href === null || href === '') return undefined;
    if (typeof href !== 'string') throw new ArdoqTransientError('Ardoq sent a next link that is not a URL');
    let next: URL;
    try {
      next = new URL(href, this.apiHost);
    } catch {
      throw new ArdoqTransientError('Ardoq sent a next link that is not a URL');
    }
    // The token goes with the request: never to another origin than the configured one.
    if (next.origin !== this.apiHost) {
      throw new ArdoqTransientError('Ardoq sent a next link to another host: not followed');
    }
    return next.href;
  }

  #get(path: string, notFound?: string): Promise<unknown> {
    return this.#getUrl(`${this.apiHost}${path}`, notFound);
  }

  /** One GET with its waits: `Retry-After` on 429 (bounded), one retry of a transient failure. */
  async #getUrl(url: string, notFound?: string): Promise<unknown> {
    let throttles = 0;
    let transients = 0;
    for (;;) {
      try {
        return this.#read(await this.#send(url), notFound);
      } catch (error) {
        if (
          error instanceof ArdoqThrottledError &&
          throttles < this.#maxThrottleWaits &&
          error.retryAfterMs <= this.#maxInCallWaitMs
        ) {
          throttles += 1;
          await this.#sleep(error.retryAfterMs);
          continue;
        }
        if (error instanceof ArdoqTransientError && transients < this.#maxTransientRetries) {
          transients += 1;
          await this.#sleep(250);
          continue;
        }
        throw error;
      }
    }
  }

  async #send(url: string): Promise<HttpAnswer> {
    try {
      return await this.#transport({
        method: 'GET',
        url,
        headers: this.#headers,
        timeoutMs: this.#timeoutMs,
      });
    } catch (error) {
      if (error instanceof HttpTimeoutError) {
        throw new ArdoqTransientError('Ardoq did not answer in time', undefined, { kind: 'timeout' });
      }
      // A network error's message names the host and the reason, never a header.
      const message = error instanceof Error ? this.#scrub(error.message) : 'network failure';
      throw new ArdoqTransientError(`Ardoq could not be reached: ${message}`, undefined, { kind: 'network' });
    }
  }

  /** An answer's JSON, or the error its status says (Ardoq's own text is never kept). */
  #read(answer: HttpAnswer, notFound?: string): unknown {
    const { status } = answer;
    if (status === 429) {
      const wait = parseDelayHeader(answer.headers.get('retry-after'), Date.now()) ?? 1_000;
      throw new ArdoqThrottledError(`Ardoq is throttling requests (HTTP 429)`, wait, status);
    }
    if (status === 401 || status === 403)
      throw new ArdoqAuthError(`Ardoq refused the API token (HTTP ${status})`, status);
    if (status >= 300 && status < 400)
      throw new ArdoqAuthError(`Ardoq redirected the request (HTTP ${status})`, status);
    if (status === 404 && notFound)
      throw new ArdoqNotFoundError(`${notFound} not found in Ardoq (HTTP 404)`, status);
    if (status >= 500) throw new ArdoqTransientError(`Ardoq failed (HTTP ${status})`, status);
    if (status < 200 || status >= 300) throw new ArdoqTransientError(`Ardoq answered HTTP ${status}`, status);
    if (!isJsonContentType(answer.headers.get('content-type'))) {
      // A sign-in page or a proxy's: the token did not reach the API.
      throw new ArdoqAuthError(`Ardoq answered with a web page instead of JSON (HTTP ${status})`, status);
    }
    try {
      return JSON.parse(answer.body);
    } catch {
      throw new ArdoqTransientError(`Ardoq answered with JSON that does not parse (HTTP ${status})`, status);
    }
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ArdoqTransientError(`Ardoq answered the ${what} with something else than an object`);
  }
  return value as Record<string, unknown>;
}

/** The factory the functions use: hosts checked against `*.ardoq.com` and `ARDOQ_ALLOWED_ORIGINS`. */
export function ardoqClientFactory(
  options: Omit<ArdoqRestClientOptions, 'allowedOrigins'> & { allowedOrigins?: string | readonly string[] },
): ArdoqClientFactory {
  const { allowedOrigins: value, ...rest } = options;
  const allowedOrigins = parseAllowedOrigins(value, { loopback: true, setting: 'ARDOQ_ALLOWED_ORIGINS' });
  return (connection) => new ArdoqRestClient(connection, { ...rest, allowedOrigins });
}
