import { parseArgs } from 'node:util';

export const SECTION_NAMES = [
  'pipeline',
  'db',
  'accept',
  'history',
  'lambda',
  'messages',
  'workflow',
  'mapping',
  'speed',
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export interface BenchArgs {
  size: 'small' | 'full' | 'large';
  concurrency: number;
  /** Simulator answer time per request, ms (the workload: 40). */
  latencyMs: number;
  /** No warm-up sync before the measured pipeline run: the runtime meets the workload cold. */
  cold: boolean;
  /** Measured pipeline syncs; the median is reported. */
  repeat: number;
  only: Set<SectionName>;
  /** Runs per history query (≥ 50). */
  historyRuns: number;
  out: string;
  /** Processor threads of the local runtime (default: the concurrency capped by the cores, as `npm start`). */
  threads?: number;
  /** Section 9: an earlier bench-results.json whose speed figures are printed beside the new ones ("today"). */
  baseline?: string;
  /** Re-run the bench under V8's CPU profiler (every thread) and print the top frames (bench/profile.ts). */
  profile: boolean;
  /** Frames printed per thread with --profile. */
  profileTop: number;
}

const ALIASES: Record<string, SectionName> = {
  '1': 'pipeline',
  overhead: 'pipeline',
  '2': 'db',
  database: 'db',
  '3': 'accept',
  '4': 'history',
  '5': 'lambda',
  lambdas: 'lambda',
  '6': 'messages',
  '7': 'workflow',
  ardoq: 'workflow',
  '8': 'mapping',
  'field-mapping': 'mapping',
  '9': 'speed',
};

export const USAGE = `usage: npx tsx bench/run.ts [--size small|full|large] [--concurrency N] [--latency MS] [--cold] [--repeat N] [--only name,...] [--history-runs N] [--out file] [--threads N] [--baseline file] [--profile [--profile-top N]]
  --cold: no warm-up sync (one of the same size) before the measured pipeline run
  --repeat N: measured pipeline syncs (default 5), the median reported
  sections: 1 pipeline, 2 db, 3 accept, 4 history, 5 lambda, 6 messages, 7 workflow, 8 mapping, 9 speed (numbers work too)
  --threads N: processor threads of the local runtime (default: --concurrency capped by the cores; 0: main thread)
  --baseline file: section 9 prints the speed figures of that earlier bench-results.json beside the new ones
    (bench/compare.ts makes it from an earlier commit: see bench/README.md)
  PostgreSQL when DATABASE_URL is set, else PGlite in a temporary directory.
  --profile: runs the bench again under node --cpu-prof (all threads) into bench-profile/<time>/ and prints
    the top N frames by self time per thread and overall (--profile-top N, default 5), plus summary.json`;

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      size: { type: 'string', default: 'full' },
      concurrency: { type: 'string', default: '8' },
      latency: { type: 'string', default: '40' },
      cold: { type: 'boolean', default: false },
      repeat: { type: 'string', default: '5' },
      only: { type: 'string' },
      'history-runs': { type: 'string', default: '60' },
      out: { type: 'string', default: 'bench-results.json' },
      baseline: { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-top': { type: 'string', default: '5' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.size !== 'small' && values.size !== 'full' && values.size !== 'large')
    throw new Error(`--size must be small, full or large\n${USAGE}`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new Error('--concurrency must be a whole number from 1 to 64');
  const latencyMs = Number(values.latency);
  if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > 5_000)
    throw new Error('--latency must be a whole number of ms from 0 to 5000');
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20)
    throw new Error('--repeat must be from 1 to 20');
  const historyRuns = Number(values['history-runs']);
  if (!Number.isInteger(historyRuns) || historyRuns < 1) throw new Error('--history-runs must be ≥ 1');
  const profileTop = Number(values['profile-top']);
  if (!Number.isInteger(profileTop) || profileTop < 1 || profileTop > 200)
    throw new Error('--profile-top must be a whole number from 1 to 200');
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0 || threads > 64))
    throw new Error('--threads must be a whole number from 0 to 64');
  const only = new Set<SectionName>();
  for (const raw of (values.only ?? SECTION_NAMES.join(',')).split(',')) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    const resolved = (SECTION_NAMES as readonly string[]).includes(name)
      ? (name as SectionName)
      : ALIASES[name];
    if (!resolved) throw new Error(`unknown section ${raw}\n${USAGE}`);
    only.add(resolved);
  }
  return {
    size: values.size,
    concurrency,
    latencyMs,
    cold: values.cold,
    repeat,
    only,
    historyRuns,
    out: values.out as string,
    ...(values.baseline ? { baseline: values.baseline } : {}),
    ...(threads !== undefined ? { threads } : {}),
    profile: values.profile,
    profileTop,
  };
}
