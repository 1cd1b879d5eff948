import { describeStatements, type PipelineRun, TREE_DEPTH } from './pipeline.ts';
import { type Figure, figure } from './report.ts';
import { round } from './stats.ts';

/** Figures and evidence of sections 1, 2 and 6 (one pipeline run), from the raw results (pure). */

export const TARGETS = {
  overheadRatio: 1.15,
  statementsPerItem: 3,
  acceptMs: 500,
  messagesPerItem: 1.1,
  invocationsPerItem: 0.2,
  dataApiRequestKiB: 4096,
} as const;

const le = (value: number) => ({ op: '<=' as const, value });

export const dbLabel = (kind: string) =>
  kind === 'pglite' ? 'PGlite' : kind === 'postgres' ? 'PostgreSQL' : 'Data API → PostgreSQL';

export function pipelineWorkload(run: PipelineRun): string {
  const [e, f, s] = run.shape;
  const warm = run.warmupItems > 0 ? `after a ${run.warmupItems}-item warm-up sync` : 'cold runtime';
  return `${run.items.toLocaleString('en-US')} items (${e}×${f}×${s}, depth ${TREE_DEPTH}), simulator ${run.latencyMs} ms/request, processorConcurrency ${run.concurrency}, ${dbLabel(run.kind)}, ${warm}`;
}

function runHealth(run: PipelineRun): string {
  const ok = run.status === 'completed' && run.created === run.items;
  const late = run.terminalSeenBy === 'poll' ? '  <-- END SEEN BY THE 1 s POLL: the wall time is late' : '';
  return `final: ${run.status}${late}, created ${run.created}/${run.items}, failed ${run.failed}, skipped ${run.skipped}; ${run.creates} creates sent to the simulator; log warnings ${run.warnings}, errors ${run.errors}${ok ? '' : '  <-- NOT A CLEAN RUN'}${run.logSamples.length ? `\n  ${run.logSamples.join('\n  ')}` : ''}`;
}

export function overheadSection(run: PipelineRun): { figures: Figure[]; details: string[] } {
  const w = pipelineWorkload(run);
  const t = run.timeline;
  return {
    figures: [
      figure(
        'wall time POST → terminal',
        run.wallMs / 1000,
        's',
        w,
        undefined,
        run.wallRunsMs.length > 1
          ? `median of ${run.wallRunsMs.length}: ${run.wallRunsMs.map((ms) => round(ms / 1000, 2)).join(' / ')} s`
          : undefined,
      ),
      figure('POST → 202', run.acceptMs, 'ms', w),
      figure('POST → in_progress (prepare done)', t.prepareMs, 'ms', w),
      figure('peak concurrent creates C', run.peakConcurrentCreates, '', w),
      figure('ideal (⌈N/C⌉ + depth − 1) × latency', run.idealMs / 1000, 's', w),
      figure('ratio wall / ideal', run.ratio, '×', w, le(TARGETS.overheadRatio)),
      figure('throughput', run.itemsPerSecond, 'items/s', w),
      figure(
        'average creates in flight',
        t.averageCreatesInFlight,
        '',
        w,
        undefined,
        'Σ create request time at the simulator / wall',
      ),
      ...cpuFigures(run, w),
    ],
    details: [
      runHealth(run),
      `process [${run.kind}]: ${round(run.load.machine.processCpuMs / run.items, 2)} ms CPU per item${run.load.machine.postgresCpuMs === null ? '' : ` (PostgreSQL server: ${round(run.load.machine.postgresCpuMs / run.items, 2)} more)`}; CPU ${run.load.cpuCores} cores busy (of 2, all threads; ${run.processorThreads > 0 ? `the processor invocations on ${run.processorThreads} threads, the API, pollers and finalizer${run.kind === 'pglite' ? ' and PGlite' : ''} on the main one` : `the API and the processors${run.kind === 'pglite' ? ' and PGlite' : ''} share one Node thread`}, fauxqs and the simulator have their own), event loop delay p50 ${run.load.eventLoopDelayMs.p50} / p99 ${run.load.eventLoopDelayMs.p99} / max ${run.load.eventLoopDelayMs.max} ms; simulator requests ${run.load.simulatorRequests}; statements in flight${run.processorThreads > 0 ? ' (main thread)' : ''} avg ${run.load.statementsInFlight.average} / peak ${run.load.statementsInFlight.peak}${run.kind === 'postgres' ? ' (pool max 10)' : run.kind === 'pglite' ? ' (PGlite runs one at a time)' : ''}; whole run incl. start/stop ${round(run.runMs / 1000, 1)} s`,
      ...(run.load.postgresWaits
        ? [
            `PostgreSQL active backends: avg ${run.load.postgresWaits.averageActive} over ${run.load.postgresWaits.samples} samples; by wait (% of active samples): ${Object.entries(
              run.load.postgresWaits.byWait,
            )
              .map(([k, v]) => `${k} ${v}%`)
              .join(
                ', ',
              )}; row locks seen, by table (lock × samples): ${JSON.stringify(run.load.postgresWaits.tupleLocksByTable)}`,
          ]
        : []),
      `per item p50/p95 [${run.kind}]: dispatch wait (parent recorded → claim starts: send, queue, poll, batch) ${t.dispatchWait.p50}/${t.dispatchWait.p95} ms; claim ${t.claim.p50}/${t.claim.p95} ms; create (claim → record, simulator ${run.latencyMs} ms incl.) ${t.create.p50}/${t.create.p95} ms; record ${t.record.p50}/${t.record.p95} ms`,
    ],
  };
}

/**
 * What this machine's CPU allows: every thread of the bench process plus the local PostgreSQL server,
 * per item, turned into the wall time the CPU alone needs on these cores. A ratio at or near this
 * floor is the machine's limit, not the pipeline's.
 */
function cpuFigures(run: PipelineRun, w: string) {
  const { cpu, machine } = run.load;
  const who =
    run.kind === 'pglite'
      ? 'this process, PGlite inside it'
      : machine.postgresCpuMs === null
        ? 'this process (PostgreSQL not measured: not on this machine)'
        : 'this process + PostgreSQL';
  return [
    figure('CPU per item', cpu.cpuMsPerItem, 'ms', w, undefined, `${who}, all threads`),
    figure('cores busy', cpu.busy * 100, '%', w, undefined, `of ${machine.cores}`),
    figure('CPU capacity (cores / CPU per item)', cpu.capacityItemsPerSecond, 'items/s', w),
    figure('CPU floor (N × CPU per item / cores)', cpu.floorMs / 1000, 's', w),
    figure(
      'lowest ratio this CPU allows',
      cpu.floorRatio,
      '×',
      w,
      undefined,
      'max(ideal, CPU floor) / ideal',
    ),
    figure('ratio wall / max(ideal, CPU floor)', run.wallMs / Math.max(run.idealMs, cpu.floorMs), '×', w),
  ];
}

export function databaseWorkSection(
  run: PipelineRun,
  dataApi: PipelineRun | undefined,
  dataApiSkip: string | undefined,
): { figures: Figure[]; details: string[] } {
  const w = pipelineWorkload(run);
  const figures = [
    figure(
      'statements per item (whole run)',
      run.statements / run.items,
      '',
      w,
      le(TARGETS.statementsPerItem),
    ),
    figure(
      'hot path: claim + record per item',
      run.hotPathStatements / run.items,
      '',
      w,
      le(TARGETS.statementsPerItem),
    ),
    figure('statements (whole run)', run.statements, '', w),
    figure('transactions (whole run)', run.transactions, '', w),
  ];
  const details = [describeStatements(run)];
  if (dataApi) {
    const wd = pipelineWorkload(dataApi);
    const calls = dataApi.dataApiCalls;
    figures.push(
      figure(
        'Data API calls per item (whole run)',
        calls ? calls.total / dataApi.items : null,
        '',
        wd,
        le(TARGETS.statementsPerItem),
        calls
          ? `execute ${calls.execute}, begin ${calls.begin}, commit ${calls.commit}, rollback ${calls.rollback}`
          : undefined,
      ),
      figure(
        'statements per item (whole run)',
        dataApi.statements / dataApi.items,
        '',
        wd,
        le(TARGETS.statementsPerItem),
      ),
      figure(
        'hot path: claim + record per item',
        dataApi.hotPathStatements / dataApi.items,
        '',
        wd,
        le(TARGETS.statementsPerItem),
      ),
      figure('wall time POST → terminal', dataApi.wallMs / 1000, 's', wd),
      figure('ratio wall / ideal', dataApi.ratio, '×', wd, undefined, `C = ${dataApi.peakConcurrentCreates}`),
      figure('throughput', dataApi.itemsPerSecond, 'items/s', wd),
    );
    details.push(
      describeStatements(dataApi),
      runHealth(dataApi),
      `process [data-api]: CPU ${dataApi.load.cpuCores} cores, event loop delay p50 ${dataApi.load.eventLoopDelayMs.p50} / p99 ${dataApi.load.eventLoopDelayMs.p99} ms; whole run ${round(dataApi.runMs / 1000, 1)} s`,
    );
    const t = dataApi.timeline;
    details.push(
      `per item p50/p95 [data-api]: dispatch wait ${t.dispatchWait.p50}/${t.dispatchWait.p95} ms; claim ${t.claim.p50}/${t.claim.p95} ms; create ${t.create.p50}/${t.create.p95} ms; record ${t.record.p50}/${t.record.p95} ms`,
    );
  } else {
    details.push(`Data API run: ${dataApiSkip ?? 'not run'}`);
  }
  return { figures, details };
}

export function messagesSection(run: PipelineRun): { figures: Figure[]; details: string[] } {
  const w = pipelineWorkload(run);
  const invocations = run.invocations.work + run.invocations.finalize;
  // Every message but the finalize one goes to the work queue.
  const workMessages = Math.max(0, run.messages - 1);
  return {
    figures: [
      figure('SQS messages sent per item', run.messages / run.items, '', w, le(TARGETS.messagesPerItem)),
      figure(
        'invocations per item (processor + finalizer)',
        invocations / run.items,
        '',
        w,
        le(TARGETS.invocationsPerItem),
      ),
      figure('processor invocations', run.invocations.work, '', w),
      figure('finalizer invocations', run.invocations.finalize, '', w),
      figure(
        'records per processor invocation (avg)',
        workMessages / Math.max(1, run.invocations.work),
        '',
        w,
        undefined,
        'batch size ≤ 10',
      ),
      figure('SendMessageBatch calls', run.sendBatches, '', w),
    ],
    details: [],
  };
}
