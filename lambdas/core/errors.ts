/** The domain's error taxonomy: one middleware maps these to HTTP (STYLE.md). */

export interface ErrorDetail {
  /** Where the problem is, e.g. `epics[2].children[0].name`. */
  path: string;
  message: string;
}

/** Input that cannot be accepted (HTTP 400). Nothing was written. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** An id that does not exist (HTTP 404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** A request that conflicts with the current state, e.g. cancelling a finished sync (HTTP 409). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** Azure DevOps could not answer (throttled, unavailable): not the caller's fault, not ours (HTTP 502). */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
}

/**
 * A dependency is not available right now (the database resuming, a wait that would outlast API
 * Gateway's 29 s): HTTP 503 with `Retry-After`, never a gateway timeout.
 */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Formats a zod-style issue path as `epics[2].children[0].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    return text ? `${text}.${name}` : name;
  }, '');
}
