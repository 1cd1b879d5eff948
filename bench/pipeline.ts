import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SimFaults } from '#sim/ado/index.ts';
import type { SqlParams } from '#store/database.ts';
import type { KindStats, StatementEvent } from './counting-db.ts';
import { type CpuBound, clockTicks, cpuBound, type MachineLoad, startMachineLoad } from './machine-load.ts';
import { sampleWaits, type WaitSamples } from './pg-waits.ts';
import { median, now, quantile, round } from './stats.ts';
import { type BenchSystem, type DbKind, serialise, startBenchSystem } from './system.ts';
import { countNodes, type SyncBody, type TreeNode, uniformTree } from './trees.ts';

/** Depth of an Epic → Feature → User Story tree. */
export const TREE_DEPTH = 3;

export interface PipelineOptions {
  kind: DbKind;
  databaseUrl?: string;
  shape: readonly [epics: number, features: number, stories: number];
  concurrency: number;
  latencyMs: number;
  /**
   * A sync run to the end before the measured ones (absent: none): they then meet a warmed-up
   * runtime (JIT, connections), as a reused Lambda does.
   */
  warmupShape?: readonly [epics: number, features: number, stories: number];
  /** Measured syncs (default 1); the median one by wall time is reported. */
  repeat?: number;
  timeoutMs?: number;
  /** Read the sync's `eta_seconds` through the API every 100 ms, to tell how far it was (see EtaCheck). */
  sampleEta?: boolean;
  /** The simulator's faults besides its latency (its rate-limit mode). */
  simulatorFaults?: SimFaults;
  /** Processor threads (default: as `npm start`). */
  processorThreads?: number;
}

/** The ETA the API gave when a quarter and half of the items had an outcome, against the real end. */
export interface EtaCheck {
  /** Share of items with an outcome when the estimate was read (first sample at or past 25 / 50 %). */
  at: number;
  /** What the API said was left, s. */
  etaSeconds: number | null;
  /** What really was left (until the terminal status), s. */
  actualSeconds: number;
  /** (eta − actual) / actual, %. */
  errorPct: number | null;
}

/** Where one item's time goes, from the statements the counting wrapper saw (ms, p50 and p95). */
export interface ItemTimeline {
  /** Parent recorded (or sync started, for epics) → this item's claim starts: send, queue, poll, batch. */
  dispatchWait: { p50: number; p95: number };
  claim: { p50: number; p95: number };
  /** Claim returned → record starts: mapping, HTTP to Azure DevOps (simulator latency included). */
  create: { p50: number; p95: number };
  record: { p50: number; p95: number };
  /** POST start → sync in_progress (API, prepare message, type discovery). */
  prepareMs: number;
  /** Items whose create was in flight at the same time, on average over the run. */
  averageCreatesInFlight: number;
}

/** The bench process itself (API, processors, fauxqs, simulator and PGlite all share its one thread). */
export interface ProcessLoad {
  /** CPU time (user + system) / wall time: 1.0 = one core busy all the time. */
  cpuCores: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Requests the simulator answered (creates and the rest). */
  simulatorRequests: number;
  /** Statements in flight in the process (waiting for a pool connection included). */
  statementsInFlight: { average: number; peak: number };
  /** PostgreSQL's view (kind postgres only): what the active backends waited on. */
  postgresWaits?: WaitSamples;
  /** CPU of this process and of a local PostgreSQL server over the run, and what it allows. */
  machine: MachineLoad;
  cpu: CpuBound;
}

export interface PipelineRun {
  kind: DbKind;
  items: number;
  shape: readonly number[];
  concurrency: number;
  latencyMs: number;
  /** Items of the warm-up sync run before the measured one (0: none). */
  warmupItems: number;
  /** Wall time of every measured sync (this run is the median one). */
  wallRunsMs: number[];
  status: string;
  created: number;
  failed: number;
  skipped: number;
  acceptMs: number;
  wallMs: number;
  peakConcurrentCreates: number;
  creates: number;
  idealMs: number;
  ratio: number;
  itemsPerSecond: number;
  statements: number;
  transactions: number;
  byKind: Record<string, KindStats>;
  hotPathStatements: number;
  dataApiCalls?: { execute: number; begin: number; commit: number; rollback: number; total: number };
  messages: number;
  sendBatches: number;
  invocations: { work: number; finalize: number };
  timeline: ItemTimeline;
  load: ProcessLoad;
  /** Whole run including start and stop of the local system. */
  runMs: number;
  warnings: number;
  errors: number;
  logSamples: string[];
  /** The terminal row's `throttled_ms` (null: the API has no such field). */
  throttledMs: number | null;
  /** With `sampleEta`: the estimates at 25 % and 50 %. */
  eta?: EtaCheck[];
  /** Simulator statistics of the run (rate-limit mode: TSTU charged, delays, refusals). */
  simulator: { tstuCharged: number; delayed: number; delayedMs: number; rejected: number; throttled: number };
  /** Processor threads the runtime used (0: the main thread). */
  processorThreads: number;
  /** CPU of the Azure DevOps simulator's thread over the run, ms (Azure DevOps' work, not ours; null: unknown). */
  simulatorCpuMs: number | null;
  /** CPU of the SQS emulator's thread over the run, ms (AWS' work in the cloud; null: unknown). */
  sqsCpuMs: number | null;
  /** How the end was seen: its terminal statement, or the fallback poll (the wall time is then late). */
  terminalSeenBy: 'statement' | 'poll';
}

/** The ideal wall time: C creates at a time, one level after the other. */
export const idealMs = (items: number, concurrency: number, depth: number, latencyMs: number): number =>
  (Math.ceil(items / Math.max(1, concurrency)) + depth - 1) * latencyMs;

function parents(body: SyncBody): Map<string, string | null> {
  const map = new Map<string, string | null>();
  const walk = (nodes: readonly TreeNode[] | undefined, parent: string | null) => {
    for (const node of nodes ?? []) {
      map.set(node._id, parent);
      walk(node.children, node._id);
    }
  };
  walk(body.epics, null);
  return map;
}

const p = (samples: number[]) => ({ p50: round(median(samples), 1), p95: round(quantile(samples, 0.95), 1) });

function outcomeIds(params: SqlParams | undefined): string[] {
  const outcomes = params?.outcomes;
  if (!outcomes || typeof outcomes !== 'object' || outcomes instanceof Date || outcomes.kind !== 'json')
    return [];
  return (outcomes.value as Array<{ ardoq_id: string }>).map((o) => o.ardoq_id);
}

/**
 * One sync of a whole tree through the local runtime: POST → 202 → prepare → items level by level →
 * finalize, against the ADO simulator answering each request after `latencyMs`. Everything the
 * sections 1, 2 and 6 report comes from this one run.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineRun> {
  const bench = await startBenchSystem({
    kind: options.kind,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    processorConcurrency: options.concurrency,
    latencyMs: options.latencyMs,
    ...(options.simulatorFaults ? { simulatorFaults: options.simulatorFaults } : {}),
    ...(options.processorThreads !== undefined ? { processorThreads: options.processorThreads } : {}),
  });
  try {
    let warmupItems = 0;
    if (options.warmupShape) {
      const warm = uniformTree(...options.warmupShape, `warmup-${Date.now().toString(36)}`);
      warmupItems = countNodes(warm);
      const { syncId } = await bench.postSync(serialise(warm));
      await bench.waitForTerminal(syncId, options.timeoutMs ?? 600_000);
    }
    // The same sync several times on the same (warm) runtime: the median one is reported, with the
    // spread, as this machine's timings vary from run to run.
    const runs: PipelineRun[] = [];
    for (let i = 0; i < Math.max(1, options.repeat ?? 1); i++) runs.push(await measureSync(bench, options));
    const byWall = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    const chosen = byWall[Math.floor((byWall.length - 1) / 2)] as PipelineRun;
    return { ...chosen, warmupItems, wallRunsMs: runs.map((r) => r.wallMs) };
  } finally {
    await bench.close();
  }
}

/** One measured sync of `options.shape` on a running bench system (see runPipeline). */
async function measureSync(bench: BenchSystem, options: PipelineOptions): Promise<PipelineRun> {
  const { system, counting } = bench;
  const [e, f, s] = options.shape;
  const body = uniformTree(e, f, s, `bench-${Date.now().toString(36)}`);
  const items = countNodes(body);
  const parentOf = parents(body);
  const payload = serialise(body);

  // Per-item timestamps from the statements themselves.
  const claimStart = new Map<string, number>();
  const claimEnd = new Map<string, number>();
  const recordStart = new Map<string, number>();
  const recordEnd = new Map<string, number>();
  let inProgressAt = Number.NaN;
  const stopObserving = counting.observe((event: StatementEvent) => {
    if (event.kind === 'claim-item') {
      // One claim per batch: the rows are the nodes it claimed.
      for (const row of event.rows) {
        const id = row.ardoq_id as string;
        if (claimStart.has(id)) continue;
        claimStart.set(id, event.startMs);
        claimEnd.set(id, event.endMs);
      }
    } else if (event.kind === 'record-outcomes') {
      for (const id of outcomeIds(event.params)) {
        if (!recordEnd.has(id)) {
          recordStart.set(id, event.startMs);
          recordEnd.set(id, event.endMs);
        }
      }
    } else if (event.kind === 'mark-in-progress' && event.rows.length > 0) {
      inProgressAt = event.endMs;
    }
  });

  // Everything before the POST (migrations, configuration, resume) is not the workload's.
  counting.reset();
  await bench.resetSimulatorStats();
  const messages0 = { ...bench.sqsSends };
  const invocations0 = {
    work: system.eventSources.work.invocations,
    finalize: system.eventSources.finalize.invocations,
  };
  const calls0 = bench.dataApi ? { ...bench.dataApi.calls } : undefined;

  const waits =
    options.kind === 'postgres' && options.databaseUrl
      ? await sampleWaits(options.databaseUrl, new URL(options.databaseUrl).pathname.slice(1))
      : undefined;
  const simulatorCpu0 = await bench.simulatorCpuMs();
  // The SQS emulator's thread (absent on trees from before it could tell).
  const sqsTicks = () => (system.sqsCpuTicks ? system.sqsCpuTicks() : Promise.resolve(null));
  const sqsTicks0 = await sqsTicks();
  const machineLoad = await startMachineLoad(
    options.kind === 'postgres' ? options.databaseUrl : undefined,
    waits?.backendPid === undefined ? [] : [waits.backendPid],
  );
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const posted = await bench.postSync(payload);
  const etaSamples = options.sampleEta ? sampleEta(bench, posted.syncId) : undefined;
  const done = await bench.waitForTerminal(posted.syncId, options.timeoutMs ?? 600_000);
  const samples = await etaSamples?.stop();
  const wallMs = done.atMs - posted.startMs;
  const machine = machineLoad.stop();
  const simulatorCpu1 = await bench.simulatorCpuMs();
  const sqsTicks1 = await sqsTicks();
  loop.disable();
  const inFlight = { average: round(counting.averageInFlight(), 1), peak: counting.peakInFlight };
  const postgresWaits = await waits?.stop();
  const sim = await bench.simulatorStats();
  const peak = sim.peakConcurrentCreates;
  const ideal = idealMs(items, peak, TREE_DEPTH, options.latencyMs);
  const load: ProcessLoad = {
    cpuCores: round(machine.processCpuMs / wallMs, 2),
    eventLoopDelayMs: {
      p50: round(loop.percentile(50) / 1e6, 1),
      p99: round(loop.percentile(99) / 1e6, 1),
      max: round(loop.max / 1e6, 1),
    },
    simulatorRequests: sim.requests,
    statementsInFlight: inFlight,
    ...(postgresWaits ? { postgresWaits } : {}),
    machine,
    cpu: cpuBound(machine, items, ideal),
  };
  // Let the finalizer invocation that ran FINALIZE return, so its count is in.
  await new Promise((r) => setTimeout(r, 50));
  stopObserving();

  const stats = counting.snapshot();
  const hot = (stats.byKind['claim-item']?.count ?? 0) + (stats.byKind['record-outcomes']?.count ?? 0);

  const dispatch: number[] = [];
  const claims: number[] = [];
  const creates: number[] = [];
  const records: number[] = [];
  for (const [id, start] of claimStart) {
    const parent = parentOf.get(id);
    const ready = parent ? recordEnd.get(parent) : inProgressAt;
    if (ready !== undefined && Number.isFinite(ready)) dispatch.push(start - ready);
    claims.push((claimEnd.get(id) as number) - start);
    const rs = recordStart.get(id);
    if (rs !== undefined) creates.push(rs - (claimEnd.get(id) as number));
    const re = recordEnd.get(id);
    if (rs !== undefined && re !== undefined) records.push(re - rs);
  }

  let dataApiCalls: PipelineRun['dataApiCalls'];
  if (bench.dataApi && calls0) {
    const c = bench.dataApi.calls;
    const d = {
      execute: c.execute - calls0.execute,
      begin: c.begin - calls0.begin,
      commit: c.commit - calls0.commit,
      rollback: c.rollback - calls0.rollback,
    };
    dataApiCalls = { ...d, total: d.execute + d.begin + d.commit + d.rollback };
  }

  const row = await readRow(bench, posted.syncId);
  return {
    throttledMs: typeof row?.throttled_ms === 'number' ? row.throttled_ms : null,
    ...(samples ? { eta: etaChecks(samples, done.atMs) } : {}),
    simulator: {
      tstuCharged: round(sim.tstuCharged ?? 0, 1),
      delayed: sim.rateLimitDelayed ?? 0,
      delayedMs: round(sim.rateLimitDelayedMs ?? 0, 0),
      rejected: sim.rateLimitRejected ?? 0,
      throttled: sim.throttled ?? 0,
    },
    processorThreads: system.processorThreads ?? 0,
    simulatorCpuMs:
      simulatorCpu0 === null || simulatorCpu1 === null ? null : round(simulatorCpu1 - simulatorCpu0, 0),
    sqsCpuMs:
      sqsTicks0 === null || sqsTicks1 === null
        ? null
        : round(((sqsTicks1 - sqsTicks0) * 1000) / clockTicks(), 0),
    terminalSeenBy: done.via,
    kind: options.kind,
    items,
    shape: options.shape,
    concurrency: options.concurrency,
    latencyMs: options.latencyMs,
    warmupItems: 0,
    wallRunsMs: [round(wallMs, 1)],
    status: done.status,
    created: done.created,
    failed: done.failed,
    skipped: done.skipped,
    acceptMs: round(posted.ms, 1),
    wallMs: round(wallMs, 1),
    peakConcurrentCreates: peak,
    creates: sim.creates,
    idealMs: ideal,
    ratio: round(wallMs / ideal, 3),
    itemsPerSecond: round(items / (wallMs / 1000), 1),
    statements: stats.statements,
    transactions: stats.transactions,
    byKind: Object.fromEntries(
      Object.entries(stats.byKind).map(([k, v]) => [k, { count: v.count, totalMs: round(v.totalMs, 1) }]),
    ),
    hotPathStatements: hot,
    ...(dataApiCalls ? { dataApiCalls } : {}),
    messages: bench.sqsSends.messages - messages0.messages,
    sendBatches: bench.sqsSends.batches - messages0.batches,
    invocations: {
      work: system.eventSources.work.invocations - invocations0.work,
      finalize: system.eventSources.finalize.invocations - invocations0.finalize,
    },
    timeline: {
      dispatchWait: p(dispatch),
      claim: p(claims),
      create: p(creates),
      record: p(records),
      prepareMs: round(inProgressAt - posted.startMs, 1),
      averageCreatesInFlight: round(sim.createMs / wallMs, 2),
    },
    load,
    runMs: 0,
    warnings: bench.tally.warnings,
    errors: bench.tally.errors,
    logSamples: bench.tally.samples,
  };
}

interface EtaSample {
  atMs: number;
  outcomes: number;
  total: number;
  etaSeconds: number | null;
}

async function readRow(bench: BenchSystem, syncId: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${bench.system.url}/api/sync-history/${syncId}`);
  if (!response.ok) return undefined;
  return ((await response.json()) as { data?: Record<string, unknown> }).data;
}

/** Reads the sync through the API every 100 ms until stopped (the history page's view of it). */
function sampleEta(bench: BenchSystem, syncId: string): { stop(): Promise<EtaSample[]> } {
  const samples: EtaSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const atMs = now();
      const row = await readRow(bench, syncId).catch(() => undefined);
      if (row) {
        const num = (key: string) => (typeof row[key] === 'number' ? (row[key] as number) : 0);
        samples.push({
          atMs,
          outcomes: num('items_created') + num('items_failed') + num('items_skipped'),
          total: num('total_items'),
          etaSeconds: typeof row.eta_seconds === 'number' ? row.eta_seconds : null,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

function etaChecks(samples: readonly EtaSample[], endMs: number): EtaCheck[] {
  return [0.25, 0.5].map((share) => {
    const sample = samples.find((s) => s.total > 0 && s.outcomes / s.total >= share);
    if (!sample) return { at: share, etaSeconds: null, actualSeconds: 0, errorPct: null };
    const actualSeconds = (endMs - sample.atMs) / 1000;
    return {
      at: round(sample.outcomes / sample.total, 3),
      etaSeconds: sample.etaSeconds,
      actualSeconds: round(actualSeconds, 2),
      errorPct:
        sample.etaSeconds === null || actualSeconds <= 0
          ? null
          : round(((sample.etaSeconds - actualSeconds) / actualSeconds) * 100, 1),
    };
  });
}

/** `runPipeline` with the whole run's duration (start and stop of the local system included). */
export async function timedPipeline(options: PipelineOptions): Promise<PipelineRun> {
  const t0 = performance.now();
  const run = await runPipeline(options);
  return { ...run, runMs: round(performance.now() - t0, 0) };
}

/** A statement breakdown, one line per kind, busiest first. */
export function describeStatements(run: PipelineRun): string {
  const rows = Object.entries(run.byKind).sort((a, b) => b[1].count - a[1].count);
  const parts = rows.map(
    ([kind, v]) =>
      `${kind} ${v.count} (${round(v.count / run.items, 3)}/item, ${round(v.totalMs / Math.max(1, v.count), 2)} ms avg)`,
  );
  return `statements by kind [${run.kind}]: ${parts.join('; ')}`;
}
