import { describe, expect, it } from 'vitest';
import {
  AdoRestWorkItemTracker,
  adoTrackerFactory,
  DEFAULT_ADO_TIMEOUT_MS,
  parseAllowedOrigins,
  resolveAdoBaseUrl,
} from '#adapters/ado-rest-work-item-tracker.ts';
import { organizationProblem, parseOrganization } from '#core/domain/ado-organization.ts';
import { noMetrics, silentLog } from '#core/pipeline/deps.ts';
import { AdoAuthError, AdoHostNotAllowedError, describeAdoFailure } from '#core/ports/work-item-tracker.ts';
import { processorDeps } from '#lambdas/processor/aws-deps.ts';
import { ProcessorSettings } from '#lambdas/processor/settings.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';

// Where a PAT may go: organization names, base URLs, ADO_ALLOWED_ORIGINS, and the factory that refuses
// to build a tracker for anything else.

const PAT = ['test', 'only', 'organization', 'pat', 'k3J9'].join('-');
const CORP = 'https://ado.corp.example';
const FAKE = 'http://127.0.0.1:8080';

describe('organization names (Azure DevOps naming rules)', () => {
  it.each([
    ['acme', 'https://dev.azure.com/acme'],
    ['  Acme-Corp-2 ', 'https://dev.azure.com/Acme-Corp-2'],
    ['a', 'https://dev.azure.com/a'],
    ['7', 'https://dev.azure.com/7'],
    [`a${'b'.repeat(48)}c`, `https://dev.azure.com/a${'b'.repeat(48)}c`],
  ])('%j → %s', (organization, baseUrl) => {
    expect(resolveAdoBaseUrl(organization)).toBe(baseUrl);
  });

  it.each([
    '',
    '   ',
    '-acme',
    'acme-',
    'my org',
    'acme_corp',
    'acme.corp',
    'acmé',
    `a${'b'.repeat(49)}c`,
    'acme/other',
    'acme#x',
    'acme?x',
    '..',
  ])('refuses %j', (organization) => {
    expect(organizationProblem(organization, [])).toEqual(expect.any(String));
    expect(() => resolveAdoBaseUrl(organization)).toThrow(AdoHostNotAllowedError);
  });
});

describe('base URLs', () => {
  it('accepts https://dev.azure.com/{organization} (one segment, trailing slash trimmed)', () => {
    expect(resolveAdoBaseUrl('https://dev.azure.com/acme')).toBe('https://dev.azure.com/acme');
    expect(resolveAdoBaseUrl('https://DEV.azure.com:443/acme/')).toBe('https://dev.azure.com/acme');
  });

  it('accepts https://{organization}.visualstudio.com', () => {
    expect(resolveAdoBaseUrl('https://acme.visualstudio.com')).toBe('https://acme.visualstudio.com');
    expect(resolveAdoBaseUrl('https://acme.visualstudio.com/DefaultCollection/')).toBe(
      'https://acme.visualstudio.com/DefaultCollection',
    );
  });

  it('accepts another origin only when it is allowed, keeping its path without trailing slashes', () => {
    expect(resolveAdoBaseUrl(`${CORP}/tfs/Coll//`, [CORP])).toBe(`${CORP}/tfs/Coll`);
    expect(resolveAdoBaseUrl(`${FAKE}/org/`, [FAKE])).toBe(`${FAKE}/org`);
    expect(resolveAdoBaseUrl('http://localhost:3000/org', ['http://localhost:3000'])).toBe(
      'http://localhost:3000/org',
    );
    expect(resolveAdoBaseUrl('http://[::1]:3000/org', ['http://[::1]:3000'])).toBe('http://[::1]:3000/org');
  });

  it.each([
    ['a dev.azure.com URL with an extra path', 'https://dev.azure.com/acme/evil', /one organization name/],
    ['a dev.azure.com URL without an organization', 'https://dev.azure.com/', /one organization name/],
    ['dev.azure.com on another port', 'https://dev.azure.com:8443/acme', /not allowed/],
    ['userinfo that hides the real host', 'https://dev.azure.com@evil.example/acme', /credentials/],
    ['credentials', 'https://user:pw@dev.azure.com/acme', /credentials/],
    ['a query string', 'https://dev.azure.com/acme?x=1', /query or a fragment/],
    ['an empty query', 'https://dev.azure.com/acme?', /query or a fragment/],
    ['a fragment', `${FAKE}/org#https://dev.azure.com/acme`, /query or a fragment/],
    ['plain http to Azure DevOps', 'http://dev.azure.com/acme', /https/],
    ['the instance metadata service', 'http://169.254.169.254/latest/meta-data', /https/],
    ['a loopback look-alike', 'http://127.0.0.1.evil.example/acme', /https/],
    [
      'a loopback origin not in the list (the Lambda runtime API)',
      'http://127.0.0.1:9001/org',
      /not allowed/,
    ],
    ['an https host not in the list', 'https://evil.example/acme', /not allowed/],
    ['a visualstudio.com look-alike', 'https://acme.visualstudio.com.evil.example', /not allowed/],
    ['a visualstudio.com host with an invalid name', 'https://a_b.visualstudio.com', /visualstudio/],
    ['a visualstudio.com URL with a path', 'https://acme.visualstudio.com/x', /no path/],
    ['another scheme', 'ftp://127.0.0.1/acme', /https/],
    ['no host', 'https://', /not a valid URL/],
  ])('refuses %s', (_label, organization, problem) => {
    const error = (() => {
      try {
        resolveAdoBaseUrl(organization, [CORP, FAKE]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AdoHostNotAllowedError);
    expect(error).toBeInstanceOf(AdoAuthError);
    expect((error as AdoHostNotAllowedError).problem).toMatch(problem);
  });

  it('checks the shape without the list, so a configuration can be compared before its origin is', () => {
    expect(parseOrganization('acme')).toEqual({
      ok: true,
      baseUrl: 'https://dev.azure.com/acme',
      origin: 'https://dev.azure.com',
    });
    expect(parseOrganization('https://dev.azure.com/acme/')).toMatchObject({
      baseUrl: 'https://dev.azure.com/acme',
    });
    expect(parseOrganization('https://evil.example/x')).toMatchObject({ ok: true });
    expect(parseOrganization('http://169.254.169.254')).toMatchObject({ ok: false });
  });
});

describe('ADO_ALLOWED_ORIGINS', () => {
  it('reads comma-separated origins, normalised and without duplicates', () => {
    expect(
      parseAllowedOrigins(' https://ADO.corp.example , http://127.0.0.1:8080,,https://ado.corp.example:443'),
    ).toEqual([CORP, FAKE]);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins('')).toEqual([]);
    expect(parseAllowedOrigins([CORP, `${CORP}/`])).toEqual([CORP]);
  });

  it.each([
    ['http://ado.corp.example', /not loopback/],
    ['http://169.254.169.254', /not loopback/],
    ['https://ado.corp.example/tfs', /path/],
    ['https://user@ado.corp.example', /scheme:\/\/host/],
    ['https://ado.corp.example?x', /scheme:\/\/host/],
    ['*', /not an origin/],
    ['ado.corp.example', /not an origin|https/],
    ['ftp://ado.corp.example', /https/],
  ])('refuses %j at parse', (entry, problem) => {
    expect(() => parseAllowedOrigins(entry)).toThrow(problem);
  });

  it('refuses loopback origins where they are not allowed (in AWS: the Lambda runtime API)', () => {
    expect(() => parseAllowedOrigins(FAKE, { loopback: false })).toThrow(/loopback/);
    expect(() => parseAllowedOrigins('https://localhost:8443', { loopback: false })).toThrow(/loopback/);
    expect(parseAllowedOrigins(CORP, { loopback: false })).toEqual([CORP]);
  });
});

describe('adoTrackerFactory', () => {
  it('builds REST trackers with a 20 s default timeout', () => {
    const trackers = adoTrackerFactory({ allowedOrigins: undefined });
    const tracker = trackers({ organization: 'acme', pat: PAT });
    expect(tracker).toBeInstanceOf(AdoRestWorkItemTracker);
    expect((tracker as AdoRestWorkItemTracker).baseUrl).toBe('https://dev.azure.com/acme');
    expect(DEFAULT_ADO_TIMEOUT_MS).toBe(20_000);
  });

  it('builds trackers for allowed origins only', () => {
    const trackers = adoTrackerFactory({ allowedOrigins: `${CORP},${FAKE}` });
    expect((trackers({ organization: `${CORP}/tfs/Coll`, pat: PAT }) as AdoRestWorkItemTracker).baseUrl).toBe(
      `${CORP}/tfs/Coll`,
    );
    expect((trackers({ organization: FAKE, pat: PAT }) as AdoRestWorkItemTracker).baseUrl).toBe(FAKE);
    expect(() => trackers({ organization: 'http://127.0.0.1:9001', pat: PAT })).toThrow(
      AdoHostNotAllowedError,
    );
  });

  it('refuses a stored organization that is not allowed any more, with a clear sentence and no PAT', () => {
    const trackers = adoTrackerFactory({ allowedOrigins: [] });
    const error = (() => {
      try {
        trackers({ organization: `${FAKE}/org`, pat: PAT });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AdoHostNotAllowedError);
    expect(describeAdoFailure(error)).toBe(
      `No request was sent: organization origin ${FAKE} is not allowed: use an organization name, ` +
        'https://dev.azure.com/{organization}, https://{organization}.visualstudio.com or an origin listed ' +
        'in ADO_ALLOWED_ORIGINS',
    );
    expect(JSON.stringify(error)).not.toContain(PAT);
    expect(String(error)).not.toContain(PAT);
  });

  it('refuses a list with an http origin that is not loopback when it is built', () => {
    expect(() => adoTrackerFactory({ allowedOrigins: 'http://ado.corp.example' })).toThrow(/not loopback/);
  });
});

describe('AWS wiring (ADO_ALLOWED_ORIGINS of the functions)', () => {
  const trackersOf = (env: NodeJS.ProcessEnv) =>
    processorDeps(parseSettings(ProcessorSettings, env), silentLog, noMetrics).trackers;
  const env = (extra: Record<string, string> = {}) => ({
    DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:c',
    DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s',
    DB_NAME: 'ardoq_sync',
    WORK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work',
    FINALIZE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/finalize',
    PAT_SECRET_PREFIX: 'ardoq-ado-sync/test/pat',
    ...extra,
  });

  it('allows only Azure DevOps by default, and the listed https origins', () => {
    const plain = trackersOf(env());
    expect(() => plain({ organization: `${CORP}/tfs`, pat: PAT })).toThrow(AdoHostNotAllowedError);
    expect((plain({ organization: 'acme', pat: PAT }) as AdoRestWorkItemTracker).baseUrl).toBe(
      'https://dev.azure.com/acme',
    );
    const server = trackersOf(env({ ADO_ALLOWED_ORIGINS: CORP }));
    expect((server({ organization: `${CORP}/tfs`, pat: PAT }) as AdoRestWorkItemTracker).baseUrl).toBe(
      `${CORP}/tfs`,
    );
  });

  it.each(['http://ado.corp.example', 'http://127.0.0.1:9001', 'https://localhost'])(
    'fails at cold start with ADO_ALLOWED_ORIGINS=%s',
    (value) => {
      expect(() => trackersOf(env({ ADO_ALLOWED_ORIGINS: value }))).toThrow(/ADO_ALLOWED_ORIGINS/);
    },
  );
});
