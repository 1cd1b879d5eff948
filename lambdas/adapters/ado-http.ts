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
  /**
   * Time this call waited because Azure DevOps throttled (announced delays, the rate-limit budget's
   * concurrency, throttled attempts retried in the call), ms.
   */
  throttledMs: number;
}

const FIRST_TRANSIENT_BACKOFF_MS = 250;
/**
 * What one request may cost of the identity's rate-limit budget, in TSTU (Azure DevOps does not say;
 * a work item create is among the dearer calls): the cap on requests in flight is the budget left / this.
 */
const REQUEST_TSTU = 1;
/** When the budget's cap held a request past the in-call limit: how long the queue is to wait. */
const RETRY_AFTER_BUDGET_MS = 1_000;
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
  /** Requests of this client in flight, and how many the rate-limit budget allows (see #observeBudget). */
  #inFlight = 0;
  #budgetCap = Number.POSITIVE_INFINITY;
  #slotWaiters: Array<() => void> = [];

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
    let throttledMs = 0;
    for (let attempt = 1; ; attempt++) {
      throttledMs += await this.#pace();
      throttledMs += await this.#takeSlot();
      let slotHeld = true;
      try {
        // Inside the slot, outside the retry: a refusal of the guard is the caller's, never retried,
        // and nothing is sent.
        if (request.beforeSend) await request.beforeSend();
        try {
          const answer = await this.#sendOnce(request);
          return { ...answer, throttledMs };
        } catch (error) {
          const wait = this.#retryWait(error, request.retry, attempt);
          if (wait === undefined) throw error;
          this.#giveSlot();
          slotHeld = false;
          // The wait honours the announced delay too: don't sleep it a second time in #pace.
          this.#notBefore = 0;
          if (error instanceof AdoThrottledError) throttledMs += wait;
          await this.#sleep(wait);
        }
      } finally {
        if (slotHeld) this.#giveSlot();
      }
    }
  }

  /** Throttling starts as delays on successful answers: slow down before the next request (ms waited). */
  async #pace(): Promise<number> {
    const remaining = this.#notBefore - this.#now();
    if (remaining <= 0) return 0;
    if (remaining > this.#maxInCallWaitMs) {
      throw new AdoThrottledError(
        `Azure DevOps asked to wait ${remaining} ms before the next request`,
        remaining,
      );
    }
    this.#notBefore = 0;
    await this.#sleep(remaining);
    return remaining;
  }

  /**
   * Waits until the rate-limit budget allows one more request in flight (ms waited). A wait longer
   * than the in-call limit is thrown as throttling, for the queue to wait out instead.
   */
  async #takeSlot(): Promise<number> {
    if (this.#inFlight < this.#budgetCap) {
      this.#inFlight += 1;
      return 0;
    }
    const start = this.#now();
    while (this.#inFlight >= this.#budgetCap) {
      const waited = this.#now() - start;
      if (waited >= this.#maxInCallWaitMs) {
        throw new AdoThrottledError(
          `Azure DevOps' rate limit leaves room for ${this.#budgetCap} request(s) in flight; waited ${waited} ms`,
          RETRY_AFTER_BUDGET_MS,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.#slotWaiters = this.#slotWaiters.filter((w) => w !== wake);
          resolve();
        }, this.#maxInCallWaitMs - waited);
        this.#slotWaiters.push(wake);
      });
    }
    this.#inFlight += 1;
    return this.#now() - start;
  }

  #giveSlot(): void {
    this.#inFlight -= 1;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    let room = this.#budgetCap - this.#inFlight;
    while (room > 0 && this.#slotWaiters.length > 0) {
      (this.#slotWaiters.shift() as () => void)();
      room -= 1;
    }
  }

  /**
   * Slows down before a 429: when Azure DevOps says how much of the identity's budget is left
   * (`X-RateLimit-Remaining`, sent once usage nears the limit), no more requests are in flight than
   * it leaves room for (a request costs up to REQUEST_TSTU); an answer without the header (usage is
   * low again) lifts the cap, and a refusal (429) keeps one request at a time until an answer says more.
   */
  #observeBudget(response: HttpAnswer): void {
    const remaining = Number.parseFloat(response.headers.get('x-ratelimit-remaining') ?? '');
    if (response.status === 429) this.#budgetCap = 1;
    else if (Number.isFinite(remaining)) this.#budgetCap = Math.max(1, Math.floor(remaining / REQUEST_TSTU));
    else this.#budgetCap = Number.POSITIVE_INFINITY;
    this.#wakeWaiters();
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
    this.#observeBudget(response);
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
    return { status: response.status, headers: response.headers, json, throttledMs: 0 };
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
