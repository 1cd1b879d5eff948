/**
 * `--profile` for the benchmarks: the bench runs again as a child process under V8's CPU profiler
 * (`node --cpu-prof`), every thread of it, and the profiles are summarised: self time per frame, per
 * thread and for all threads together (`summary.json` next to the profiles).
 *
 *   npx tsx bench/run.ts --only pipeline --size small --repeat 1 --profile [--profile-top N]
 *   npx tsx bench/profile.ts [dir] [--top N]     (summarises a directory again; default: the newest
 *                                                 under bench-profile/)
 *
 * Worker threads and --cpu-prof on Node 20 (checked on v20.20.2 with a two-worker script):
 * - A Worker started without an `execArgv` option inherits the process's, `--cpu-prof` and
 *   `--cpu-prof-dir` included, and writes a profile of its own when it ends, whether it exits by
 *   itself, is `terminate()`d, or the process calls `process.exit()`. The file name carries the thread:
 *   `CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile` (thread 0 is the main thread). So the ADO
 *   simulator and SQS threads (Workers with `eval: true` and no `execArgv`) are profiled as they are.
 * - A Worker given `execArgv: []` (or any list without the flags) is NOT profiled. A Worker given
 *   `execArgv: ['--cpu-prof', '--cpu-prof-dir=…', '--cpu-prof-interval=…']` is, even in a process that
 *   is not. The runtime's Workers set no execArgv: every thread is profiled.
 * - Idle time (the event loop waiting) is sampled as `(idle)` on every thread, main and workers.
 * - The profiler's sampling (~1 ms) costs CPU: the bench's own timings and CPU figures are inflated
 *   under --profile. Use the profile for where the time goes, the unprofiled run for how much.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { round, sum } from './stats.ts';

/** Set in the profiled child (to its profile directory): the child must not re-spawn itself. */
const PROFILE_ENV = 'BENCH_PROFILE_DIR';
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROFILE_ROOT = join(PROJECT_ROOT, 'bench-profile');
const DEFAULT_TOP = 5;

/** True in the child that `runProfiled` started. */
export function isProfiledChild(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[PROFILE_ENV]);
}

/** The bench's arguments without `--profile` and `--profile-top N`. */
export function withoutProfileArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--profile' || arg.startsWith('--profile-top=')) continue;
    if (arg === '--profile-top') {
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * Runs `script` (default: this process's main script) again in a child `node --cpu-prof` with `argv`
 * minus the profile flags, stdio inherited, then summarises and prints its profiles and writes
 * `summary.json`. Resolves to the child's exit code (128 + signal number when a signal ended it).
 */
export async function runProfiled(
  argv: readonly string[],
  options: { top?: number; script?: string; dir?: string } = {},
): Promise<number> {
  const dir = resolve(options.dir ?? join(PROFILE_ROOT, new Date().toISOString().replace(/[:.]/g, '-')));
  mkdirSync(dir, { recursive: true });
  const script = resolve(options.script ?? process.argv[1] ?? '');
  const args = [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    // The resolved URL, not the bare `tsx`: a bare --import resolves from the working directory.
    '--import',
    import.meta.resolve('tsx'),
    script,
    ...withoutProfileArgs(argv),
  ];
  console.log(`profiling every thread with V8's CPU profiler into ${relative(process.cwd(), dir) || dir}`);
  const child = spawn(process.execPath, args, {
    stdio: 'inherit',
    env: { ...process.env, [PROFILE_ENV]: dir },
  });
  // Ctrl-C reaches the child from the terminal; this process waits for it and summarises what it wrote.
  const onSigint = () => undefined;
  const onSigterm = () => child.kill('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (done, fail) => {
      child.once('error', fail);
      child.once('exit', (code, signal) => done({ code, signal }));
    },
  ).finally(() => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  });
  const exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
  if (profileFiles(dir).length === 0) {
    console.log(`\nno .cpuprofile in ${dir} (the child ended ${signal ? `by ${signal}` : `with ${code}`})`);
    return exitCode;
  }
  const summary = summariseProfileDir(dir, { top: options.top ?? DEFAULT_TOP });
  console.log(`\n${renderProfileSummary(summary)}`);
  return exitCode;
}

// ── the summariser ──────────────────────────────────────────────────────────────────────────────

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  scriptId?: string;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
/** The JSON of a `.cpuprofile` (Chrome DevTools Protocol `Profiler.Profile`); times in µs. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FrameTime {
  /** `name path:line` (1-based line), or the bare name of `(program)` / `(garbage collector)`. */
  frame: string;
  functionName: string;
  /** Shortened url: relative to the project root, `node_modules/<pkg>/…`, `node:…`, or as is. */
  url: string;
  /** 1-based; 0 when the frame has no line. */
  line: number;
  selfMs: number;
  /** Of the non-idle time. */
  percent: number;
}
export interface OriginTime {
  /** `(program)`, `(garbage collector)`, `node:`, `(native)`, `wasm`, `node_modules/<pkg>`, or a project directory. */
  origin: string;
  selfMs: number;
  percent: number;
}
export interface ThreadSummary {
  /** The profile's file name, or `all threads`. */
  file: string;
  /** From the file name (0: the main thread); null for all threads or an unrecognised name. */
  threadId: number | null;
  label: string;
  samples: number;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  top: FrameTime[];
  byOrigin: OriginTime[];
}
export interface ProfileSummary {
  dir: string;
  generatedAt: string;
  top: number;
  threads: ThreadSummary[];
  all: ThreadSummary;
}

interface FrameAcc {
  functionName: string;
  url: string;
  line: number;
  us: number;
}
interface ProfileTimes {
  frames: Map<string, FrameAcc>;
  samples: number;
  totalUs: number;
  idleUs: number;
  /** The thread runs Node's module loader hooks (`module.register`, here tsx's) for another thread. */
  hooksThread: boolean;
}

/**
 * Shortens a profile url: `file://` under the project root → relative path; anything in a
 * `node_modules` → `node_modules/<pkg>/…` (the innermost); `node:…`, `wasm://…`, `[worker eval]` as is.
 */
export function shortenUrl(url: string, root: string = PROJECT_ROOT): string {
  if (!url) return '';
  let path: string;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url.replace(/[?#].*$/, ''));
    } catch {
      return url;
    }
  } else if (isAbsolute(url)) path = url;
  else return url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + 1);
  const rel = relative(root, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Where a (shortened) frame belongs, for the per-origin line. */
function originOf(functionName: string, url: string): string {
  if (!url)
    return functionName === '(program)' || functionName === '(garbage collector)' ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:';
  if (url.startsWith('wasm://')) return 'wasm';
  if (url.startsWith('node_modules/')) {
    const parts = url.split('/');
    return parts.slice(0, parts[1]?.startsWith('@') ? 3 : 2).join('/');
  }
  if (url.startsWith('/') || url.startsWith('[') || url.includes('://')) return 'other';
  const parts = url.split('/');
  // A project file: its directory, two levels deep at most (lambdas/core, bin/local, sim/ado, bench).
  return parts.length <= 2 ? (parts.length === 1 ? '.' : (parts[0] as string)) : parts.slice(0, 2).join('/');
}

const frameKey = (functionName: string, url: string, line: number) =>
  `${functionName}\u0000${url}\u0000${line}`;

/**
 * Self time per frame of one profile: every sample is weighed by its time delta (the interval from the
 * previous sample to it), and the samples of nodes with the same function name, url and line are added
 * up. Without samples, every node's hitCount × the mean interval. `(idle)` is counted apart.
 */
export function profileTimes(profile: CpuProfile, root: string = PROJECT_ROOT): ProfileTimes {
  const byNode = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  let count = 0;
  if (samples && timeDeltas && samples.length > 0 && samples.length === timeDeltas.length) {
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number;
      // V8 can emit a slightly negative delta when samples arrive out of order; it weighs nothing here.
      byNode.set(id, (byNode.get(id) ?? 0) + Math.max(0, timeDeltas[i] as number));
    }
    count = samples.length;
  } else {
    const hits = sum(profile.nodes.map((node) => node.hitCount ?? 0));
    const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
    for (const node of profile.nodes) if (node.hitCount) byNode.set(node.id, node.hitCount * interval);
    count = hits;
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const frames = new Map<string, FrameAcc>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of byNode) {
    totalUs += us;
    const frame = nodes.get(id)?.callFrame;
    const functionName = frame?.functionName ?? '(unknown node)';
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const url = shortenUrl(frame?.url ?? '', root);
    const line = frame && frame.lineNumber >= 0 ? frame.lineNumber + 1 : 0;
    const key = frameKey(functionName, url, line);
    const acc = frames.get(key);
    if (acc) acc.us += us;
    else frames.set(key, { functionName, url, line, us });
  }
  // Node 20 runs the hooks of `module.register` (tsx's, registered by the main thread and again by each
  // Worker bootstrap that calls tsx's `register()`) on a worker thread of their own, which lives in
  // node:internal/modules/esm/worker; they are profiled like any worker.
  const hooksThread = profile.nodes.some((n) => n.callFrame.url === 'node:internal/modules/esm/worker');
  return { frames, samples: count, totalUs, idleUs, hooksThread };
}

const ms = (us: number) => round(us / 1000, 1);
const pct = (part: number, whole: number) => (whole > 0 ? round((part / whole) * 100, 1) : 0);

function frameLabel({ functionName, url, line }: FrameAcc): string {
  const name = functionName || '(anonymous)';
  if (!url) return name;
  return `${name} ${url}${line > 0 ? `:${line}` : ''}`;
}

function threadSummary(
  file: string,
  threadId: number | null,
  label: string,
  times: ProfileTimes,
  top: number,
): ThreadSummary {
  const busyUs = times.totalUs - times.idleUs;
  const frames = [...times.frames.values()].sort((a, b) => b.us - a.us);
  const origins = new Map<string, number>();
  for (const f of frames) {
    const origin = originOf(f.functionName, f.url);
    origins.set(origin, (origins.get(origin) ?? 0) + f.us);
  }
  return {
    file,
    threadId,
    label,
    samples: times.samples,
    totalMs: ms(times.totalUs),
    idleMs: ms(times.idleUs),
    busyMs: ms(busyUs),
    top: frames.slice(0, top).map((f) => ({
      frame: frameLabel(f),
      functionName: f.functionName,
      url: f.url,
      line: f.line,
      selfMs: ms(f.us),
      percent: pct(f.us, busyUs),
    })),
    byOrigin: [...origins]
      .sort((a, b) => b[1] - a[1])
      .map(([origin, us]) => ({ origin, selfMs: ms(us), percent: pct(us, busyUs) })),
  };
}

/** `CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile` → threadId. */
export function threadIdOf(file: string): number | null {
  const match = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(basename(file));
  return match ? Number(match[1]) : null;
}

function profileFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort((a, b) => (threadIdOf(a) ?? 1e9) - (threadIdOf(b) ?? 1e9) || a.localeCompare(b));
}

/** A thread's name: main or worker, and the origin (not Node's or V8's) that took most of its time. */
function threadLabel(threadId: number | null, times: ProfileTimes): string {
  const base = threadId === 0 ? 'main thread' : threadId === null ? 'thread' : `worker thread ${threadId}`;
  if (times.hooksThread) return `${base}, module loader hooks (tsx)`;
  const origins = new Map<string, number>();
  for (const f of times.frames.values()) {
    const origin = originOf(f.functionName, f.url);
    if (origin.startsWith('(') || origin === 'node:') continue;
    origins.set(origin, (origins.get(origin) ?? 0) + f.us);
  }
  const [mostly] = [...origins].sort((a, b) => b[1] - a[1]);
  return mostly ? `${base}, mostly ${mostly[0]}` : base;
}

/**
 * Summarises every `*.cpuprofile` in `dir`: per file (thread) and all together, the top frames by self
 * time. Writes `summary.json` into `dir`.
 */
export function summariseProfileDir(
  dir: string,
  options: { top?: number; root?: string } = {},
): ProfileSummary {
  const top = options.top ?? DEFAULT_TOP;
  const files = profileFiles(dir);
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${dir}`);
  const all: ProfileTimes = { frames: new Map(), samples: 0, totalUs: 0, idleUs: 0, hooksThread: false };
  const threads: ThreadSummary[] = [];
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const times = profileTimes(profile, options.root);
    const threadId = threadIdOf(file);
    threads.push(threadSummary(file, threadId, threadLabel(threadId, times), times, top));
    all.samples += times.samples;
    all.totalUs += times.totalUs;
    all.idleUs += times.idleUs;
    for (const [key, f] of times.frames) {
      const acc = all.frames.get(key);
      if (acc) acc.us += f.us;
      else all.frames.set(key, { ...f });
    }
  }
  const summary: ProfileSummary = {
    dir: resolve(dir),
    generatedAt: new Date().toISOString(),
    top,
    threads,
    all: threadSummary('all threads', null, `all ${files.length} threads`, all, top),
  };
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

const num = (value: number, digits = 1) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function renderThread(t: ThreadSummary): string[] {
  const head = t.threadId === null && t.file === 'all threads' ? `${t.label}` : `${t.label} (${t.file})`;
  const lines = [
    `${head}: ${num(t.totalMs, 0)} ms sampled, ${num(t.idleMs, 0)} idle, ${num(t.busyMs, 0)} busy (${t.samples.toLocaleString('en-US')} samples)`,
    `  by origin: ${t.byOrigin
      .slice(0, 6)
      .map((o) => `${o.origin} ${num(o.percent)} %`)
      .join(', ')}`,
    `  ${'self ms'.padStart(10)} ${'% busy'.padStart(7)}  frame`,
  ];
  for (const f of t.top)
    lines.push(`  ${num(f.selfMs).padStart(10)} ${num(f.percent).padStart(7)}  ${f.frame}`);
  return lines;
}

/** The summary as text: every thread, then all threads together. */
function renderProfileSummary(summary: ProfileSummary): string {
  const where = relative(process.cwd(), summary.dir) || summary.dir;
  const lines = [
    `CPU profile (${summary.threads.length} threads, top ${summary.top} frames by self time): ${where}`,
  ];
  for (const t of summary.threads) lines.push('', ...renderThread(t));
  lines.push('', ...renderThread(summary.all), '', `wrote ${join(where, 'summary.json')}`);
  return lines.join('\n');
}

function newestProfileDir(): string | undefined {
  if (!existsSync(PROFILE_ROOT)) return undefined;
  return readdirSync(PROFILE_ROOT)
    .map((name) => join(PROFILE_ROOT, name))
    .filter((path) => statSync(path).isDirectory())
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

// Standalone: `npx tsx bench/profile.ts [dir] [--top N]`.
if (import.meta.url === new URL(`file://${resolve(process.argv[1] ?? '')}`).href) {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { top: { type: 'string', default: String(DEFAULT_TOP) } },
    allowPositionals: true,
    strict: true,
  });
  const top = Number(values.top);
  if (!Number.isInteger(top) || top < 1) throw new Error('--top must be a whole number ≥ 1');
  const dir = positionals[0] ?? newestProfileDir();
  if (!dir) throw new Error('usage: npx tsx bench/profile.ts [dir] [--top N] (no dir under bench-profile/)');
  console.log(renderProfileSummary(summariseProfileDir(dir, { top })));
}
