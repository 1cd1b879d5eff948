import { describe, expect, it } from 'vitest';
import { createScrubber, errorFromAnswer } from '#adapters/ado-response.ts';
import {
  AdoAuthError,
  type AdoError,
  AdoHostNotAllowedError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  describeAdoFailure,
} from '#core/ports/work-item-tracker.ts';

// Azure DevOps answers → error classes: the TF/VS code first, then the HTTP status. And the sentence a
// user reads about each class, which never repeats the answer's own text.

const PAT = ['classification', 'test', 'pat', 'Zq81'].join('-');
/** Text an answer might carry that must never reach a user: an internal host, a token, markup. */
const UPSTREAM = 'metadata at 169.254.169.254 token=s3cr3t <script>x</script>';

function headers(values: Record<string, string> = {}) {
  const lower = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower[name.toLowerCase()] ?? null };
}

function classify(
  status: number,
  message?: string,
  options: { headers?: Record<string, string>; projectScoped?: boolean; contentType?: string } = {},
) {
  return errorFromAnswer({
    status,
    headers: headers({ 'content-type': options.contentType ?? 'application/json', ...options.headers }),
    json: message === undefined ? undefined : { message, typeKey: 'SomeException', errorCode: 0 },
    projectScoped: options.projectScoped ?? true,
    now: 0,
    scrub: createScrubber(PAT),
  });
}

describe('classification by TF/VS code', () => {
  it.each([
    ['TF400813', 401, 'The user is not authorized to access this resource.'],
    ['TF400813', 404, 'Resource not available for anonymous access. Client authentication required.'],
    ['TF50309', 403, 'The following permissions are needed to perform this operation: Create new projects.'],
    ['TF14044', 400, 'Access denied: you need the AdminWorkspaces permission.'],
    ['TF401027', 403, "You need the Git 'CreateRepository' permission to perform this action."],
    ['TF30063', 500, 'You are not authorized to access https://dev.azure.com/acme.'],
  ])('%s → AdoAuthError (permanent), even with HTTP %i', (code, status, text) => {
    const error = classify(status, `${code}: ${text}`);
    expect(error).toBeInstanceOf(AdoAuthError);
    expect(error).toMatchObject({ status, code });
  });

  it.each([429, 403, 400])('TF400733 (rate limit) → AdoThrottledError with HTTP %i', (status) => {
    const error = classify(status, 'TF400733: The request has been canceled: Request was blocked.', {
      headers: { 'retry-after': '7' },
    });
    expect(error).toBeInstanceOf(AdoThrottledError);
    expect(error).toMatchObject({ status, code: 'TF400733', retryAfterMs: 7_000 });
  });

  it.each([500, 400, 404, 503])(
    'TF400898 (an internal Azure DevOps error) → AdoTransientError with HTTP %i, not a missing project',
    (status) => {
      const error = classify(status, 'TF400898: An Internal Error Occurred. Activity Id: 1.');
      expect(error).toBeInstanceOf(AdoTransientError);
      expect(error).not.toBeInstanceOf(AdoRejectedError);
      expect(error).toMatchObject({ status, code: 'TF400898' });
    },
  );

  it.each([
    ['TF200016', 404, 'The following project does not exist: Nope.'],
    ['TF200016', 400, 'The following project does not exist: Nope.'],
    ['VS800075', 404, "The project with id 'p' does not exist, or you do not have permission to access it."],
  ])('%s → AdoRejectedError with projectMissing (HTTP %i)', (code, status, text) => {
    const error = classify(status, `${code}: ${text}`, { projectScoped: false });
    expect(error).toBeInstanceOf(AdoRejectedError);
    expect(error).toMatchObject({ status, code, projectMissing: true });
  });

  it.each([
    ['TF401320', 400, 'Rule Error for field Title. Error code: Required, InvalidEmpty.'],
    ['TF401326', 400, "Invalid field status 'ReadOnly' for field 'System.BoardColumn'."],
    ['TF51535', 400, 'Cannot find field Custom.Risk.'],
    ['TF201036', 400, 'You can only add one parent link.'],
    ['VS402337', 400, 'The number of work items returned exceeds the size limit of 20000.'],
    ['TF401320', 500, 'Rule Error for field Title. Error code: Required.'],
    ['TF51535', 401, 'Cannot find field Custom.Risk.'],
  ])('%s → AdoRejectedError, not the project (HTTP %i)', (code, status, text) => {
    const error = classify(status, `${code}: ${text}`);
    expect(error).toBeInstanceOf(AdoRejectedError);
    expect(error).toMatchObject({ status, code, projectMissing: false, message: `${code}: ${text}` });
  });
});

describe('precedence: the code decides, the status only when the code is unknown', () => {
  it('a 400 carrying TF400898 is transient', () => {
    expect(classify(400, 'TF400898: An Internal Error Occurred.')).toBeInstanceOf(AdoTransientError);
  });

  it('a 404 carrying TF400813 is an authentication failure', () => {
    expect(classify(404, 'TF400813: The user is not authorized.')).toBeInstanceOf(AdoAuthError);
  });

  it('a 403 carrying TF400733 is throttling, not a refused PAT', () => {
    expect(classify(403, 'TF400733: Request was blocked.')).toBeInstanceOf(AdoThrottledError);
  });

  it('a 500 carrying TF401320 is a rejection of the item', () => {
    expect(classify(500, 'TF401320: Rule Error for field Title.')).toBeInstanceOf(AdoRejectedError);
  });

  it.each<[number, string | undefined, new (...args: never[]) => AdoError]>([
    [401, 'TF999999: something new', AdoAuthError],
    [403, undefined, AdoAuthError],
    [429, 'VS999999: something new', AdoThrottledError],
    [503, undefined, AdoThrottledError],
    [500, 'TF999999: something new', AdoTransientError],
    [502, undefined, AdoTransientError],
    [408, undefined, AdoTransientError],
    [400, 'TF999999: something new', AdoRejectedError],
    [409, 'TF26071: This work item has been changed by someone else.', AdoRejectedError],
  ])('HTTP %i with %j falls back to the status rules', (status, message, type) => {
    const error = classify(status, message);
    expect(error).toBeInstanceOf(type);
    expect(error?.status).toBe(status);
  });

  it('an unknown code on a project-scoped 404 saying the project is missing is still a missing project', () => {
    expect(classify(404, 'The project with id x does not exist.')).toMatchObject({ projectMissing: true });
    expect(classify(404, 'The project with id x does not exist.', { projectScoped: false })).toMatchObject({
      projectMissing: false,
    });
  });

  it('sign-in pages and redirects are authentication failures whatever the body says', () => {
    expect(classify(203, undefined, { contentType: 'text/html' })).toBeInstanceOf(AdoAuthError);
    expect(classify(200, undefined, { contentType: 'text/html' })).toBeInstanceOf(AdoAuthError);
    expect(classify(302, 'TF400898: An Internal Error Occurred.')).toBeInstanceOf(AdoAuthError);
    expect(classify(200, undefined)).toBeUndefined();
    expect(classify(204, undefined, { contentType: '' })).toBeUndefined();
  });
});

describe('error messages', () => {
  it.each([
    [401, `TF400813: ${UPSTREAM}`],
    [429, `TF400733: ${UPSTREAM}`],
    [500, `TF400898: ${UPSTREAM}`],
    [503, UPSTREAM],
    [403, UPSTREAM],
  ])('HTTP %i: only a rejection keeps the answer text; the others carry our sentence', (status, message) => {
    const error = classify(status, message);
    expect(error?.message).not.toContain('169.254');
    expect(error?.message).toMatch(/^Azure DevOps /);
  });
});

describe('describeAdoFailure', () => {
  const answerOf = (status: number, message: string) => classify(status, `${message} ${UPSTREAM} ${PAT}`);

  it.each([
    [
      'a refused PAT',
      () => answerOf(401, 'TF400813:'),
      'Azure DevOps refused the PAT (HTTP 401, TF400813): it is wrong, expired or lacks access',
    ],
    [
      'a permission code',
      () => answerOf(403, 'TF50309:'),
      'Azure DevOps refused the PAT (HTTP 403, TF50309): it is wrong, expired or lacks access',
    ],
    [
      'a sign-in page',
      () => classify(203, undefined, { contentType: 'text/html' }),
      'Azure DevOps answered with a sign-in page instead of JSON (HTTP 203): the PAT is invalid, expired or lacks access',
    ],
    [
      'a redirect',
      () => classify(302, undefined),
      'Azure DevOps redirected the request (HTTP 302), usually to a sign-in page: check the organization and the PAT',
    ],
    [
      'throttling',
      () => classify(429, `TF400733: ${UPSTREAM}`, { headers: { 'retry-after': '2.5' } }),
      'Azure DevOps is throttling requests (HTTP 429, TF400733): retry in 3 s',
    ],
    [
      'an internal error',
      () => answerOf(500, 'TF400898:'),
      'Azure DevOps failed (HTTP 500, TF400898): try again later',
    ],
    [
      'a timeout',
      () => new AdoTransientError(`did not answer ${UPSTREAM}`, undefined, { kind: 'timeout' }),
      'Azure DevOps did not answer in time',
    ],
    [
      'a network failure',
      () => new AdoTransientError(`ECONNREFUSED ${UPSTREAM}`, undefined, { kind: 'network' }),
      'Azure DevOps could not be reached (network failure)',
    ],
    [
      'a rejected item',
      () => answerOf(400, 'TF401320:'),
      'Azure DevOps rejected the request (HTTP 400, TF401320)',
    ],
    [
      'a missing project',
      () => answerOf(404, 'TF200016:'),
      'The Azure DevOps project does not exist or is not visible (HTTP 404, TF200016)',
    ],
    [
      'a host that is not allowed',
      () => new AdoHostNotAllowedError('origin https://evil.example is not allowed'),
      'No request was sent: origin https://evil.example is not allowed',
    ],
    ['anything else', () => new Error(`${UPSTREAM} ${PAT}`), 'The Azure DevOps request failed'],
  ])('%s', (_label, make, sentence) => {
    const text = describeAdoFailure(make());
    expect(text).toBe(sentence);
    expect(text).not.toContain(PAT);
    expect(text).not.toContain('169.254');
  });

  it('prints only well-formed codes and statuses (an adapter may set anything)', () => {
    const odd = new AdoRejectedError('x', 999, `TF1 ${UPSTREAM}`);
    expect(describeAdoFailure(odd)).toBe('Azure DevOps rejected the request');
  });
});
