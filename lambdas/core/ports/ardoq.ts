import type { ArdoqComponent } from '#core/domain/ardoq.ts';

/**
 * The `ArdoqClient` port: what the core reads from Ardoq (REST API v2, read only). One instance talks
 * to one host with one API token (see `ArdoqClientFactory`). Adapters throw only the errors below.
 */
export interface ArdoqClient {
  /** `GET /api/v2/me`: the token's user and organization (also the connection test). */
  me(): Promise<ArdoqIdentity>;
  /** Every workspace, page by page (`_links.next` followed to the end). */
  workspaces(): AsyncIterable<ArdoqComponent[]>;
  /** One workspace; `ArdoqNotFoundError` when Ardoq does not know it. */
  workspace(id: string): Promise<Record<string, unknown>>;
  /** A workspace's metamodel (component and reference types, fields). */
  context(id: string): Promise<Record<string, unknown>>;
  /** The components of one workspace, page by page, as Ardoq returns them. */
  components(workspaceId: string): AsyncIterable<ArdoqComponent[]>;
}

/** What `/me` says about the token (its keys are not documented by Ardoq: both are optional). */
export interface ArdoqIdentity {
  user?: { name?: string; email?: string };
  organization?: { name?: string; label?: string };
}

export interface ArdoqConnection {
  /** An origin that passed `parseArdoqHost`. */
  apiHost: string;
  token: string;
  /** Sent as `X-org` (required on app.ardoq.com). */
  orgLabel?: string;
}

/** Builds the client of one host and token; throws `ArdoqHostNotAllowedError` for a host a token may not go to. */
export type ArdoqClientFactory = (connection: ArdoqConnection) => ArdoqClient;

/** Base of every Ardoq error; `status` is the HTTP status when Ardoq answered. */
export class ArdoqError extends Error {
  override readonly name: string = 'ArdoqError';
  readonly status?: number;
  constructor(message: string, status?: number, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (status !== undefined) this.status = status;
  }
}

/** 401/403, a redirect or an HTML page instead of JSON: the token is wrong, expired or lacks access. */
export class ArdoqAuthError extends ArdoqError {
  override readonly name: string = 'ArdoqAuthError';
}

/** The host is not one a token may be sent to. Nothing was sent. */
export class ArdoqHostNotAllowedError extends ArdoqAuthError {
  override readonly name = 'ArdoqHostNotAllowedError';
  constructor(readonly problem: string) {
    super(`Ardoq host not allowed: ${problem}`);
  }
}

/** 404 on an id we sent (a workspace). */
export class ArdoqNotFoundError extends ArdoqError {
  override readonly name = 'ArdoqNotFoundError';
}

/** 429 still there after the waits Ardoq asked for: try again after `retryAfterMs`. */
export class ArdoqThrottledError extends ArdoqError {
  override readonly name = 'ArdoqThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    status?: number,
  ) {
    super(message, status);
  }
}

/** 5xx, a timeout, a network failure, an answer that is not what the contract says. */
export class ArdoqTransientError extends ArdoqError {
  override readonly name = 'ArdoqTransientError';
  readonly kind: 'answer' | 'timeout' | 'network';
  constructor(
    message: string,
    status?: number,
    options: { cause?: unknown; kind?: 'answer' | 'timeout' | 'network' } = {},
  ) {
    super(message, status, options);
    this.kind = options.kind ?? 'answer';
  }
}

/** One sentence for a user about a failed Ardoq call: our words and the HTTP status, never Ardoq's text. */
export function describeArdoqFailure(error: unknown): string {
  if (!(error instanceof ArdoqError)) return 'The Ardoq request failed';
  const ref = error.status !== undefined ? ` (HTTP ${error.status})` : '';
  if (error instanceof ArdoqHostNotAllowedError) return `No request was sent: ${error.problem}`;
  if (error instanceof ArdoqAuthError) {
    const status = error.status ?? 0;
    if (status >= 300 && status < 400)
      return `Ardoq redirected the request${ref}, usually to a sign-in page: check the host and the API token`;
    if (status >= 200 && status < 300)
      return `Ardoq answered with a web page instead of JSON${ref}: the API token is invalid or the host is not Ardoq's API`;
    return `Ardoq refused the API token${ref}: it is wrong, expired or lacks access`;
  }
  if (error instanceof ArdoqThrottledError) {
    return `Ardoq is throttling requests${ref}: retry in ${Math.max(1, Math.ceil(error.retryAfterMs / 1_000))} s`;
  }
  if (error instanceof ArdoqNotFoundError) return `Ardoq does not know it${ref}`;
  if (error instanceof ArdoqTransientError) {
    if (error.kind === 'timeout') return 'Ardoq did not answer in time';
    if (error.kind === 'network') return 'Ardoq could not be reached (network failure)';
    return `Ardoq failed${ref}: try again later`;
  }
  return `The Ardoq request failed${ref}`;
}
