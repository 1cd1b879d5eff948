import {
  AUTH_RETRY_DELAYS_MS,
  CONSUMER_RESUME_TIMEOUT_MS,
  type DataApiDatabaseOptions,
} from '#adapters/data-api-database.ts';

/**
 * Time budgets by function kind (issue 18 §5). API Gateway ends a buffered request at 29 s; the API
 * function (and the streaming function until its first byte) must answer before that, with a margin:
 * a request that cannot finish in time ends as `UnavailableError` (503 + Retry-After) or the upstream
 * error (502), never as a gateway timeout. The queue consumers (60–90 s) and migrate (300 s) wait longer.
 *
 * Worst case of one outbound call on the API path, everything failing as slowly as allowed:
 *
 * | step                                                      | API path                         |
 * |-----------------------------------------------------------|----------------------------------|
 * | Data API resume waits (0.5 + 1 + 2 + 4 s, budget 7.5 s)   |  7.5 s, then 503 Retry-After 10  |
 * | Data API auth-failure retries (rotation: 0.5 + 1 s)       |  1.5 s                           |
 * | Azure DevOps: pacing 1 + 7 s × 2 attempts + wait ≤ 1 s    | 16 s, then 502 (or 503 throttle) |
 * | Ardoq: 7 s × 2 attempts + 0.25 s backoff + 1 × 429 ≤ 1 s  | 15.25 s, then 502 (503 throttle) |
 * | cancel: wait for creates in flight (≤ 15 s, clamped)      | 15 s, then answers as it is      |
 * | total: resume + auth + the longest of the three           | 7.5 + 1.5 + 16 = 25 s ≤ 29 s     |
 *
 * Before: resume 30 s; Azure DevOps 20 s × 3 attempts + 0.75 s backoff (+ 5 s throttle waits);
 * Ardoq 20 s × 2 + 0.25 s (+ 3 × 5 s throttle waits); cancel ≤ 20 s: each alone could outlast 29 s.
 *
 * A route that makes several outbound calls in a row adds them up: the budgets above bound each one,
 * and the buffered API's deadline (lambdas/api/deadline.ts) bounds the route: 3 s before the
 * function's 29 s it answers 503 with Retry-After itself.
 */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

/** The Data API resume budget of the API path: 0.5 + 1 + 2 + 4 s of waits, then 503. */
export const REQUEST_RESUME_TIMEOUT_MS = 7_500;

export type DataApiBudget = Pick<DataApiDatabaseOptions, 'resumeTimeoutMs'>;

/** The API path's database: the shorter resume budget; the rest (auth retries, Retry-After) as the adapter's defaults. */
export const REQUEST_DATABASE: DataApiBudget = { resumeTimeoutMs: REQUEST_RESUME_TIMEOUT_MS };

/** The queue consumers' and migrate's database: the adapter's defaults ({@link CONSUMER_RESUME_TIMEOUT_MS}). */
export const CONSUMER_DATABASE: DataApiBudget = {};

/** Azure DevOps on the API path: 7 s per attempt, 2 attempts, in-call waits ≤ 1 s (longer: 503). */
export const REQUEST_ADO = { timeoutMs: 7_000, maxAttempts: 2, maxInCallWaitMs: 1_000 } as const;

/** Ardoq on the API path: 7 s per attempt, one transient retry, one 429 waited out if ≤ 1 s. */
export const REQUEST_ARDOQ = {
  timeoutMs: 7_000,
  maxTransientRetries: 1,
  maxThrottleWaits: 1,
  maxInCallWaitMs: 1_000,
} as const;

/** The longest a cancel request waits for the creates in flight (CANCEL_WAIT_SECONDS allows 20). */
export const REQUEST_CANCEL_WAIT_MS = 15_000;

/** The worst case of the table above, checked by a test against the gateway's 29 s with a 4 s margin. */
export function requestWorstCaseMs(): number {
  const resume = REQUEST_RESUME_TIMEOUT_MS;
  const auth = AUTH_RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0);
  const ado =
    REQUEST_ADO.maxInCallWaitMs +
    REQUEST_ADO.timeoutMs * REQUEST_ADO.maxAttempts +
    REQUEST_ADO.maxInCallWaitMs * (REQUEST_ADO.maxAttempts - 1);
  const ardoq =
    REQUEST_ARDOQ.timeoutMs * (1 + REQUEST_ARDOQ.maxTransientRetries) +
    250 * REQUEST_ARDOQ.maxTransientRetries +
    REQUEST_ARDOQ.maxInCallWaitMs * REQUEST_ARDOQ.maxThrottleWaits;
  return resume + auth + Math.max(ado, ardoq, REQUEST_CANCEL_WAIT_MS);
}
