import { AdoHostNotAllowedError } from '#core/ports/work-item-tracker.ts';

/**
 * Where a PAT may be sent. A configuration names an Azure DevOps organization, or a base URL on an
 * allowed origin; the PAT stored with it goes there and nowhere else (no other host, no loopback
 * service such as a Lambda runtime API, no metadata endpoint).
 */

/**
 * Azure DevOps organization names: English letters, digits and hyphens, starting and ending with a
 * letter or digit, at most 50 characters (learn.microsoft.com, "Naming restrictions", organization names).
 */
export const ORGANIZATION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/;

const DEV_AZURE_COM = 'https://dev.azure.com';
const VISUALSTUDIO_HOST = /^([a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?)\.visualstudio\.com$/;
const NAME_RULE =
  'letters, digits and hyphens, starting and ending with a letter or digit, at most 50 characters';

/** `localhost`, 127.0.0.0/8 or `[::1]`, as a WHATWG URL spells the host (IPv4 forms normalised). */
export function isLoopbackHost(hostname: string): boolean {
  return /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i.test(hostname);
}

export type OrganizationShape =
  | { ok: true; baseUrl: string; origin: string }
  | { ok: false; problem: string };

/**
 * The base URL an organization stands for, from its shape alone (whether its origin is allowed is
 * `isOriginAllowed`'s business): a name → `https://dev.azure.com/{name}`; a URL must be https (http only
 * for loopback hosts), without credentials, query or fragment; on dev.azure.com its path is exactly one
 * organization name.
 */
export function parseOrganization(organization: string): OrganizationShape {
  const text = organization.trim();
  if (!text) return { ok: false, problem: 'must not be empty' };
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    return ORGANIZATION_NAME.test(text)
      ? { ok: true, baseUrl: `${DEV_AZURE_COM}/${text}`, origin: DEV_AZURE_COM }
      : {
          ok: false,
          problem: `must be an Azure DevOps organization name (${NAME_RULE}) or a base URL`,
        };
  }
  // Checked on the text too: an empty query or fragment ("…?", "…#") leaves nothing in the parsed URL.
  if (/[?#]/.test(text)) return { ok: false, problem: 'must not have a query or a fragment' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'is not a valid URL' };
  }
  if (url.username || url.password || text.includes('@')) {
    return { ok: false, problem: 'must not contain credentials (user@host)' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return { ok: false, problem: 'must use https:// (http:// only for loopback hosts)' };
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (url.origin === DEV_AZURE_COM) {
    const name = path.slice(1);
    if (!ORGANIZATION_NAME.test(name)) {
      return {
        ok: false,
        problem: `must be https://dev.azure.com/{organization} with one organization name (${NAME_RULE})`,
      };
    }
    return { ok: true, baseUrl: `${DEV_AZURE_COM}/${name}`, origin: url.origin };
  }
  if (url.protocol === 'https:' && url.hostname.endsWith('.visualstudio.com')) {
    if (!VISUALSTUDIO_HOST.test(url.hostname) || url.port !== '') {
      return { ok: false, problem: `must be https://{organization}.visualstudio.com (${NAME_RULE})` };
    }
    if (path !== '' && path.toLowerCase() !== '/defaultcollection') {
      return { ok: false, problem: 'https://{organization}.visualstudio.com takes no path' };
    }
  }
  return { ok: true, baseUrl: `${url.origin}${path}`, origin: url.origin };
}

/**
 * Allowed: `https://dev.azure.com`, `https://{organization}.visualstudio.com`, and the configured
 * origins (`ADO_ALLOWED_ORIGINS`, as `parseAllowedOrigins` returns them).
 */
export function isOriginAllowed(origin: string, allowedOrigins: readonly string[]): boolean {
  if (origin === DEV_AZURE_COM) return true;
  const url = new URL(origin);
  if (url.protocol === 'https:' && url.port === '' && VISUALSTUDIO_HOST.test(url.hostname)) return true;
  // The list is checked again here: plain http only ever to loopback, whatever the caller passed.
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return false;
  return allowedOrigins.includes(url.origin);
}

/** `undefined` when the organization may receive a PAT, else why not (our words, for a 400 or a log). */
export function organizationProblem(
  organization: string,
  allowedOrigins: readonly string[],
): string | undefined {
  const shape = parseOrganization(organization);
  if (!shape.ok) return shape.problem;
  if (!isOriginAllowed(shape.origin, allowedOrigins)) {
    return (
      `origin ${shape.origin} is not allowed: use an organization name, https://dev.azure.com/{organization}, ` +
      'https://{organization}.visualstudio.com or an origin listed in ADO_ALLOWED_ORIGINS'
    );
  }
  return undefined;
}

/** The base URL requests for this organization go to; `AdoHostNotAllowedError` when a PAT may not go there. */
export function resolveAdoBaseUrl(organization: string, allowedOrigins: readonly string[] = []): string {
  const problem = organizationProblem(organization, allowedOrigins);
  if (problem !== undefined) throw new AdoHostNotAllowedError(`organization ${problem}`);
  return (parseOrganization(organization) as { baseUrl: string }).baseUrl;
}

/**
 * `ADO_ALLOWED_ORIGINS`: comma-separated origins (`scheme://host[:port]`, nothing else) for Azure DevOps
 * Server or a test double: https, or plain http for a loopback host. `loopback: false` (AWS) refuses
 * loopback hosts altogether: in a Lambda, the loopback interface is the runtime API. Throws on any
 * other entry.
 */
export function parseAllowedOrigins(
  value: string | readonly string[] | undefined,
  options: { loopback: boolean; setting?: string } = { loopback: true },
): string[] {
  const setting = options.setting ?? 'ADO_ALLOWED_ORIGINS';
  const entries = (typeof value === 'string' ? value.split(',') : [...(value ?? [])])
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return [
    ...new Set(
      entries.map((entry) => {
        const invalid = (why: string) => new Error(`${setting}: "${entry}" ${why}`);
        let url: URL;
        try {
          url = new URL(entry);
        } catch {
          throw invalid('is not an origin (scheme://host[:port])');
        }
        if (url.username || url.password || entry.includes('@') || /[?#]/.test(entry)) {
          throw invalid('must be scheme://host[:port] only');
        }
        if (url.pathname !== '/' || /^[a-z]+:\/\/[^/]+\/./i.test(entry)) {
          throw invalid('must not have a path (scheme://host[:port] only)');
        }
        if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('must use https://');
        if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
          throw invalid('uses http:// for a host that is not loopback');
        }
        if (!options.loopback && isLoopbackHost(url.hostname)) {
          throw invalid('is a loopback origin, which is not allowed here');
        }
        return url.origin;
      }),
    ),
  ];
}
