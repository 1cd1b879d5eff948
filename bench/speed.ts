import { readFile } from 'node:fs/promises';
import type { SimRateLimit } from '#sim/ado/index.ts';
import { type EtaCheck, idealMs, type PipelineRun, TREE_DEPTH, timedPipeline } from './pipeline.ts';
import { type Figure, figure } from './report.ts';
import { dbLabel } from './sections.ts';
import { median, round } from './stats.ts';
import { type DbKind, serialise, startBenchSystem } from './system.ts';
import { uniformTree } from './trees.ts';

/**
 * Section 9, speed (issue 19): the figures of its table, each with its workload. The same code runs
 * against an earlier tree (bench/compare.ts overlays bench/ and sim/ on a worktree of it), so "today"
 * and "new" come from one harness on one machine, one right after the other.
 */

const SPEED_TARGETS = {
  ratio200: 1.05,
  cpuMsPerItem: 0.7,
  ratioToCpuFloor40: 1.1,
  coldRatio: 2,
  /** A 3-item sync: depth × latency + this. */
  smallSyncOverheadMs: 150,
  rateLimitedThroughputPct: 90,
} as const;

/**
 * The rate limit of the throttled workload: Azure DevOps' rule (TSTU per identity in a sliding window,
 * delays, then 429) scaled down so that a 2,020-item sync spans several windows in about a minute: 300
 * TSTU per 10 s, a create 1 TSTU, any other request 0.1 (the service: 200 TSTU per 5 minutes).
 */
const BENCH_RATE_LIMIT: Required<
  Pick<SimRateLimit, 'limitTstu' | 'windowMs' | 'tstuPerCreate' | 'tstuPerRequest'>
> = { limitTstu: 300, windowMs: 10_000, tstuPerCreate: 1, tstuPerRequest: 0.1 };

const FULL: readonly [number, number, number] = [20, 10, 9];

interface SmallSyncResult {
  latencyMs: number;
  runsMs: number[];
  medianMs: number;
  boundMs: number;
}

interface RateLimitedResult {
  run: PipelineRun;
  /** The least time the limit allows for the TSTU the run was charged (see allowedMs). */
  allowedMs: number;
  /** allowedMs / wall, % (above 100: the client went past the advertised limit, into the delays). */
  throughputPct: number;
}

export interface SpeedResult {
  kind: DbKind;
  concurrency: number;
  at200: PipelineRun;
  at40: PipelineRun;
  cold: PipelineRun;
  small: SmallSyncResult;
  rateLimited: RateLimitedResult;
}

export interface SpeedOptions {
  kind: DbKind;
  databaseUrl?: string;
  concurrency: number;
  repeat: number;
  /** Processor threads (default: as `npm start`). */
  threads?: number;
  log: (line: string) => void;
}

/**
 * The least wall time the advertised limit (`limit` TSTU in any sliding `windowMs`, X-RateLimit-Limit)
 * allows for `charged` TSTU from an empty window: by time T at most limit × (⌊T / window⌋ + 1) can have
 * been charged within it, so T ≥ window × (⌈charged / limit⌉ − 1); and never less than the unthrottled
 * ideal. A client that goes past the limit (Azure DevOps then delays its requests, and refuses them
 * further on) can be quicker than this, at the cost of the identity's other users.
 */
export function allowedMs(
  charged: number,
  limit: number,
  windowMs: number,
  unthrottledIdealMs: number,
): number {
  return Math.max(unthrottledIdealMs, windowMs * (Math.ceil(charged / limit) - 1));
}

/** POST → terminal of a 1 × 1 × 1 sync (depth 3), after two warm-up syncs of the same shape. */
async function smallSyncs(
  options: SpeedOptions & { latencyMs: number; runs: number },
): Promise<SmallSyncResult> {
  const bench = await startBenchSystem({
    kind: options.kind,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    processorConcurrency: options.concurrency,
    latencyMs: options.latencyMs,
    ...(options.threads !== undefined ? { processorThreads: options.threads } : {}),
  });
  try {
    const once = async (label: string) => {
      const posted = await bench.postSync(
        serialise(uniformTree(1, 1, 1, `${label}-${Date.now().toString(36)}`)),
      );
      const done = await bench.waitForTerminal(posted.syncId, 60_000);
      if (done.status !== 'completed') throw new Error(`the 3-item sync ended ${done.status}`);
      return done.atMs - posted.startMs;
    };
    for (let i = 0; i < 2; i++) await once(`small-warmup-${i}`);
    const runsMs: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      runsMs.push(round(await once(`small-${i}`), 1));
      // Let the finalizer's invocation and the deletions settle, as between two users' syncs.
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      latencyMs: options.latencyMs,
      runsMs,
      medianMs: round(median(runsMs), 1),
      boundMs: TREE_DEPTH * options.latencyMs + SPEED_TARGETS.smallSyncOverheadMs,
    };
  } finally {
    await bench.close();
  }
}

export async function runSpeed(options: SpeedOptions): Promise<SpeedResult> {
  const base = {
    kind: options.kind,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    shape: FULL,
    concurrency: options.concurrency,
    ...(options.threads !== undefined ? { processorThreads: options.threads } : {}),
  };
  // First: the process itself has run nothing yet (its JIT is as cold as the runtime's). Later systems
  // of this process would start with a warm main thread, and only their processor threads cold.
  options.log('speed: the first sync after start (--cold), 40 ms…');
  const cold = await timedPipeline({ ...base, latencyMs: 40 });
  options.log('speed: 2,020 items at 200 ms per request (with a warm-up sync, ETA read every 100 ms)…');
  const at200 = await timedPipeline({
    ...base,
    latencyMs: 200,
    warmupShape: FULL,
    repeat: Math.min(options.repeat, 3),
    sampleEta: true,
  });
  options.log('speed: 2,020 items at 40 ms per request (with a warm-up sync)…');
  const at40 = await timedPipeline({ ...base, latencyMs: 40, warmupShape: FULL, repeat: options.repeat });
  options.log('speed: 3-item syncs at 40 ms…');
  const small = await smallSyncs({ ...options, latencyMs: 40, runs: Math.max(5, options.repeat * 2) });
  options.log(
    `speed: 2,020 items against the rate-limited simulator (${BENCH_RATE_LIMIT.limitTstu} TSTU per ${BENCH_RATE_LIMIT.windowMs / 1000} s), 40 ms…`,
  );
  const limited = await timedPipeline({
    ...base,
    latencyMs: 40,
    simulatorFaults: { rateLimit: BENCH_RATE_LIMIT },
    sampleEta: true,
    timeoutMs: 900_000,
  });
  const allowed = allowedMs(
    limited.simulator.tstuCharged,
    BENCH_RATE_LIMIT.limitTstu,
    BENCH_RATE_LIMIT.windowMs,
    idealMs(limited.items, options.concurrency * 10, TREE_DEPTH, 40),
  );
  return {
    kind: options.kind,
    concurrency: options.concurrency,
    at200,
    at40,
    cold,
    small,
    rateLimited: {
      run: limited,
      allowedMs: round(allowed, 0),
      throughputPct: round((allowed / limited.wallMs) * 100, 1),
    },
  };
}

/** The figures of the issue's table, from one result (pure). */
export function speedFigures(result: SpeedResult): Figure[] {
  const le = (value: number) => ({ op: '<=' as const, value });
  const ge = (value: number) => ({ op: '>=' as const, value });
  const db = dbLabel(result.kind);
  const w = (run: PipelineRun, extra = '') =>
    `${run.items.toLocaleString('en-US')} items (20×10×9), ${run.latencyMs} ms per request, concurrency ${run.concurrency}, ${db}, ${run.processorThreads} processor thread(s)${extra}`;
  const r = result.rateLimited;
  const clean = (run: PipelineRun) =>
    run.status === 'completed' && run.created === run.items && run.terminalSeenBy === 'statement';
  return [
    figure(
      'pipeline wall / ideal at 200 ms',
      result.at200.ratio,
      '×',
      w(result.at200, ', warm'),
      le(SPEED_TARGETS.ratio200),
      `wall ${round(result.at200.wallMs / 1000, 2)} s (runs ${result.at200.wallRunsMs.map((ms) => round(ms / 1000, 2)).join(' / ')}), ideal ${round(result.at200.idealMs / 1000, 2)} s, C = ${result.at200.peakConcurrentCreates}`,
    ),
    figure(
      'CPU per item, whole stack',
      result.at40.load.cpu.cpuMsPerItem,
      'ms',
      w(result.at40, ', warm'),
      le(SPEED_TARGETS.cpuMsPerItem),
      `all threads of the process ${round(result.at40.load.machine.processCpuMs / result.at40.items, 3)} ms (of which the Azure DevOps simulator's thread ${result.at40.simulatorCpuMs === null ? 'n/a' : round(result.at40.simulatorCpuMs / result.at40.items, 3)} ms) + PostgreSQL ${result.at40.load.machine.postgresCpuMs === null ? 'n/a' : round(result.at40.load.machine.postgresCpuMs / result.at40.items, 3)} ms`,
    ),
    figure(
      "CPU per item, our runtime (without Azure DevOps' and SQS' stand-ins)",
      runtimeCpuPerItem(result.at40),
      'ms',
      w(result.at40, ', warm'),
      undefined,
      "the whole stack less the simulator's and the SQS emulator's threads (their work is Azure DevOps' and AWS' in the cloud)",
    ),
    figure(
      'pipeline at 40 ms: wall / max(ideal, CPU floor)',
      round(result.at40.wallMs / Math.max(result.at40.idealMs, result.at40.load.cpu.floorMs), 3),
      '×',
      w(result.at40, ', warm'),
      le(SPEED_TARGETS.ratioToCpuFloor40),
      `wall ${round(result.at40.wallMs / 1000, 2)} s, ideal ${round(result.at40.idealMs / 1000, 2)} s, CPU floor ${round(result.at40.load.cpu.floorMs / 1000, 2)} s; wall / ideal ${result.at40.ratio}`,
    ),
    figure(
      'first sync after start (cold) / ideal',
      result.cold.ratio,
      '×',
      w(result.cold, ', cold'),
      le(SPEED_TARGETS.coldRatio),
      `wall ${round(result.cold.wallMs / 1000, 2)} s`,
    ),
    figure(
      '3-item sync, POST → terminal',
      result.small.medianMs / 1000,
      's',
      `1×1×1 (depth 3), ${result.small.latencyMs} ms per request, ${db}, warm`,
      le(result.small.boundMs / 1000),
      `median of ${result.small.runsMs.length}: ${result.small.runsMs.join(' / ')} ms`,
    ),
    figure(
      'rate-limited: failed items',
      r.run.failed + (r.run.items - r.run.created - r.run.failed),
      '',
      w(r.run, `, ${BENCH_RATE_LIMIT.limitTstu} TSTU per ${BENCH_RATE_LIMIT.windowMs / 1000} s`),
      le(0),
      `${r.run.status}, created ${r.run.created}/${r.run.items}${clean(r.run) ? '' : ' NOT CLEAN'}`,
    ),
    figure(
      'rate-limited: throughput / what the advertised limit allows',
      r.throughputPct,
      '%',
      w(r.run, `, ${BENCH_RATE_LIMIT.limitTstu} TSTU per ${BENCH_RATE_LIMIT.windowMs / 1000} s`),
      ge(SPEED_TARGETS.rateLimitedThroughputPct),
      `wall ${round(r.run.wallMs / 1000, 1)} s; at most ${BENCH_RATE_LIMIT.limitTstu} TSTU in any window, the ${r.run.simulator.tstuCharged} TSTU charged need ${round(r.allowedMs / 1000, 1)} s (above 100 %: the client went past the limit, into the delays); throttled_ms ${r.run.throttledMs ?? 'n/a'}`,
    ),
    figure(
      'rate-limited: requests Azure DevOps had to delay',
      r.run.simulator.delayed,
      '',
      w(r.run, `, ${BENCH_RATE_LIMIT.limitTstu} TSTU per ${BENCH_RATE_LIMIT.windowMs / 1000} s`),
      undefined,
      `held ${round(r.run.simulator.delayedMs / 1000, 1)} s in all (X-RateLimit-Delay); refused (429) ${r.run.simulator.rejected}`,
    ),
    ...etaFigures('ETA error at 200 ms', result.at200),
    ...etaFigures('ETA error, rate-limited', r.run),
  ];
}

function runtimeCpuPerItem(run: PipelineRun): number | null {
  if (run.simulatorCpuMs === null || run.sqsCpuMs === null) return null;
  const cpu = run.load.machine.processCpuMs + (run.load.machine.postgresCpuMs ?? 0);
  return round((cpu - run.simulatorCpuMs - run.sqsCpuMs) / run.items, 3);
}

function etaFigures(name: string, run: PipelineRun): Figure[] {
  return (run.eta ?? []).map((check: EtaCheck) =>
    figure(
      `${name}, at ${Math.round(check.at * 100)} %`,
      check.errorPct,
      '%',
      `the row's eta_seconds read through the API every 100 ms vs the real end`,
      undefined,
      check.etaSeconds === null
        ? 'no eta_seconds'
        : `said ${check.etaSeconds} s left, really ${check.actualSeconds} s`,
    ),
  );
}

/** "today" vs "new", row by row, for the note and the README. */
export function comparisonTable(today: Figure[] | undefined, now: Figure[]): string[] {
  const byName = new Map((today ?? []).map((f) => [f.name, f]));
  const show = (f: Figure | undefined) =>
    f === undefined || f.value === null
      ? 'not measured'
      : `${f.value}${f.unit === '×' || f.unit === '%' ? ` ${f.unit}` : f.unit ? ` ${f.unit}` : ''}`;
  const rows = now.map((f) => {
    const target = f.target
      ? `${f.target.op === '<=' ? '≤' : '≥'} ${f.target.value}${f.unit ? ` ${f.unit}` : ''}`
      : '';
    const verdict = f.meets === null ? '' : f.meets ? 'met' : 'MISSED';
    return [f.name, show(byName.get(f.name)), show(f), target, verdict];
  });
  const header = ['figure', 'today', 'new', 'target', 'verdict'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)];
}

/** The figures of section 9 in an earlier bench-results.json (the baseline run). */
export async function baselineFigures(file: string): Promise<Figure[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as {
    sections?: Array<{ id: string; figures: Figure[] }>;
  };
  const section = parsed.sections?.find((s) => s.id === '9');
  if (!section) throw new Error(`${file} has no section 9 (speed)`);
  return section.figures;
}
