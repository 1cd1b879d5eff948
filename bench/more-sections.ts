import type { AcceptanceResult } from './accept.ts';
import { type HistoryResult, PAGE_TARGET_MS, STATS_TARGET_MS } from './history.ts';
import type { LambdaWeightResult } from './lambda-weight.ts';
import { type Figure, figure } from './report.ts';
import { dbLabel, TARGETS } from './sections.ts';
import { round } from './stats.ts';
import type { WorkflowResult } from './workflow.ts';

/** Figures and evidence of sections 3, 4 and 5, from the raw results (pure: tests can reuse them). */

const le = (value: number) => ({ op: '<=' as const, value });

export function acceptanceSection(
  result: AcceptanceResult,
  probe?: { size: number; status: number; ms: number; answer: string } | { size: number; skipped: string },
): { figures: Figure[]; details: string[] } {
  const figures: Figure[] = [];
  const details: string[] = [];
  const label = dbLabel(result.kind);
  for (const size of result.sizes) {
    const w = `POST of a ${size.items.toLocaleString('en-US')}-item tree (${(size.bodyBytes / 1024).toFixed(0)} KiB JSON), processors stopped, ${label}`;
    const maxStatements = Math.max(...size.statements);
    const planKiB = Math.max(...size.samples.map((s) => s.planParamBytes)) / 1024;
    const requestKiB = Math.max(...size.samples.map((s) => s.dataApiRequestBytes)) / 1024;
    figures.push(
      figure(
        `POST → 202 (median of ${size.samples.length})`,
        size.medianMs,
        'ms',
        w,
        size.items >= 10_000 ? le(TARGETS.acceptMs) : undefined,
        `samples ${size.samples.map((s) => s.ms).join(', ')}`,
      ),
      figure(
        'statements during the request',
        maxStatements,
        '',
        w,
        undefined,
        `samples ${size.statements.join(', ')}`,
      ),
      figure('time in database statements (median)', size.medianDbMs, 'ms', w),
      figure(
        'validation + plan building in-process',
        size.validateMs,
        'ms',
        w,
        undefined,
        'zod + buildPlan, no HTTP/DB',
      ),
      figure('plan JSON parameter', planKiB, 'KiB', w),
      figure(
        'Data API request of the create statement (est.)',
        requestKiB,
        'KiB',
        w,
        le(TARGETS.dataApiRequestKiB),
        'ExecuteStatement limit 4 MiB',
      ),
    );
    details.push(`N=${size.items}: statements by kind ${JSON.stringify(size.samples[0]?.byKind ?? {})}`);
  }
  const counts = result.sizes.map((s) => Math.max(...s.statements));
  const w = `requests at N = ${result.sizes.map((s) => s.items.toLocaleString('en-US')).join(', ')}, ${label}`;
  figures.push(
    figure(
      'statement count growth (largest N − smallest N)',
      counts.length ? (counts.at(-1) as number) - (counts[0] as number) : null,
      '',
      w,
      le(0),
      `counts ${counts.join(' / ')}`,
    ),
    figure(
      'processor invocations during the requests',
      result.processorInvocations,
      '',
      w,
      le(0),
      'must be 0: counts are the request’s alone',
    ),
  );
  if (probe) {
    const wp = `one POST of a ${probe.size.toLocaleString('en-US')}-item tree through the Data API adapter (test server enforcing the 4 MiB request limit)`;
    if ('skipped' in probe) details.push(`Data API probe: ${probe.skipped}`);
    else {
      figures.push(
        figure(
          'answer status (202 = accepted)',
          probe.status,
          '',
          wp,
          undefined,
          probe.status === 202 ? 'accepted' : probe.answer,
        ),
        figure('POST → answer', probe.ms, 'ms', wp),
      );
    }
  }
  if (result.explainCreate?.length) {
    details.push(
      `EXPLAIN (ANALYZE) of the create statement at N=${result.sizes.at(-1)?.items} (rolled back):\n  ${result.explainCreate.join('\n  ')}`,
    );
  }
  details.push(
    `check: ${result.queuedPrepares} prepare message(s) still queued and ${result.pendingSyncs} of ${result.postedSyncs} posted syncs still pending after the requests (no processor ran)`,
    result.kind === 'pglite'
      ? 'cleanup: PGlite directory discarded'
      : `cleanup: ${result.postedSyncs} pending syncs cancelled in ${result.cleanupMs} ms (the cancel statement skips every plan item)`,
  );
  return { figures, details };
}

export function historySection(result: HistoryResult): { figures: Figure[]; details: string[] } {
  const c = result.seed.counts;
  const w = `bench_history: ${c.syncs.toLocaleString('en-US')} syncs, ${c.items.toLocaleString('en-US')} items, ${c.audit.toLocaleString('en-US')} audit rows; ${result.timings[0]?.runs ?? 0} runs each (+3 warm-up), p95; month ${result.month.from}..${result.month.to}`;
  const figures = result.timings.map((t) =>
    figure(
      `${t.name} p95`,
      t.p95,
      'ms',
      w,
      le(t.kind === 'page' ? PAGE_TARGET_MS : STATS_TARGET_MS),
      `p50 ${t.p50}, max ${t.max}, ${t.covered}`,
    ),
  );
  const details = [
    result.seed.seeded
      ? `seed: created and seeded in ${round(result.seed.seedMs / 1000, 1)} s`
      : 'seed: reused the existing bench_history database',
  ];
  for (const t of result.timings.filter((x) => x.explain)) {
    details.push(
      `EXPLAIN (ANALYZE, BUFFERS) of "${t.name}" (${t.query}):\n  ${(t.explain ?? []).join('\n  ')}`,
    );
  }
  return { figures, details };
}

const VARIANT_LABEL: Record<string, string> = {
  'sdk-external': '@aws-sdk/* external (nodejs22.x runtime SDK)',
  'sdk-bundled': 'SDK bundled (lib/constructs/sync-function.ts: bundleAwsSDK true)',
};

/** Section 7: the workflow's routes (issue 16). */
export function workflowSection(result: WorkflowResult): { figures: Figure[]; details: string[] } {
  const h = result.hierarchy;
  const w = `hierarchy of one initiative (${h.nodes} nodes) in a ${h.components.toLocaleString('en-US')}-component workspace, Ardoq simulator at ${h.latencyMs} ms per call, ${h.pages} pages of 100`;
  const large = result.large;
  const wl = `the same in a ${large.components.toLocaleString('en-US')}-component workspace (${large.pages} pages), no latency`;
  const p = result.project;
  const wp = `POST /api/azure-devops/projects (Azure DevOps simulator: the project exists ${p.operationDelayMs} ms after the POST), then a 1-item sync on it`;
  return {
    figures: [
      figure(
        'GET …/hierarchy (median)',
        h.medianMs,
        'ms',
        w,
        undefined,
        `samples ${h.samplesMs.join(' / ')}`,
      ),
      figure(
        'ratio to pages × latency',
        h.ratio,
        '×',
        w,
        { op: '<=', value: 1.2 },
        `pages × latency = ${h.idealMs} ms`,
      ),
      figure(
        'peak heap growth during the request',
        h.peakHeapMiB,
        'MiB',
        w,
        undefined,
        `rss +${h.peakRssMiB} MiB (API and simulator in one process)`,
      ),
      figure(
        'peak heap growth during the request',
        large.peakHeapMiB,
        'MiB',
        wl,
        undefined,
        `rss +${large.peakRssMiB} MiB; ${large.medianMs} ms`,
      ),
      figure('POST project → answer', p.createAnswerMs, 'ms', wp),
      figure('POST project → the sync can start (prepare found the project)', p.syncStartableMs, 'ms', wp),
    ],
    details: [],
  };
}

export function lambdaSection(result: LambdaWeightResult): { figures: Figure[]; details: string[] } {
  const figures: Figure[] = [];
  for (const b of result.bundles) {
    const w = `esbuild ESM node22 minify, ${VARIANT_LABEL[b.variant] ?? b.variant}`;
    const fn = b.entry.replace(/^lambdas\//, '').replace(/\.ts$/, '');
    figures.push(
      figure(
        `${fn}: minified size`,
        b.bytes / 1024,
        'KiB',
        w,
        undefined,
        `gzip ${round(b.gzipBytes / 1024, 0)} KiB, map ${round(b.sourceMapBytes / 1024, 0)} KiB`,
      ),
      figure(
        `${fn}: cold import (median)`,
        b.importMs,
        'ms',
        w,
        undefined,
        `samples ${b.importSamples.join(', ')}; process ${b.processMs} ms; rss ${b.rssMiB} MiB`,
      ),
    );
    if (b.importWithSourceMapsMs !== undefined) {
      figures.push(figure(`${fn}: cold import with --enable-source-maps`, b.importWithSourceMapsMs, 'ms', w));
    }
  }
  const details: string[] = [];
  if (result.missing.length) details.push(`not present (skipped): ${result.missing.join(', ')}`);
  for (const variant of ['sdk-external', 'sdk-bundled']) {
    const b = result.bundles.find((x) => x.variant === variant && x.entry.includes('processor'));
    if (b) {
      details.push(
        `largest contributors, processor [${variant}]: ${b.topPackages.map((p) => `${p.name} ${round(p.bytes / 1024, 0)} KiB`).join(', ')}`,
      );
    }
  }
  return { figures, details };
}
