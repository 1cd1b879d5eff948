import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AdoSimulator,
  RATE_LIMIT_DEFAULTS,
  rateLimitFromFlags,
  type SimFaults,
  type SimRateLimit,
  startAdoSimulator,
} from '#sim/ado/index.ts';
import { RateLimiter, resolveRateLimit } from '#sim/ado/rate-limit.ts';

// The rate-limit mode (faults.rateLimit): Azure DevOps' TSTU throttling. The accounting is checked on a
// fake clock; over HTTP, windows are either long (nothing expires during a test) or waited out with a wide
// margin, so that a loaded machine only makes the tests slower, never wrong.

const PAT = 'rate-limit-test-pat';
const RATE_HEADERS = [
  'x-ratelimit-resource',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-ratelimit-delay',
  'retry-after',
];

const basic = (pat: string) => `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;

/** The rate-limit headers an answer carries (names lower case). */
const rateHeaders = (res: Response) =>
  Object.fromEntries(
    RATE_HEADERS.flatMap((name) => (res.headers.has(name) ? [[name, res.headers.get(name)]] : [])),
  );

describe('RateLimiter (on a fake clock)', () => {
  const at = (start = 0) => {
    const clock = { now: start };
    return { clock, now: () => clock.now };
  };
  const EPOCH = 1_700_000_000_000;

  it('fills the defaults and refuses values out of range', () => {
    expect(resolveRateLimit(undefined)).toBeUndefined();
    expect(resolveRateLimit({ limitTstu: 200 })).toEqual({ limitTstu: 200, ...RATE_LIMIT_DEFAULTS });
    expect(() => resolveRateLimit({ limitTstu: 0 })).toThrow(/limitTstu/);
    expect(() => resolveRateLimit({ limitTstu: 10, warnFraction: 1.5 })).toThrow(/warnFraction/);
    expect(() => resolveRateLimit({ limitTstu: 10, hardLimitFactor: 0.5 })).toThrow(/hardLimitFactor/);
    expect(() => resolveRateLimit({ limitTstu: 10, windowMs: 0 })).toThrow(/windowMs/);
    expect(() => resolveRateLimit({ limitTstu: 10, maxDelayMs: Number.NaN })).toThrow(/maxDelayMs/);
  });

  it('by default behaves as the service: 0.1 TSTU a request, headers from half the limit, a 5-minute window', () => {
    const { clock, now } = at();
    const limiter = new RateLimiter({ limitTstu: 1 }, now);
    const kinds = Array.from({ length: 11 }, () => limiter.admit(false)?.kind);
    expect(kinds).toEqual([...Array(5).fill('quiet'), ...Array(5).fill('warn'), 'delay']);
    expect(limiter.admit(true)?.kind).toBe('delay'); // a create costs 1: usage 1.1 → 2.1
    expect(limiter.admit(false)?.kind).toBe('reject'); // 2.1 ≥ 1.5 × the limit
    clock.now = 299_999;
    expect(limiter.usage()).toBeCloseTo(2.1);
    clock.now = 300_000;
    expect(limiter.usage()).toBe(0);
  });

  it('is quiet under the warn fraction, warns from it, delays from the limit and refuses from the hard limit', () => {
    const { clock, now } = at();
    const limiter = new RateLimiter({ limitTstu: 10, tstuPerRequest: 1, windowMs: 10_000 }, now);
    const kinds: string[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 15; i++) {
      clock.now = i * 10;
      const admission = limiter.admit(false);
      kinds.push(admission?.kind ?? 'off');
      delays.push(admission?.delayMs ?? -1);
    }
    expect(kinds).toEqual([...Array(5).fill('quiet'), ...Array(5).fill('warn'), ...Array(5).fill('delay')]);
    // Usage 10..14 at t = 100..140: below 10 once the 1st..5th charge (t = 0..40) leaves the window.
    expect(delays.slice(10)).toEqual([9_900, 9_900, 9_900, 9_900, 9_900]);
    expect(limiter.usage()).toBe(15);
    clock.now = 150;
    const refused = limiter.admit(false);
    expect(refused).toMatchObject({ kind: 'reject', delayMs: 0, chargedTstu: 0 });
    expect(limiter.usage()).toBe(15); // a refused request is not charged
    if (!refused) throw new Error('unreachable');
    // Below 10 once the 6th charge (t = 50) leaves: 10,050 - 150 = 9,900 ms → 10 s; empty once the last
    // (t = 140) leaves, 9,990 ms from now.
    expect(limiter.headers(refused, EPOCH)).toEqual({
      'X-RateLimit-Resource': 'Core',
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Math.ceil((EPOCH + 10_140 - 150) / 1000)),
      'X-RateLimit-Delay': '0.000',
      'Retry-After': '10',
    });
  });

  it('caps a hold at maxDelayMs and gives the headers of each kind', () => {
    const { clock, now } = at(1_000);
    const limiter = new RateLimiter(
      { limitTstu: 4, tstuPerRequest: 1, windowMs: 60_000, maxDelayMs: 250, warnFraction: 0.5 },
      now,
    );
    const quiet = limiter.admit(false);
    const quiet2 = limiter.admit(false);
    const warn = limiter.admit(false);
    expect([quiet?.kind, quiet2?.kind, warn?.kind]).toEqual(['quiet', 'quiet', 'warn']);
    if (!quiet || !warn) throw new Error('unreachable');
    expect(limiter.headers(quiet, EPOCH)).toEqual({});
    clock.now = 2_000;
    expect(limiter.headers(warn, EPOCH)).toEqual({
      'X-RateLimit-Resource': 'Core',
      'X-RateLimit-Limit': '4',
      'X-RateLimit-Remaining': '1',
      'X-RateLimit-Reset': String(Math.ceil((EPOCH + 60_000 - 1_000) / 1000)),
    });
    limiter.admit(false);
    const delayed = limiter.admit(false);
    expect(delayed).toMatchObject({ kind: 'delay', delayMs: 250, chargedTstu: 1 });
    if (!delayed) throw new Error('unreachable');
    expect(limiter.headers(delayed, EPOCH)).toMatchObject({
      'X-RateLimit-Delay': '0.250',
      'X-RateLimit-Remaining': '0',
      // Usage 5 ≥ 4 until the 2nd charge (t = 1,000) leaves at 61,000: 59 s from t = 2,000.
      'Retry-After': '59',
    });
  });

  it('slides: charges leave the window one by one, and usage comes back to 0', () => {
    const { clock, now } = at();
    const limiter = new RateLimiter({ limitTstu: 3, tstuPerRequest: 1, windowMs: 1_000 }, now);
    for (const t of [0, 100, 200, 300]) {
      clock.now = t;
      limiter.admit(false);
    }
    expect(limiter.usage()).toBe(4);
    clock.now = 999;
    expect(limiter.usage()).toBe(4);
    clock.now = 1_000; // the charge of t = 0 counts during [0, 1,000)
    expect(limiter.usage()).toBe(3);
    expect(limiter.admit(false)?.kind).toBe('delay');
    clock.now = 1_250;
    expect(limiter.usage()).toBe(2);
    expect(limiter.admit(false)?.kind).toBe('warn');
    clock.now = 10_000;
    expect(limiter.usage()).toBe(0);
    expect(limiter.admit(false)?.kind).toBe('quiet');
  });

  it('charges creates tstuPerCreate, sums decimal costs exactly, and keeps up with long runs', () => {
    const { clock, now } = at();
    const limiter = new RateLimiter({ limitTstu: 1_000_000, tstuPerRequest: 0.1, tstuPerCreate: 0.7 }, now);
    for (let i = 0; i < 30; i++) limiter.admit(false);
    expect(limiter.usage()).toBe(3);
    limiter.admit(true);
    expect(limiter.usage()).toBe(3.7);
    // 50,000 charges 1 ms apart through a 1-second window: 1,000 stay in it.
    limiter.configure({ limitTstu: 1_000_000, tstuPerRequest: 1, windowMs: 1_000 });
    for (let i = 1; i <= 50_000; i++) {
      clock.now = 10_000 + i;
      limiter.admit(false);
    }
    expect(limiter.usage()).toBe(1_000);
  });

  it('keeps usage when reconfigured, forgets it when turned off', () => {
    const { now } = at();
    const limiter = new RateLimiter({ limitTstu: 10, tstuPerRequest: 1 }, now);
    for (let i = 0; i < 6; i++) limiter.admit(false);
    limiter.configure({ limitTstu: 4, tstuPerRequest: 1 });
    expect(limiter.usage()).toBe(6);
    expect(limiter.admit(false)?.kind).toBe('reject'); // 6 ≥ 4 × 1.5
    expect(() => limiter.configure({ limitTstu: -1 })).toThrow(/limitTstu/);
    expect(limiter.config?.limitTstu).toBe(4); // a bad configuration changes nothing
    limiter.configure(undefined);
    expect(limiter.admit(false)).toBeUndefined();
    limiter.configure({ limitTstu: 4, tstuPerRequest: 1 });
    expect(limiter.usage()).toBe(0);
    expect(limiter.admit(false)?.kind).toBe('quiet');
  });
});

describe('rate-limit mode over HTTP', () => {
  let sim: AdoSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  async function start(rateLimit?: SimRateLimit, faults: SimFaults = {}): Promise<AdoSimulator> {
    sim = await startAdoSimulator({ pat: PAT, faults: { ...faults, ...(rateLimit && { rateLimit }) } });
    return sim;
  }

  const get = (s: AdoSimulator, path = '/_apis/projects', pat = PAT) =>
    fetch(`${s.url}${path}${path.includes('?') ? '&' : '?'}api-version=7.1`, {
      headers: { Authorization: basic(pat) },
    });

  /** `count` GETs one after the other; answers their rate-limit headers (bodies read). */
  async function gets(s: AdoSimulator, count: number): Promise<Array<Record<string, string | null>>> {
    const seen: Array<Record<string, string | null>> = [];
    for (let i = 0; i < count; i++) {
      const res = await get(s);
      expect(res.status).toBe(200);
      await res.json();
      seen.push(rateHeaders(res));
    }
    return seen;
  }

  const createItem = (s: AdoSimulator, title: string) =>
    fetch(`${s.url}/Agile%20Project/_apis/wit/workitems/$Task?api-version=7.1`, {
      method: 'POST',
      headers: { Authorization: basic(PAT), 'Content-Type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: '/fields/System.Title', value: title }]),
    });

  it('sends no rate-limit header under the warn fraction, and Resource/Limit/Remaining/Reset from it', async () => {
    const s = await start({ limitTstu: 10, tstuPerRequest: 1, windowMs: 60_000 });
    const before = Date.now();
    const seen = await gets(s, 10);
    expect(seen.slice(0, 5)).toEqual(Array(5).fill({}));
    for (const [i, headers] of seen.slice(5).entries()) {
      expect(headers).toEqual({
        'x-ratelimit-resource': 'Core',
        'x-ratelimit-limit': '10',
        'x-ratelimit-remaining': String(4 - i), // usage 6..10 once this request is charged
        'x-ratelimit-reset': expect.any(String),
      });
      const reset = Number(headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 60);
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 61);
    }
    expect(s.stats).toMatchObject({
      tstuCharged: 10,
      rateLimitDelayed: 0,
      rateLimitRejected: 0,
      throttled: 0,
    });
  });

  it('holds a request over the limit, then answers it with X-RateLimit-Delay and Retry-After', async () => {
    const s = await start({ limitTstu: 10, tstuPerRequest: 1, windowMs: 60_000, maxDelayMs: 300 });
    await gets(s, 10);
    const started = performance.now();
    const res = await get(s);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { count: number }).count).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    const headers = rateHeaders(res);
    expect(headers).toMatchObject({
      'x-ratelimit-resource': 'Core',
      'x-ratelimit-limit': '10',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-delay': '0.300',
    });
    // Usage stays ≥ 10 until the first charge leaves the 60-second window.
    expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(50);
    expect(Number(headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(s.stats).toMatchObject({ tstuCharged: 11, rateLimitDelayed: 1, rateLimitDelayedMs: 300 });
  });

  it('holds only until usage drops below the limit (short window)', async () => {
    const s = await start({ limitTstu: 2, tstuPerRequest: 1, windowMs: 2_000 });
    const firstAt = performance.now();
    await gets(s, 2);
    // The first charge leaves the window 2 s after it was made, some 500 ms before this request.
    await sleep(500);
    const started = performance.now();
    const res = await get(s);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    const delay = Number(res.headers.get('x-ratelimit-delay'));
    const untilFirstLeaves = 2_000 - (started - firstAt);
    expect(delay * 1000).toBeGreaterThan(untilFirstLeaves - 100);
    // Not the whole window: a hold of 2 s would mean it waited for usage to empty, not to drop below.
    expect(delay * 1000).toBeLessThanOrEqual(untilFirstLeaves + 100);
    expect(elapsed).toBeGreaterThanOrEqual(delay * 1000 - 5);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    expect(s.stats.rateLimitDelayed).toBe(1);
    expect(Math.abs(s.stats.rateLimitDelayedMs - delay * 1000)).toBeLessThanOrEqual(1);
  });

  it('answers 429 TF400733 over the hard limit, with every header, and charges nothing', async () => {
    const s = await start({ limitTstu: 10, tstuPerRequest: 5, windowMs: 60_000, maxDelayMs: 0 });
    await gets(s, 3); // usage 0, 5 (warn), 10 (delayed 0 ms) → 15
    const items = s.workItems().length;
    const res = await createItem(s, 'Blocked');
    expect(res.status).toBe(429);
    const body = (await res.json()) as Record<string, unknown>;
    expect(String(body.message)).toMatch(
      /^TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'\./,
    );
    expect(body).toMatchObject({ typeKey: 'RequestBlockedException', errorCode: 0, eventId: 3200 });
    const headers = rateHeaders(res);
    expect(headers).toMatchObject({
      'x-ratelimit-resource': 'Core',
      'x-ratelimit-limit': '10',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-delay': '0.000',
      'x-ratelimit-reset': expect.any(String),
    });
    expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(50);
    expect(Number(headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(s.workItems().length).toBe(items);
    expect(s.stats).toMatchObject({
      tstuCharged: 15,
      rateLimitDelayed: 1,
      rateLimitDelayedMs: 0,
      rateLimitRejected: 1,
      throttled: 1,
    });
  });

  it('recovers once the window has slid past the charges', async () => {
    const s = await start({ limitTstu: 2, tstuPerRequest: 2, windowMs: 1_000, hardLimitFactor: 1 });
    await gets(s, 1);
    const refused = await get(s);
    expect(refused.status).toBe(429);
    await refused.json();
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBe(1);
    await sleep(retryAfter * 1000 + 100);
    const res = await get(s);
    expect(res.status).toBe(200);
    expect(rateHeaders(res)).toEqual({});
    expect(s.stats).toMatchObject({ tstuCharged: 4, rateLimitRejected: 1 });
  });

  it('charges creates tstuPerCreate, ignores unauthenticated requests, and labels error answers', async () => {
    const s = await start({ limitTstu: 10, tstuPerRequest: 1, tstuPerCreate: 3, windowMs: 60_000 });
    const created = await createItem(s, 'Costly');
    expect(created.status).toBe(200);
    await created.json();
    expect(s.stats.tstuCharged).toBe(3);
    const anonymous = await get(s, '/_apis/projects', 'wrong-pat');
    expect(anonymous.status).toBe(203);
    await anonymous.text();
    expect(s.stats.tstuCharged).toBe(3);
    await gets(s, 2); // usage 5
    const missing = await get(s, '/No%20Such%20Project/_apis/wit/workitemtypes');
    expect(missing.status).toBe(404);
    await missing.json();
    expect(rateHeaders(missing)).toMatchObject({ 'x-ratelimit-remaining': '4' });
    expect(s.stats.tstuCharged).toBe(6);
  });

  it('is set and cleared at run time with setFaults, next to the other faults', async () => {
    const s = await start();
    await gets(s, 3);
    expect(s.stats.tstuCharged).toBe(0); // off: nothing charged, no header
    expect(() => s.setFaults({ rateLimit: { limitTstu: 10, warnFraction: 2 } })).toThrow(/warnFraction/);
    s.setFaults({
      latencyMs: 20,
      rateLimit: { limitTstu: 2, tstuPerRequest: 1, windowMs: 60_000, maxDelayMs: 50 },
    });
    expect(await gets(s, 2)).toEqual([{}, expect.objectContaining({ 'x-ratelimit-remaining': '0' })]);
    // The fault plan still answers its own 429 (resource ATCPU) to a request the limit let through.
    s.failNext('any', 'throttle');
    const faulted = await get(s);
    expect(faulted.status).toBe(429);
    expect(((await faulted.json()) as { message: string }).message).toContain("resource 'ATCPU'");
    expect(s.stats).toMatchObject({
      tstuCharged: 3,
      rateLimitDelayed: 1,
      throttled: 1,
      rateLimitRejected: 0,
    });
    s.setFaults({});
    expect(await gets(s, 5)).toEqual(Array(5).fill({}));
    s.resetStats();
    expect(s.stats).toMatchObject({
      tstuCharged: 0,
      rateLimitDelayed: 0,
      rateLimitDelayedMs: 0,
      rateLimitRejected: 0,
    });
  });
});

describe('rate-limit options of npm run ado-sim', () => {
  it('reads the flags, else ADO_SIM_RATE_LIMIT_* variables; off without a TSTU limit', () => {
    expect(rateLimitFromFlags({}, {})).toBeUndefined();
    expect(rateLimitFromFlags({ 'rate-limit-tstu': '0' }, {})).toBeUndefined();
    expect(
      rateLimitFromFlags(
        { 'rate-limit-tstu': '200', 'rate-limit-window-ms': '3000' },
        { ADO_SIM_RATE_LIMIT_WINDOW_MS: '9', ADO_SIM_RATE_LIMIT_MAX_DELAY_MS: '500' },
      ),
    ).toEqual({ limitTstu: 200, windowMs: 3000, maxDelayMs: 500 });
    expect(
      rateLimitFromFlags(
        {},
        {
          ADO_SIM_RATE_LIMIT_TSTU: '50',
          ADO_SIM_RATE_LIMIT_REQUEST_TSTU: '0.2',
          ADO_SIM_RATE_LIMIT_CREATE_TSTU: '2',
          ADO_SIM_RATE_LIMIT_WARN_FRACTION: '0.8',
          ADO_SIM_RATE_LIMIT_HARD_FACTOR: '2',
        },
      ),
    ).toEqual({
      limitTstu: 50,
      tstuPerRequest: 0.2,
      tstuPerCreate: 2,
      warnFraction: 0.8,
      hardLimitFactor: 2,
    });
  });

  it('refuses bad values naming the flag', () => {
    expect(() => rateLimitFromFlags({ 'rate-limit-tstu': 'lots' }, {})).toThrow(/--rate-limit-tstu/);
    expect(() =>
      rateLimitFromFlags({ 'rate-limit-tstu': '10', 'rate-limit-warn-fraction': '2' }, {}),
    ).toThrow(/--rate-limit-warn-fraction must be a number between 0 and 1/);
    expect(() =>
      rateLimitFromFlags({ 'rate-limit-tstu': '10', 'rate-limit-hard-factor': '0.5' }, {}),
    ).toThrow(/--rate-limit-hard-factor/);
    expect(() => rateLimitFromFlags({}, { ADO_SIM_RATE_LIMIT_WINDOW_MS: '1000' })).toThrow(
      /--rate-limit-window-ms needs --rate-limit-tstu/,
    );
  });

  describe('the CLI itself', () => {
    let child: ChildProcess | undefined;
    afterEach(async () => {
      if (child && child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      child = undefined;
    });

    it('starts the simulator with the mode on', async () => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('ADO_SIM_')),
      );
      child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bin/ado-sim.ts',
          '--port',
          '0',
          '--pat',
          PAT,
          '--rate-limit-tstu',
          '1',
          '--rate-limit-request-tstu',
          '1',
          '--rate-limit-hard-factor',
          '1',
        ],
        {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          env: { ...env, ADO_SIM_RATE_LIMIT_WINDOW_MS: '60000' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const url = await new Promise<string>((resolve, reject) => {
        child?.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1] && /rate limit: 1 TSTU per 60000 ms/.test(output)) resolve(match[1]);
        });
        child?.once('exit', (code) => reject(new Error(`ado-sim exited ${code}: ${output}`)));
      });
      const call = () =>
        fetch(`${url}/_apis/projects?api-version=7.1`, { headers: { Authorization: basic(PAT) } });
      const first = await call();
      expect(first.status).toBe(200);
      await first.json();
      const second = await call();
      expect(second.status).toBe(429);
      expect(((await second.json()) as { message: string }).message).toMatch(/^TF400733: .*'Core'/);
      expect(second.headers.get('x-ratelimit-limit')).toBe('1');
    });
  });
});
