/**
 * The benchmarks (see bench/README.md): `npx tsx bench/run.ts [--size small|full|large] [--concurrency N] [--latency MS]
 * [--only name,...]`. Prints a table per section and writes bench-results.json. Exits 0 unless the
 * script itself crashes: a section that throws reports its error and the others still run.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { probeDataApiAcceptance, runAcceptance } from './accept.ts';
import { type BenchArgs, parseBenchArgs, type SectionName } from './args.ts';
import { runHistory } from './history.ts';
import { runLambdaWeight } from './lambda-weight.ts';
import { mappingSection, runMappingBench } from './mapping-section.ts';
import { acceptanceSection, historySection, lambdaSection, workflowSection } from './more-sections.ts';
import { describeStatements, type PipelineRun, timedPipeline } from './pipeline.ts';
import { machineInfo, renderSection, renderSummary, type SectionResult } from './report.ts';
import { databaseWorkSection, messagesSection, overheadSection } from './sections.ts';
import { baselineFigures, comparisonTable, runSpeed, speedFigures } from './speed.ts';
import { now, round } from './stats.ts';
import { type DbKind, postgresProblem } from './system.ts';
import { runWorkflowBench } from './workflow.ts';

// The AWS SDK's notice that its 2027 releases need Node 22 is for AWS deployments; here it is noise
// (once per thread that loads the SDK).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const PIPELINE_SHAPES = {
  full: [20, 10, 9],
  small: [5, 5, 3],
  // 10,520 items: does the time per item stay flat as a sync grows? (10× the full tree)
  large: [20, 25, 20],
} as const satisfies Record<string, readonly [number, number, number]>;
export const ACCEPT_SIZES = [100, 1_000, 10_000] as const;

type Built = { figures: SectionResult['figures']; details: string[]; data?: Record<string, unknown> };

/** Runs one section, timing it; an exception becomes the section's error, never the script's. */
async function section(
  id: string,
  title: string,
  work: () => Promise<Built | { skipped: string }>,
): Promise<SectionResult> {
  const t0 = now();
  try {
    const built = await work();
    if ('skipped' in built) {
      return {
        id,
        title,
        status: 'skipped',
        durationMs: now() - t0,
        figures: [],
        details: [],
        error: built.skipped,
      };
    }
    return { id, title, status: 'ok', durationMs: now() - t0, ...built };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { id, title, status: 'error', durationMs: now() - t0, figures: [], details: [], error: message };
  }
}

function print(result: SectionResult): SectionResult {
  console.log(`\n${renderSection(result)}`);
  return result;
}

export async function runBench(args: BenchArgs): Promise<SectionResult[]> {
  const started = now();
  const databaseUrl = process.env.DATABASE_URL;
  const kind: DbKind = databaseUrl ? 'postgres' : 'pglite';
  // Where the Data API test server's scratch databases and bench_history are created.
  const adminUrl = databaseUrl ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (databaseUrl && !process.env.TEST_DATABASE_URL) process.env.TEST_DATABASE_URL = databaseUrl;
  const pgProblem = await postgresProblem(adminUrl);
  const machine = machineInfo(databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (temporary directory)');
  const shape = PIPELINE_SHAPES[args.size];
  // The measured sync meets a runtime that has run one sync of the same size (JIT, pools), as a
  // reused Lambda has; --cold measures the first sync after start instead.
  const warmup = args.cold ? {} : { warmupShape: shape };
  console.log(
    `bench: size ${args.size}, concurrency ${args.concurrency}, simulator latency ${args.latencyMs} ms, database ${machine.database}; ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
  );
  if (pgProblem) console.log(`PostgreSQL at ${new URL(adminUrl).host} unreachable: ${pgProblem}`);

  const results: SectionResult[] = [];
  const wants = (name: SectionName) => args.only.has(name);

  // Sections 1, 2 and 6 read the same pipeline run.
  let pipeline: PipelineRun | undefined;
  let pipelineError: unknown;
  if (wants('pipeline') || wants('db') || wants('messages')) {
    console.log(`\nrunning the pipeline workload (${shape.join('×')}) on ${kind}…`);
    try {
      pipeline = await timedPipeline({
        kind,
        ...(databaseUrl ? { databaseUrl } : {}),
        shape,
        concurrency: args.concurrency,
        latencyMs: args.latencyMs,
        ...warmup,
        repeat: args.repeat,
        ...(args.threads !== undefined ? { processorThreads: args.threads } : {}),
      });
    } catch (error) {
      pipelineError = error;
    }
  }
  const fromPipeline = async (build: (run: PipelineRun) => Promise<Built> | Built) => {
    if (!pipeline) throw pipelineError ?? new Error('the pipeline run did not happen');
    return build(pipeline);
  };

  if (wants('pipeline')) {
    results.push(
      print(
        await section('1', 'pipeline overhead', () =>
          fromPipeline((run) => ({ ...overheadSection(run), data: { run } })),
        ),
      ),
    );
  }
  if (wants('db')) {
    results.push(
      print(
        await section('2', 'database work per item', () =>
          fromPipeline(async (run) => {
            let dataApi: PipelineRun | undefined;
            let skip: string | undefined;
            if (pgProblem) skip = `skipped: PostgreSQL unreachable (${pgProblem})`;
            else {
              console.log('\nrunning the pipeline workload again through the Data API adapter…');
              try {
                dataApi = await timedPipeline({
                  kind: 'data-api',
                  shape,
                  concurrency: args.concurrency,
                  latencyMs: args.latencyMs,
                  ...warmup,
                });
              } catch (error) {
                skip = `failed: ${error instanceof Error ? error.message : String(error)}`;
              }
            }
            return { ...databaseWorkSection(run, dataApi, skip), data: { run, dataApi: dataApi ?? null } };
          }),
        ),
      ),
    );
  }
  if (wants('accept')) {
    results.push(
      print(
        await section('3', 'accepting a large sync', async () => {
          const result = await runAcceptance({
            kind,
            ...(databaseUrl ? { databaseUrl } : {}),
            sizes: ACCEPT_SIZES,
            repeat: 3,
          });
          const size = ACCEPT_SIZES.at(-1) as number;
          let probe: Parameters<typeof acceptanceSection>[1];
          if (pgProblem) probe = { size, skipped: `skipped: PostgreSQL unreachable (${pgProblem})` };
          else {
            console.log(`\nposting ${size.toLocaleString('en-US')} items once through the Data API adapter…`);
            probe = await probeDataApiAcceptance(size)
              .then((p) => ({ size, ...p }))
              .catch((error: unknown) => ({ size, skipped: `failed: ${String(error)}` }));
          }
          return { ...acceptanceSection(result, probe), data: { result, probe } };
        }),
      ),
    );
  }
  if (wants('history')) {
    results.push(
      print(
        await section('4', 'history queries at scale', async () => {
          if (!databaseUrl) return { skipped: 'skipped: needs DATABASE_URL' };
          if (pgProblem) return { skipped: `skipped: PostgreSQL unreachable (${pgProblem})` };
          const result = await runHistory({
            adminUrl: databaseUrl,
            runs: Math.max(50, args.historyRuns),
            log: (l) => console.log(l),
          });
          return { ...historySection(result), data: { result } };
        }),
      ),
    );
  }
  if (wants('lambda')) {
    results.push(
      print(
        await section('5', 'Lambda weight', async () => {
          const result = await runLambdaWeight({ runs: 3 });
          return { ...lambdaSection(result), data: { result } };
        }),
      ),
    );
  }
  if (wants('messages')) {
    results.push(
      print(
        await section('6', 'messages and invocations per item', () =>
          fromPipeline((run) => messagesSection(run)),
        ),
      ),
    );
  }

  if (wants('workflow')) {
    results.push(
      print(
        await section('7', 'the workflow: Ardoq hierarchy and project creation', async () => {
          const result = await runWorkflowBench({ repeat: args.repeat });
          return { ...workflowSection(result), data: { result } };
        }),
      ),
    );
  }

  if (wants('mapping')) {
    results.push(
      print(
        await section('8', 'field mapping overhead', async () => {
          console.log(
            `\nrunning the field mapping workload (${shape.join('×')}) at 40 and 200 ms on ${kind}…`,
          );
          const result = await runMappingBench({
            kind,
            ...(databaseUrl ? { databaseUrl } : {}),
            shape,
            concurrency: args.concurrency,
            pairs: Math.max(3, args.repeat),
            ...(args.cold ? {} : { warmup: { laterWarmupShape: PIPELINE_SHAPES.small } }),
            log: (line) => console.log(line),
          });
          return { ...mappingSection(result), data: { result } };
        }),
      ),
    );
  }

  if (wants('speed')) {
    results.push(
      print(
        await section('9', 'speed (issue 19)', async () => {
          const today = args.baseline ? await baselineFigures(args.baseline) : undefined;
          const result = await runSpeed({
            kind,
            ...(databaseUrl ? { databaseUrl } : {}),
            concurrency: args.concurrency,
            repeat: args.repeat,
            ...(args.threads !== undefined ? { threads: args.threads } : {}),
            log: (line) => console.log(line),
          });
          const figures = speedFigures(result);
          const details = [
            `today${args.baseline ? ` (${args.baseline})` : ' (no --baseline: not measured here)'} and new, this machine:`,
            ...comparisonTable(today, figures),
            describeStatements(result.at40),
          ];
          return { figures, details, data: { result, today: today ?? null } };
        }),
      ),
    );
  }

  const totalMs = now() - started;
  console.log(`\n${renderSummary(results, totalMs)}`);
  const out = resolve(args.out);
  await writeFile(
    out,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        args: { ...args, only: [...args.only] },
        machine,
        totalSeconds: round(totalMs / 1000, 1),
        sections: results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
  return results;
}

// Run when executed directly (`npx tsx bench/run.ts`), not when imported by a test.
if (import.meta.url === new URL(`file://${resolve(process.argv[1] ?? '')}`).href) {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.profile) {
    // --profile: the same bench again in a child under `node --cpu-prof`, then its profiles summarised.
    const { isProfiledChild, runProfiled } = await import('./profile.ts');
    if (!isProfiledChild()) process.exit(await runProfiled(process.argv.slice(2), { top: args.profileTop }));
  }
  await runBench(args);
  // Pools and servers are closed; leftover handles (keep-alive sockets) must not hold the exit.
  process.exit(0);
}
