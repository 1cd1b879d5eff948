import { numberOption } from '../shared/cli.ts';
import type { SimRateLimit } from './types.ts';

/**
 * Azure DevOps' usage-based rate limit ("Rate and usage limits"; SimRateLimit): TSTUs charged to the one
 * identity the simulator knows (its PAT) within a sliding window, answered with delays, then 429.
 */

/** The resource named by the headers and the TF400733 message (the service's for REST calls). */
export const RATE_LIMIT_RESOURCE = 'Core';

export const RATE_LIMIT_DEFAULTS = {
  windowMs: 300_000,
  tstuPerRequest: 0.1,
  tstuPerCreate: 1,
  warnFraction: 0.5,
  hardLimitFactor: 1.5,
  maxDelayMs: 10_000,
} as const;

export type ResolvedRateLimit = Required<SimRateLimit>;

/** Charges are summed in micro-TSTUs (integers), so usage never drifts with decimal costs. */
const MICRO = 1_000_000;
const micro = (tstu: number) => Math.round(tstu * MICRO);
/** Micro-TSTUs as header text: at most 3 decimals, rounded down (`12.3`, `0`). */
const tstuText = (microTstu: number) => String(Math.floor(microTstu / 1_000) / 1_000);

/** The range of each option: limitTstu above 0, the rest at or above `min` (and `max` where given). */
const BOUNDS: Record<keyof SimRateLimit, { min: number; max?: number }> = {
  limitTstu: { min: 0 },
  windowMs: { min: 1 },
  tstuPerRequest: { min: 0 },
  tstuPerCreate: { min: 0 },
  warnFraction: { min: 0, max: 1 },
  hardLimitFactor: { min: 1 },
  maxDelayMs: { min: 0 },
};

function check(name: keyof SimRateLimit, value: number): number {
  const { min, max = Number.POSITIVE_INFINITY } = BOUNDS[name];
  if (!Number.isFinite(value) || value < min || value > max || (name === 'limitTstu' && value <= 0)) {
    const range = name === 'limitTstu' ? 'above 0' : `between ${min} and ${max}`;
    throw new Error(`rateLimit.${name} must be a number ${range}, got ${value}`);
  }
  return value;
}

/** The options with their defaults; undefined when the mode is off; throws on a value out of range. */
export function resolveRateLimit(raw: SimRateLimit | undefined): ResolvedRateLimit | undefined {
  if (!raw) return undefined;
  const d = RATE_LIMIT_DEFAULTS;
  return {
    limitTstu: check('limitTstu', raw.limitTstu),
    windowMs: check('windowMs', raw.windowMs ?? d.windowMs),
    tstuPerRequest: check('tstuPerRequest', raw.tstuPerRequest ?? d.tstuPerRequest),
    tstuPerCreate: check('tstuPerCreate', raw.tstuPerCreate ?? d.tstuPerCreate),
    warnFraction: check('warnFraction', raw.warnFraction ?? d.warnFraction),
    hardLimitFactor: check('hardLimitFactor', raw.hardLimitFactor ?? d.hardLimitFactor),
    maxDelayMs: check('maxDelayMs', raw.maxDelayMs ?? d.maxDelayMs),
  };
}

/**
 * What the limit decided for one request: `quiet` (usage under warnFraction × limit: no header), `warn`
 * (headers without Delay/Retry-After), `delay` (hold `delayMs`, then answer with every header), `reject`
 * (429 TF400733, not charged).
 */
export interface RateLimitAdmission {
  kind: 'quiet' | 'warn' | 'delay' | 'reject';
  /** The hold, ms (0 unless `delay`). */
  delayMs: number;
  /** TSTUs charged for the request (0 when rejected). */
  chargedTstu: number;
  /** The options it was decided with (its answer's headers use them). */
  config: ResolvedRateLimit;
}

export class RateLimiter {
  readonly #now: () => number;
  #config: ResolvedRateLimit | undefined;
  /** Clock time (ms) of each charge in the window, oldest first, from #head on. */
  #times: number[] = [];
  /** Micro-TSTUs charged since the start up to and including each charge (increasing). */
  #cumulative: number[] = [];
  #head = 0;
  /** Micro-TSTUs charged since the start. */
  #total = 0;
  /** Of those, the ones whose charge left the window. */
  #expired = 0;

  /** `now`: a monotonic clock in ms (tests pass their own). */
  constructor(config?: SimRateLimit, now: () => number = () => performance.now()) {
    this.#now = now;
    this.configure(config);
  }

  /**
   * New options (validated first: a bad one throws and changes nothing). Usage is kept while the mode stays
   * on, so a new window or limit applies to what was charged; turning it off (undefined) forgets usage.
   */
  configure(raw: SimRateLimit | undefined): void {
    const config = resolveRateLimit(raw);
    this.#config = config;
    if (!config) {
      this.#times = [];
      this.#cumulative = [];
      this.#head = 0;
      this.#expired = this.#total;
    }
  }

  get config(): ResolvedRateLimit | undefined {
    return this.#config;
  }

  /** TSTUs charged within the window now. */
  usage(): number {
    const config = this.#config;
    if (!config) return 0;
    return this.#usage(this.#now(), config.windowMs) / MICRO;
  }

  /** Decides for one authenticated request, then charges it unless refused; undefined while the mode is off. */
  admit(isCreate: boolean): RateLimitAdmission | undefined {
    const config = this.#config;
    if (!config) return undefined;
    const now = this.#now();
    const usage = this.#usage(now, config.windowMs);
    const limit = micro(config.limitTstu);
    if (usage >= micro(config.limitTstu * config.hardLimitFactor)) {
      return { kind: 'reject', delayMs: 0, chargedTstu: 0, config };
    }
    let kind: RateLimitAdmission['kind'] = 'quiet';
    let delayMs = 0;
    if (usage >= limit) {
      kind = 'delay';
      delayMs = Math.min(config.maxDelayMs, this.#msUntilBelow(limit, now, config.windowMs));
    } else if (usage >= micro(config.limitTstu * config.warnFraction)) {
      kind = 'warn';
    }
    const cost = isCreate ? config.tstuPerCreate : config.tstuPerRequest;
    if (micro(cost) > 0) {
      this.#total += micro(cost);
      this.#times.push(now);
      this.#cumulative.push(this.#total);
    }
    return { kind, delayMs, chargedTstu: micro(cost) / MICRO, config };
  }

  /**
   * The rate-limit headers of an admitted request's answer, from the usage when it is answered:
   * `X-RateLimit-Resource` (Core), `-Limit` (limitTstu), `-Remaining` (TSTUs left before delays start, ≥ 0),
   * `-Reset` (Unix seconds, rounded up, when usage will be back to 0); for `delay` and `reject` also
   * `X-RateLimit-Delay` (the hold in seconds, 3 decimals; 0.000 for a 429) and `Retry-After` (whole seconds,
   * rounded up, until usage is below the limit; 0 once it is).
   */
  headers(admission: RateLimitAdmission, epochMs = Date.now()): Record<string, string> {
    if (admission.kind === 'quiet') return {};
    const { config } = admission;
    const now = this.#now();
    const usage = this.#usage(now, config.windowMs);
    const limit = micro(config.limitTstu);
    const last = this.#times.length - 1;
    const untilEmpty = last >= this.#head ? (this.#times[last] ?? now) + config.windowMs - now : 0;
    const headers: Record<string, string> = {
      'X-RateLimit-Resource': RATE_LIMIT_RESOURCE,
      'X-RateLimit-Limit': tstuText(limit),
      'X-RateLimit-Remaining': tstuText(Math.max(0, limit - usage)),
      'X-RateLimit-Reset': String(Math.ceil((epochMs + untilEmpty) / 1000)),
    };
    if (admission.kind === 'warn') return headers;
    headers['X-RateLimit-Delay'] = (admission.delayMs / 1000).toFixed(3);
    headers['Retry-After'] = String(Math.ceil(this.#msUntilBelow(limit, now, config.windowMs) / 1000));
    return headers;
  }

  /** Drops the charges that left the window (amortised O(1)); answers the usage in micro-TSTUs. */
  #usage(now: number, windowMs: number): number {
    const cutoff = now - windowMs;
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? now) <= cutoff) {
      this.#expired = this.#cumulative[this.#head] ?? this.#expired;
      this.#head += 1;
    }
    if (this.#head >= 1024 && this.#head * 2 >= this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#cumulative = this.#cumulative.slice(this.#head);
      this.#head = 0;
    }
    return this.#total - this.#expired;
  }

  /** Ms until usage (already expired to `now`) is below `threshold` micro-TSTUs: a binary search, O(log n). */
  #msUntilBelow(threshold: number, now: number, windowMs: number): number {
    if (this.#total - this.#expired < threshold) return 0;
    // The first charge whose expiry leaves less than the threshold: cumulative > total - threshold.
    let low = this.#head;
    let high = this.#cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#cumulative[mid] ?? 0) > this.#total - threshold) high = mid;
      else low = mid + 1;
    }
    return Math.max(0, (this.#times[low] ?? now) + windowMs - now);
  }
}

/** `npm run ado-sim` flags of the mode: flag → [environment variable, SimRateLimit key, help]. */
export const RATE_LIMIT_FLAGS = {
  'rate-limit-tstu': ['ADO_SIM_RATE_LIMIT_TSTU', 'limitTstu', 'TSTUs per window before delays (0: off)'],
  'rate-limit-window-ms': ['ADO_SIM_RATE_LIMIT_WINDOW_MS', 'windowMs', 'sliding window, ms (300000)'],
  'rate-limit-request-tstu': ['ADO_SIM_RATE_LIMIT_REQUEST_TSTU', 'tstuPerRequest', 'TSTUs per request (0.1)'],
  'rate-limit-create-tstu': ['ADO_SIM_RATE_LIMIT_CREATE_TSTU', 'tstuPerCreate', 'TSTUs per create (1)'],
  'rate-limit-warn-fraction': [
    'ADO_SIM_RATE_LIMIT_WARN_FRACTION',
    'warnFraction',
    'share of the limit from which headers appear (0.5)',
  ],
  'rate-limit-hard-factor': [
    'ADO_SIM_RATE_LIMIT_HARD_FACTOR',
    'hardLimitFactor',
    'usage >= limit x this answers 429 (1.5)',
  ],
  'rate-limit-max-delay-ms': ['ADO_SIM_RATE_LIMIT_MAX_DELAY_MS', 'maxDelayMs', 'longest hold, ms (10000)'],
} as const satisfies Record<string, readonly [string, keyof SimRateLimit, string]>;

export type RateLimitFlag = keyof typeof RATE_LIMIT_FLAGS;

/**
 * The mode's options from flags (else their environment variables): off when `--rate-limit-tstu` is absent
 * or 0; the other flags need it. Throws naming the flag on a bad value.
 */
export function rateLimitFromFlags(
  flags: Partial<Record<RateLimitFlag, string | undefined>>,
  env: Record<string, string | undefined>,
): SimRateLimit | undefined {
  const raw = (flag: RateLimitFlag) => flags[flag] ?? env[RATE_LIMIT_FLAGS[flag][0]];
  const limitTstu = numberOption('rate-limit-tstu', raw('rate-limit-tstu'), 0);
  const rest = (Object.keys(RATE_LIMIT_FLAGS) as RateLimitFlag[]).filter(
    (flag) => flag !== 'rate-limit-tstu' && (raw(flag) ?? '') !== '',
  );
  if (limitTstu === 0) {
    if (rest.length > 0) throw new Error(`--${rest[0]} needs --rate-limit-tstu (above 0)`);
    return undefined;
  }
  const options: SimRateLimit = { limitTstu };
  for (const flag of rest) {
    const key = RATE_LIMIT_FLAGS[flag][1] as keyof typeof RATE_LIMIT_DEFAULTS;
    options[key] = numberOption(flag, raw(flag), RATE_LIMIT_DEFAULTS[key], BOUNDS[key]);
  }
  return options;
}
