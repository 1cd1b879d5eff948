import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ArdoqRestClient,
  type ArdoqRestClientOptions,
  ardoqClientFactory,
} from '#adapters/ardoq-rest-client.ts';
import type { HttpTransport } from '#adapters/http-transport.ts';
import {
  ArdoqAuthError,
  ArdoqHostNotAllowedError,
  ArdoqNotFoundError,
  ArdoqThrottledError,
  ArdoqTransientError,
} from '#core/ports/ardoq.ts';
import { type ArdoqSimulator, startArdoqSimulator } from '#sim/ardoq/index.ts';

const ORG = 'acme';

/** The REST adapter against the Ardoq simulator over loopback HTTP (the simulator follows Ardoq's contract). */
describe('ArdoqRestClient', () => {
  let sim: ArdoqSimulator;
  const waits: number[] = [];
  const client = (options: ArdoqRestClientOptions & { token?: string } = {}) =>
    new ArdoqRestClient(
      { apiHost: sim.url, token: options.token ?? sim.token, orgLabel: ORG },
      {
        allowedOrigins: [sim.url],
        sleep: async (ms) => {
          waits.push(ms);
        },
        ...options,
      },
    );
  const collect = async <T>(pages: AsyncIterable<T[]>) => {
    const all: T[] = [];
    let count = 0;
    for await (const page of pages) {
      all.push(...page);
      count += 1;
    }
    return { all, pages: count };
  };

  beforeAll(async () => {
    sim = await startArdoqSimulator({ port: 0, orgLabel: ORG, pageSize: 50, workspacePageSize: 2 });
  });
  afterAll(async () => {
    await sim?.close();
  });
  beforeEach(() => {
    waits.length = 0;
    sim.clearRequests();
    sim.setFaults({ latencyMs: 0, throttleEvery: 0 });
  });

  it('reads /me with the bearer token, a User-Agent and X-org', async () => {
    const me = await client().me();

    expect(me.user?.email).toEqual(expect.any(String));
    expect(me.organization?.label).toBe(ORG);
    const [request] = sim.requests;
    expect(request?.auth).toBe('valid');
    expect(request?.headers['user-agent']).toMatch(/^ardoq-ado-sync\//);
    expect(request?.headers['x-org']).toBe(ORG);
    expect(request?.headers.accept).toBe('application/json');
  });

  it('follows _links.next to the end: every workspace and every component exactly once', async () => {
    const workspaces = await collect(client().workspaces());
    expect(workspaces.pages).toBeGreaterThanOrEqual(2);
    expect(workspaces.all.map((w) => w._id)).toEqual(
      expect.arrayContaining([sim.demoWorkspace.id, sim.edgeCases.id]),
    );
    expect(new Set(workspaces.all.map((w) => w._id)).size).toBe(workspaces.all.length);

    const components = await collect(client().components(sim.demoWorkspace.id));
    expect(components.pages).toBe(Math.ceil(sim.demoWorkspace.components / 50));
    expect(components.all).toHaveLength(sim.demoWorkspace.components);
    expect(new Set(components.all.map((c) => c._id)).size).toBe(sim.demoWorkspace.components);
    expect(components.all[0]).toHaveProperty('customFields');
    // Every request after the first came from a next link of the same origin, with the same headers.
    expect(sim.requests.every((r) => r.auth === 'valid' && r.headers['x-org'] === ORG)).toBe(true);
  });

  it('reads one workspace and its context; an unknown workspace is ArdoqNotFoundError', async () => {
    expect(await client().workspace(sim.demoWorkspace.id)).toMatchObject({ _id: sim.demoWorkspace.id });
    expect(await client().context(sim.demoWorkspace.id)).toHaveProperty('componentTypes');
    await expect(client().workspace('0123456789abcdef01234567')).rejects.toBeInstanceOf(ArdoqNotFoundError);
  });

  it('encodes ids into the path: an id cannot walk to another resource', async () => {
    await expect(client().workspace('../me')).rejects.toBeInstanceOf(ArdoqNotFoundError);
    expect(sim.requests.at(-1)?.path).toBe('/api/v2/workspaces/..%2Fme');
  });

  it('a wrong token is ArdoqAuthError (401), without the token in its message', async () => {
    const error = await client({ token: 'not-the-token-0123456789' })
      .me()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArdoqAuthError);
    expect(error).toMatchObject({ status: 401 });
    expect(String((error as Error).message)).not.toContain('not-the-token');
  });

  it('an HTML page instead of JSON (a sign-in page) is ArdoqAuthError', async () => {
    sim.failNext('html');
    await expect(client().me()).rejects.toMatchObject({ name: 'ArdoqAuthError', status: 200 });
  });

  it('waits out a 429 for its Retry-After, up to three times, then gives up with ArdoqThrottledError', async () => {
    sim.failNext('throttle', 2);
    expect(await client().me()).toBeDefined();
    expect(waits).toEqual([1000, 1000]);

    waits.length = 0;
    sim.failNext('throttle', 4);
    const error = await client()
      .me()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArdoqThrottledError);
    expect((error as ArdoqThrottledError).retryAfterMs).toBe(1000);
    expect(waits).toEqual([1000, 1000, 1000]);
    sim.clearRequests();
  });

  it('a Retry-After longer than the in-call limit is thrown at once', async () => {
    sim.failNext('throttle');
    await expect(client({ maxInCallWaitMs: 500 }).me()).rejects.toBeInstanceOf(ArdoqThrottledError);
    expect(waits).toEqual([]);
  });

  it('retries one 5xx, then fails with ArdoqTransientError', async () => {
    sim.failNext('server-error');
    expect(await client().me()).toBeDefined();
    sim.failNext('server-error', 2);
    await expect(client().me()).rejects.toMatchObject({ name: 'ArdoqTransientError', status: 500 });
  });

  it('a slow answer times out; a dropped connection is a network failure', async () => {
    sim.failNext('slow');
    await expect(client({ timeoutMs: 200, maxTransientRetries: 0 }).me()).rejects.toMatchObject({
      name: 'ArdoqTransientError',
      kind: 'timeout',
    });
    sim.failNext('drop');
    await expect(client({ maxTransientRetries: 0 }).me()).rejects.toMatchObject({
      name: 'ArdoqTransientError',
      kind: 'network',
    });
  });

  it('never sends the token to a next link on another origin', async () => {
    const sent: string[] = [];
    const transport: HttpTransport = async (call) => {
      sent.push(call.url);
      const next = call.url.includes('evil')
        ? undefined
        : 'https://evil.example.com/api/v2/workspaces?page=2';
      return {
        status: 200,
        headers: { get: (name) => (name === 'content-type' ? 'application/json' : null) },
        body: JSON.stringify({
          values: [{ _id: 'a' }],
          _links: next ? { next: { href: next } } : {},
          _meta: {},
        }),
      };
    };
    const pages = client({ transport }).workspaces();
    await expect(collect(pages)).rejects.toBeInstanceOf(ArdoqTransientError);
    expect(sent).toEqual([`${sim.url}/api/v2/workspaces`]);
  });

  it('keeps the token out of a network error’s message', async () => {
    const transport: HttpTransport = async () => {
      throw new Error(`socket hang up while sending Bearer ${sim.token}`);
    };
    const error = await client({ transport, maxTransientRetries: 0 })
      .me()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArdoqTransientError);
    expect((error as Error).message).not.toContain(sim.token);
  });

  it('refuses a host a token may not go to before sending anything', () => {
    const factory = ardoqClientFactory({ allowedOrigins: 'https://ardoq.corp.example' });
    for (const apiHost of [
      'https://app.ardoq.com.evil.com',
      'http://app.ardoq.com',
      'https://user@app.ardoq.com',
    ]) {
      expect(() => factory({ apiHost, token: 't' })).toThrow(ArdoqHostNotAllowedError);
    }
    expect(() => factory({ apiHost: 'https://ardoq.corp.example', token: 't' })).not.toThrow();
    expect(() => factory({ apiHost: 'https://acme.ardoq.com', token: 't' })).not.toThrow();
  });
});
