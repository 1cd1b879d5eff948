import {
  AdoAuthError,
  type AdoError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
} from '#core/ports/work-item-tracker.ts';
import type { HeaderLookup } from './http-transport.ts';

/** Wait used for 429/503 answers that carry neither `Retry-After` nor `X-RateLimit-Delay`. */
export const DEFAULT_THROTTLE_DELAY_MS = 1_000;

/** Longest service message kept in an error (some answers embed whole stack traces). */
const MAX_MESSAGE_LENGTH = 1_000;

/** Replaces every form of the PAT (raw, Basic credentials, URL-encoded) in a text by `[redacted]`. */
export type Scrub = (text: string) => string;

export function createScrubber(pat: string): Scrub {
  // A very short "PAT" would blank out ordinary letters of every message; real PATs are 52+ characters.
  if (pat.length < 4) return (text) => text;
  const forms = [
    pat,
    encodeURIComponent(pat),
    Buffer.from(`:${pat}`).toString('base64'),
    Buffer.from(pat).toString('base64'),
  ];
  return (text) => forms.reduce((result, form) => result.split(form).join('[redacted]'), text);
}

/** Delay header value → milliseconds: seconds (decimals allowed) or an HTTP date; undefined if unreadable. */
export function parseDelayHeader(value: string | null, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1_000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The delay Azure DevOps asks for: `Retry-After` (seconds or HTTP date), else `X-RateLimit-Delay` (seconds). */
export function serverDelayMs(headers: HeaderLookup, now: number): number | undefined {
  const retryAfter = parseDelayHeader(headers.get('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const rateLimitDelay = headers.get('x-ratelimit-delay')?.trim();
  if (rateLimitDelay && /^\d+(\.\d+)?$/.test(rateLimitDelay))
    return Math.ceil(Number(rateLimitDelay) * 1_000);
  return undefined;
}

/** The TF/VS code that starts an Azure DevOps message, e.g. `TF401320` or `VS402337`. */
export function errorCodeOf(message: string): string | undefined {
  return /^\s*((?:TF|VS)\d+)\b/i.exec(message)?.[1]?.toUpperCase();
}

const PROJECT_MISSING_CODES = new Set(['TF200016', 'TF400898']);

export function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && /\bjson\b/i.test(contentType);
}

export interface AnswerInfo {
  status: number;
  headers: HeaderLookup;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  json: unknown;
  /** The request addresses a project (`{base}/{project}/_apis/...`), so a 404 may mean the project is gone. */
  projectScoped: boolean;
  now: number;
  scrub: Scrub;
}

/** The error an answer stands for, or undefined when it is a usable success. */
export function errorFromAnswer(answer: AnswerInfo): AdoError | undefined {
  const { status, headers, scrub } = answer;
  const contentType = headers.get('content-type');
  const serviceMessage = messageOf(answer.json, scrub);
  const detail = serviceMessage ? `: ${serviceMessage}` : '';

  if (status >= 200 && status < 300 && status !== 203) {
    if (status === 204 || isJsonContentType(contentType)) return undefined;
    return new AdoAuthError(
      `Azure DevOps answered HTTP ${status} with ${contentType || 'no content type'} instead of JSON ` +
        '(a sign-in page): the PAT is invalid, expired or lacks access',
      status,
    );
  }
  if (status === 203) {
    return new AdoAuthError(
      'Azure DevOps answered HTTP 203 (a sign-in page): the PAT is invalid, expired or lacks access',
      status,
    );
  }
  if (status >= 300 && status < 400) {
    return new AdoAuthError(
      `Azure DevOps redirected the request (HTTP ${status}), usually to a sign-in page: ` +
        'check the organization URL and the PAT',
      status,
    );
  }
  if (status === 401 || status === 403) {
    return new AdoAuthError(`Azure DevOps refused the credentials (HTTP ${status})${detail}`, status);
  }
  if (status === 429 || status === 503) {
    const retryAfterMs = serverDelayMs(headers, answer.now) ?? DEFAULT_THROTTLE_DELAY_MS;
    return new AdoThrottledError(
      `Azure DevOps is throttling requests (HTTP ${status}), retry after ${retryAfterMs} ms${detail}`,
      retryAfterMs,
      status,
    );
  }
  if (status >= 500 || status === 408) {
    return new AdoTransientError(`Azure DevOps failed with HTTP ${status}${detail}`, status);
  }
  const code = serviceMessage ? errorCodeOf(serviceMessage) : undefined;
  const projectMissing =
    (code !== undefined && PROJECT_MISSING_CODES.has(code)) ||
    (status === 404 &&
      answer.projectScoped &&
      /project\b.*\b(does not exist|not found)/i.test(serviceMessage));
  return new AdoRejectedError(
    serviceMessage || `Azure DevOps rejected the request (HTTP ${status})`,
    status,
    code,
    projectMissing,
  );
}

function messageOf(json: unknown, scrub: Scrub): string {
  if (typeof json !== 'object' || json === null) return '';
  const message = (json as { message?: unknown }).message;
  if (typeof message !== 'string') return '';
  return scrub(message.trim()).slice(0, MAX_MESSAGE_LENGTH);
}
