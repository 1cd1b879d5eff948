import {
  AdoAuthError,
  type AdoError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  describeAdoFailure,
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

/**
 * TF/VS codes whose meaning decides the class, whatever the HTTP status (checked first; unknown codes
 * fall back to the status rules). Sources: Microsoft's documentation and the messages Azure DevOps sends.
 */
const CODE_CLASSES: Record<string, 'auth' | 'throttled' | 'transient' | 'projectMissing' | 'rejected'> = {
  // "The user '…' is not authorized to access this resource." / "Resource not available for anonymous access."
  TF400813: 'auth',
  // "The following permissions are needed to perform this operation: …"
  TF50309: 'auth',
  // "Access denied: … needs … permission(s)"
  TF14044: 'auth',
  // "You need the Git '…' permission to perform this action."
  TF401027: 'auth',
  // "You are not authorized to access …"
  TF30063: 'auth',
  // "The request has been canceled: Request was blocked due to exceeding usage of resource …" (rate limit)
  TF400733: 'throttled',
  // "An Internal Error Occurred. Activity Id: …": Azure DevOps' own failure, not a missing project.
  TF400898: 'transient',
  // "The following project does not exist: …"
  TF200016: 'projectMissing',
  // "The project with id '…' does not exist, or you do not have permission to access it."
  VS800075: 'projectMissing',
  // Field and rule errors: permanent for the item.
  TF401320: 'rejected', // Rule Error for field …
  TF401326: 'rejected', // Invalid field status '…' for field …
  TF51535: 'rejected', // Cannot find field …
  TF201035: 'rejected', // link target does not exist
  TF201036: 'rejected', // a second parent
  TF201063: 'rejected', // link type or URL not supported
  VS402337: 'rejected', // WIQL above 20,000 results
  TF200019: 'rejected', // "The following project already exists …" (a project create; unverified status)
};

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
  const { status, headers } = answer;
  const contentType = headers.get('content-type');
  if (status >= 200 && status < 300 && status !== 203) {
    if (status === 204 || isJsonContentType(contentType)) return undefined;
    const mediaType = (contentType ?? '').split(';')[0]?.trim().slice(0, 100) || 'no content type';
    return new AdoAuthError(
      `Azure DevOps answered HTTP ${status} with ${mediaType} instead of JSON (a sign-in page): ` +
        'the PAT is invalid, expired or lacks access',
      status,
    );
  }
  // A 203 or a redirect stands for a sign-in page; the transport never follows a redirect.
  if (status === 203 || (status >= 300 && status < 400)) return described(new AdoAuthError('', status));

  const serviceMessage = messageOf(answer.json, answer.scrub);
  const code = serviceMessage ? errorCodeOf(serviceMessage) : undefined;
  const codeOption = code === undefined ? {} : { code };
  const throttled = () =>
    described(
      new AdoThrottledError(
        '',
        serverDelayMs(headers, answer.now) ?? DEFAULT_THROTTLE_DELAY_MS,
        status,
        code,
      ),
    );
  switch (code === undefined ? undefined : CODE_CLASSES[code]) {
    case 'auth':
      return described(new AdoAuthError('', status, codeOption));
    case 'throttled':
      return throttled();
    case 'transient':
      return described(new AdoTransientError('', status, codeOption));
    case 'projectMissing':
      return rejected(serviceMessage, status, code, true);
    case 'rejected':
      return rejected(serviceMessage, status, code, false);
  }
  if (status === 401 || status === 403) return described(new AdoAuthError('', status, codeOption));
  if (status === 429 || status === 503) return throttled();
  if (status >= 500 || status === 408) return described(new AdoTransientError('', status, codeOption));
  const projectMissing =
    status === 404 && answer.projectScoped && /project\b.*\b(does not exist|not found)/i.test(serviceMessage);
  return rejected(serviceMessage, status, code, projectMissing);
}

/** Our sentence (status and code, never the answer's text) as the message of an error that has none. */
function described<E extends AdoError>(error: E): E {
  if (!error.message) error.message = describeAdoFailure(error);
  return error;
}

/** A rejection keeps Azure DevOps' (scrubbed) message: it says which field or rule of our item failed. */
function rejected(
  serviceMessage: string,
  status: number,
  code: string | undefined,
  projectMissing: boolean,
): AdoRejectedError {
  const error = new AdoRejectedError(serviceMessage, status, code, projectMissing);
  return serviceMessage ? error : described(error);
}

function messageOf(json: unknown, scrub: Scrub): string {
  if (typeof json !== 'object' || json === null) return '';
  const message = (json as { message?: unknown }).message;
  if (typeof message !== 'string') return '';
  return scrub(message.trim()).slice(0, MAX_MESSAGE_LENGTH);
}
