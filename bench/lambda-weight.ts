import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { median, now, round } from './stats.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The function entries CDK bundles. */
export const LAMBDA_ENTRIES = [
  'lambdas/api/handler.ts',
  'lambdas/stream/handler.ts',
  'lambdas/processor/handler.ts',
  'lambdas/finalizer/handler.ts',
  'lambdas/migrate/handler.ts',
];

/** Same banner as lib/constructs/sync-function.ts: CommonJS dependencies still call `require`. */
const BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** The environment the handlers parse at cold start (each one's lambdas/<function>/settings.ts), with dummy values. */
export const HANDLER_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:123456789012:cluster:bench',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
  DB_NAME: 'ardoq_sync',
  RUNTIME_DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-runtime',
  WORK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/work',
  FINALIZE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/finalize',
  PAT_SECRET_PREFIX: 'ardoq-sync/pat',
  CORS_ORIGINS: 'https://app.example.com',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_METRICS_NAMESPACE: 'ArdoqAdoSync',
};

/**
 * `sdk-external`: @aws-sdk/* left to the nodejs22.x runtime; `sdk-bundled`: what
 * lib/constructs/sync-function.ts ships (bundleAwsSDK: true).
 */
export type BundleVariant = 'sdk-external' | 'sdk-bundled';

export interface BundleResult {
  entry: string;
  variant: BundleVariant;
  bytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
  /** Largest contributors to the output, by package. */
  topPackages: Array<{ name: string; bytes: number }>;
  /** Cold import of the bundle in a fresh node process (ms): median and all samples. */
  importMs: number;
  importSamples: number[];
  /** Same with NODE_OPTIONS=--enable-source-maps and the .map next to it, as the CDK construct sets. */
  importWithSourceMapsMs?: number;
  /** Whole child process (spawn → exit), median. */
  processMs: number;
  rssMiB: number;
}

export interface LambdaWeightResult {
  bundles: BundleResult[];
  missing: string[];
}

function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (match) return match[1] as string;
  return path.startsWith('lambdas/') ? `(project) ${path.split('/').slice(0, 2).join('/')}` : '(other)';
}

function topPackages(metafile: Metafile, limit = 6): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, info] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      totals.set(name, (totals.get(name) ?? 0) + info.bytesInOutput);
    }
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, bytes]) => ({ name, bytes }));
}

/** esbuild's JS API with the options CDK's NodejsFunction passes (ESM, node22, minified, banner). */
export async function bundle(entry: string, variant: BundleVariant, outDir: string) {
  const outfile = join(outDir, variant, entry.replace(/\.ts$/, '.mjs'));
  const result = await build({
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile,
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    external: variant === 'sdk-external' ? ['@aws-sdk/*'] : [],
    metafile: true,
    logLevel: 'silent',
  });
  const code = await readFile(outfile);
  return { outfile, bytes: code.length, gzipBytes: gzipSync(code).length, metafile: result.metafile };
}

const CHILD = `
globalThis.awslambda = {
  streamifyResponse: (fn) => fn,
  HttpResponseStream: { from: (stream) => stream },
};
const t0 = performance.now();
const mod = await import(process.env.BENCH_BUNDLE_URL);
const ms = performance.now() - t0;
if (mod.handler === undefined) throw new Error('no handler export');
process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss }));
`;

/** Imports a bundle in a fresh node process: { import ms, process ms, rss }. */
export function coldImport(
  outfile: string,
  extraEnv: Record<string, string> = {},
): Promise<{ importMs: number; processMs: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: dirname(outfile),
      env: {
        PATH: process.env.PATH ?? '',
        ...HANDLER_ENV,
        ...extraEnv,
        BENCH_BUNDLE_URL: pathToFileURL(outfile).href,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = now() - started;
      if (code !== 0) return reject(new Error(`import of ${outfile} failed (${code}): ${err.slice(0, 400)}`));
      try {
        const parsed = JSON.parse(out) as { ms: number; rss: number };
        resolve({ importMs: parsed.ms, processMs, rssMiB: parsed.rss / 2 ** 20 });
      } catch {
        reject(new Error(`unexpected output of ${outfile}: ${out.slice(0, 200)} ${err.slice(0, 200)}`));
      }
    });
  });
}

/**
 * Bundles every entry twice (SDK external, as the nodejs22.x runtime provides v3; SDK bundled, as
 * lib/constructs/sync-function.ts currently configures) and times cold imports (median of `runs`).
 * Bundles are written under bench/.lambda-out (so the external SDK resolves from node_modules) and
 * removed afterwards.
 */
export async function runLambdaWeight(options: { runs: number }): Promise<LambdaWeightResult> {
  const outDir = join(PROJECT_ROOT, 'bench', '.lambda-out');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const bundles: BundleResult[] = [];
  const missing: string[] = [];
  try {
    for (const entry of LAMBDA_ENTRIES) {
      if (!existsSync(join(PROJECT_ROOT, entry))) {
        missing.push(entry);
        continue;
      }
      for (const variant of ['sdk-external', 'sdk-bundled'] as const) {
        const built = await bundle(entry, variant, outDir);
        const samples: Array<{ importMs: number; processMs: number; rssMiB: number }> = [];
        for (let i = 0; i < options.runs; i++) samples.push(await coldImport(built.outfile));
        let withMaps: number | undefined;
        if (variant !== 'sdk-external') {
          const mapped: number[] = [];
          for (let i = 0; i < options.runs; i++) {
            mapped.push((await coldImport(built.outfile, { NODE_OPTIONS: '--enable-source-maps' })).importMs);
          }
          withMaps = round(median(mapped), 1);
        }
        bundles.push({
          entry,
          variant,
          bytes: built.bytes,
          gzipBytes: built.gzipBytes,
          topPackages: topPackages(built.metafile),
          importMs: round(median(samples.map((s) => s.importMs)), 1),
          importSamples: samples.map((s) => round(s.importMs, 1)),
          ...(withMaps !== undefined ? { importWithSourceMapsMs: withMaps } : {}),
          sourceMapBytes: await stat(`${built.outfile}.map`).then(
            (s) => s.size,
            () => 0,
          ),
          processMs: round(median(samples.map((s) => s.processMs)), 1),
          rssMiB: round(median(samples.map((s) => s.rssMiB)), 1),
        });
      }
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  return { bundles, missing: missing.map((m) => relative(PROJECT_ROOT, join(PROJECT_ROOT, m))) };
}
