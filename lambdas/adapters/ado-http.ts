import { AdoThrottledError, AdoTransientError } from '#core/ports/work-item-tracker.ts';
import {
  createScrubber,
  errorFromAnswer,
  isJsonContentType,
  type Scrub,
  serverDelayMs,
} from './ado-response.ts';
import {
  type HeaderLookup,
  type HttpAnswer,
  type HttpTransport,
  nodeHttpTransport,
} from './http-transport.ts';

export interface AdoHttpOptions {
  /** How requests go out (default: Node's HTTP client with keep-alive; tests wrap it). */
  transport?: HttpTransport;
  /** Per request, body included (default `DEFAULT_ADO_TIMEOUT_MS`, 20 s). */
  timeoutMs?: number;
  /** Attempts per call for throttled and transient failures (1 = no retry). */
  maxAttempts?: number;
  /** Longest wait slept inside a call; a longer one is thrown as `AdoThrottledError` for SQS to wait out. */
  maxInCallWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Clock for rate-limit pacing (tests). */
  now?: () => number;
}

/**
 * `idempotent`: retried after throttling and transient failures. `create`: retried only after throttling
 * (429/503 refused the request); after a transient failure the item may exist, so the caller reconciles.
 */
export type RetryPolicy = 'idempotent' | 'create';

export interface AdoRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  contentType?: string;
  retry: RetryPolicy;
  /** See `AnswerInfo.projectScoped`. */
  projectScoped?: boolean;
  /** Awaited right before each physical send (after pacing, before each retry); a throw sends nothing. */
  beforeSend?: () => Promise<void>;
}

export interface AdoAnswer {
  status: number;
  headers: HeaderLookup;
  json: unknown;
}

const FIRST_TRANSIENT_BACKOFF_MS = 250;
/**
 * Per request, body included. API Gateway ends a buffered request at 29 s: a connection test or a
 * project check must fail with our answer before that.
 */
export const DEFAULT_ADO_TIMEOUT_MS = 20_000;

/**
 * One PAT, one organization: authentication, timeouts, error mapping, in-call retries and pacing by the
 * delays Azure DevOps announces. Never puts the PAT into an error.
 */
export class AdoHttpClient {
  readonly #authorization: string;
  readonly #scrub: Scrub;
  readonly #transport: HttpTransport;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #maxInCallWaitMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  /** Earliest instant for the next request, from the last announced delay (0: none pending). */
  #notBefore = 0;
  #lastRateLimitDelayMs = 0;

  constructor(pat: string, options: AdoHttpOptions = {}) {
    this.#authorization = `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;
    this.#scrub = createScrubber(pat);
    this.#transport = options.transport ?? nodeHttpTransport;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ADO_TIMEOUT_MS;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#maxInCallWaitMs = options.maxInCallWaitMs ?? 5_000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? Date.now;
  }

  /** Delay (ms) announced by the most recent answer through `Retry-After`/`X-RateLimit-Delay`; 0 if none. */
  get lastRateLimitDelayMs(): number {
    return this.#lastRateLimitDelayMs;
  }

  /** Removes the PAT from a text taken from an answer. */
  redact(text: string): string {
    return this.#scrub(text);
  }

  async send(request: AdoRequest): Promise<AdoAnswer> {
    for (let attempt = 1; ; attempt++) {
      await this.#pace();
      // Outside the try: a refusal of the guard is the caller's, never retried, and nothing is sent.
      if (request.beforeSend) await request.beforeSend();
      try {
        return await this.#sendOnce(request);
      } catch (error) {
        const wait = this.#retryWait(error, request.retry, attempt);
        if (wait === undefined) throw error;
        // The wait honours the announced delay too: don't sleep it a second time in #pace.
        this.#notBefore = 0;
        await this.#sleep(wait);
      }
    }
  }

  /** Throttling starts as delays on successful answers: slow down before the next request. */
  async #pace(): Promise<void> {
    const remaining = this.#notBefore - this.#now();
    if (remaining <= 0) return;
    if (remaining > this.#maxInCallWaitMs) {
      throw new AdoThrottledError(
        `Azure DevOps asked to wait ${remaining} ms before the next request`,
        remaining,
      );
    }
    this.#notBefore = 0;
    await this.#sleep(remaining);
  }

  #retryWait(error: unknown, policy: RetryPolicy, attempt: number): number | undefined {
    if (attempt >= this.#maxAttempts) return undefined;
    if (error instanceof AdoThrottledError) {
      return error.retryAfterMs <= this.#maxInCallWaitMs ? error.retryAfterMs : undefined;
    }
    if (error instanceof AdoTransientError && policy === 'idempotent') {
      return Math.min(FIRST_TRANSIENT_BACKOFF_MS * 2 ** (attempt - 1), this.#maxInCallWaitMs);
    }
    return undefined;
  }

  async #sendOnce(request: AdoRequest): Promise<AdoAnswer> {
    const headers: Record<string, string> = {
      Authorization: this.#authorization,
      Accept: 'application/json',
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      body = JSON.stringify(request.body);
    }
    let response: HttpAnswer;
    try {
      // The transport never follows a redirect: it usually leads to a sign-in page on another host,
      // and the PAT must not go there.
      response = await this.#transport({
        method: request.method,
        url: request.url,
        headers,
        ...(body === undefined ? {} : { body }),
        timeoutMs: this.#timeoutMs,
      });
    } catch (error) {
      throw this.#networkError(error, request);
    }
    this.#observeDelay(response);
    const json = this.#parseJson(response);
    const failure = errorFromAnswer({
      status: response.status,
      headers: response.headers,
      json,
      projectScoped: request.projectScoped ?? false,
      now: this.#now(),
      scrub: this.#scrub,
    });
    if (failure) throw failure;
    return { status: response.status, headers: response.headers, json };
  }

  #observeDelay(response: HttpAnswer): void {
    const delay = serverDelayMs(response.headers, this.#now()) ?? 0;
    this.#lastRateLimitDelayMs = delay;
    if (delay > 0) this.#notBefore = Math.max(this.#notBefore, this.#now() + delay);
  }

  #parseJson(response: HttpAnswer): unknown {
    const text = response.body;
    if (!isJsonContentType(response.headers.get('content-type')) || text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      if (response.status >= 200 && response.status < 300) {
        throw new AdoTransientError(
          `Azure DevOps answered HTTP ${response.status} with unreadable JSON`,
          response.status,
        );
      }
      return undefined;
    }
  }

  #networkError(error: unknown, request: AdoRequest): AdoTransientError {
    const what = `${request.method} ${new URL(request.url).pathname}`;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return new AdoTransientError(
        this.#scrub(`Azure DevOps did not answer ${what} within ${this.#timeoutMs} ms`),
        undefined,
        { kind: 'timeout' },
      );
    }
    // Keep only a scrubbed summary of the cause (a wrapped error's cause when there is one).
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = (cause as { code?: unknown } | null)?.code;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const summary = this.#scrub(`${typeof code === 'string' ? `${code} ` : ''}${reason}`);
    return new AdoTransientError(`Azure DevOps request ${what} failed: ${summary}`, undefined, {
      cause: new Error(summary),
      kind: 'network',
    });
  }
}
