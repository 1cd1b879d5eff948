import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/args.ts';
import {
  type CpuProfile,
  type ProfileNode,
  type ProfileSummary,
  profileTimes,
  runProfiled,
  shortenUrl,
  summariseProfileDir,
  threadIdOf,
  withoutProfileArgs,
} from '../../bench/profile.ts';

const ROOT = '/work/project';
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const node = (
  id: number,
  functionName: string,
  url = '',
  lineNumber = -1,
  children?: number[],
): ProfileNode => ({
  id,
  callFrame: { functionName, url, lineNumber, columnNumber: 0, scriptId: '1' },
  hitCount: 0,
  ...(children ? { children } : {}),
});

/**
 * (root) → (program), (idle), (garbage collector), handler (lambdas/core/a.ts:10) → hot (same file, :20),
 * and a second `hot` node (another call path, same frame) under a node_modules caller.
 */
function syntheticProfile(): CpuProfile {
  const nodes = [
    node(1, '(root)', '', -1, [2, 3, 4, 5, 7]),
    node(2, '(program)'),
    node(3, '(idle)'),
    node(4, '(garbage collector)'),
    node(5, 'handler', `file://${ROOT}/lambdas/core/a.ts`, 9, [6]),
    node(6, 'hot', `file://${ROOT}/lambdas/core/a.ts`, 19),
    node(7, 'query', `file://${ROOT}/node_modules/@electric-sql/pglite/dist/index.js`, 0, [8]),
    node(8, 'hot', `file://${ROOT}/lambdas/core/a.ts`, 19),
  ];
  // µs; each sample weighs its own delta.
  const samples = [3, 6, 6, 5, 2, 8, 4, 3, 7, 6];
  const timeDeltas = [5000, 1000, 2000, 500, 700, 1500, 300, 4000, 200, 1000];
  return { nodes, startTime: 0, endTime: 16_200, samples, timeDeltas };
}

describe('the CPU profile summariser (bench --profile)', () => {
  it('adds up self time per frame across nodes, keeping (idle) apart', () => {
    const times = profileTimes(syntheticProfile(), ROOT);
    expect(times.samples).toBe(10);
    expect(times.totalUs).toBe(16_200);
    expect(times.idleUs).toBe(9000);
    const byName = Object.fromEntries([...times.frames.values()].map((f) => [f.functionName, f.us]));
    // hot: nodes 6 (1000 + 2000 + 1000) and 8 (1500), one frame (same name, url and line).
    expect(byName).toEqual({
      hot: 5500,
      handler: 500,
      '(program)': 700,
      '(garbage collector)': 300,
      query: 200,
    });
    expect(byName['(idle)']).toBeUndefined();
  });

  it('falls back to hitCount × the mean interval without samples', () => {
    const profile: CpuProfile = {
      nodes: [
        { ...node(1, 'a'), hitCount: 3 },
        { ...node(2, '(idle)'), hitCount: 1 },
      ],
      startTime: 0,
      endTime: 4000,
    };
    const times = profileTimes(profile, ROOT);
    expect([...times.frames.values()].map((f) => f.us)).toEqual([3000]);
    expect(times.idleUs).toBe(1000);
  });

  it('shortens urls to project paths, node_modules/<pkg>/… and node:…', () => {
    expect(shortenUrl(`file://${ROOT}/lambdas/core/a.ts`, ROOT)).toBe('lambdas/core/a.ts');
    expect(shortenUrl(`file://${ROOT}/bench/run.ts?tsx-namespace=1`, ROOT)).toBe('bench/run.ts');
    expect(shortenUrl(`file://${ROOT}/node_modules/@electric-sql/pglite/dist/index.js`, ROOT)).toBe(
      'node_modules/@electric-sql/pglite/dist/index.js',
    );
    expect(shortenUrl(`${ROOT}/node_modules/a/node_modules/b/x.js`, ROOT)).toBe('node_modules/b/x.js');
    expect(shortenUrl('node:internal/streams/readable', ROOT)).toBe('node:internal/streams/readable');
    expect(shortenUrl('file:///elsewhere/x.js', ROOT)).toBe('/elsewhere/x.js');
    expect(shortenUrl('wasm://wasm/0123abcd', ROOT)).toBe('wasm://wasm/0123abcd');
    expect(shortenUrl('', ROOT)).toBe('');
  });

  it('summarises a directory: top N by self time, % of busy time, per thread and all, summary.json', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'CPU.20260101.000000.42.0.001.cpuprofile'), JSON.stringify(syntheticProfile()));
    // A second thread: 3 ms of `worker` (sim/ado/server.ts:5) and 1 ms of (program).
    const worker: CpuProfile = {
      nodes: [
        node(1, '(root)', '', -1, [2, 3]),
        node(2, 'worker', `file://${ROOT}/sim/ado/server.ts`, 4),
        node(3, '(program)'),
      ],
      startTime: 0,
      endTime: 4000,
      samples: [2, 3, 2],
      timeDeltas: [1000, 1000, 2000],
    };
    writeFileSync(join(dir, 'CPU.20260101.000000.42.2.002.cpuprofile'), JSON.stringify(worker));
    // A third: Node's module loader hooks thread (tsx), told by its node:internal/modules/esm/worker frames.
    const hooks: CpuProfile = {
      nodes: [
        node(1, '(root)', '', -1, [2]),
        node(2, 'handleMessage', 'node:internal/modules/esm/worker', 170),
      ],
      startTime: 0,
      endTime: 1000,
      samples: [2],
      timeDeltas: [1000],
    };
    writeFileSync(join(dir, 'CPU.20260101.000000.42.1.003.cpuprofile'), JSON.stringify(hooks));
    writeFileSync(join(dir, 'notes.txt'), 'not a profile');

    const summary = summariseProfileDir(dir, { top: 3, root: ROOT });
    expect(summary.threads.map((t) => [t.threadId, t.label])).toEqual([
      [0, 'main thread, mostly lambdas/core'],
      [1, 'worker thread 1, module loader hooks (tsx)'],
      [2, 'worker thread 2, mostly sim/ado'],
    ]);
    const main = summary.threads[0]!;
    expect(main).toMatchObject({ totalMs: 16.2, idleMs: 9, busyMs: 7.2, samples: 10 });
    expect(main.top).toEqual([
      {
        frame: 'hot lambdas/core/a.ts:20',
        functionName: 'hot',
        url: 'lambdas/core/a.ts',
        line: 20,
        selfMs: 5.5,
        percent: 76.4,
      },
      { frame: '(program)', functionName: '(program)', url: '', line: 0, selfMs: 0.7, percent: 9.7 },
      {
        frame: 'handler lambdas/core/a.ts:10',
        functionName: 'handler',
        url: 'lambdas/core/a.ts',
        line: 10,
        selfMs: 0.5,
        percent: 6.9,
      },
    ]);
    expect(main.byOrigin.map((o) => o.origin)).toEqual([
      'lambdas/core',
      '(program)',
      '(garbage collector)',
      'node_modules/@electric-sql/pglite',
    ]);

    expect(summary.all).toMatchObject({ totalMs: 21.2, idleMs: 9, busyMs: 12.2, samples: 14 });
    expect(summary.all.top.map((f) => [f.frame, f.selfMs])).toEqual([
      ['hot lambdas/core/a.ts:20', 5.5],
      ['worker sim/ado/server.ts:5', 3],
      ['(program)', 1.7], // both threads' (program), one line
    ]);

    const written = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ProfileSummary;
    expect(written.all.top[0]?.frame).toBe('hot lambdas/core/a.ts:20');
    expect(written.threads).toHaveLength(3);
  });

  it('reads the thread from the file name, and strips the profile flags for the child', () => {
    expect(threadIdOf('/x/CPU.20261207.032156.6388.0.001.cpuprofile')).toBe(0);
    expect(threadIdOf('CPU.20261207.032156.6388.12.003.cpuprofile')).toBe(12);
    expect(threadIdOf('other.cpuprofile')).toBeNull();
    expect(
      withoutProfileArgs(['--only', 'pipeline', '--profile', '--profile-top', '8', '--size', 'small']),
    ).toEqual(['--only', 'pipeline', '--size', 'small']);
    expect(withoutProfileArgs(['--profile-top=3', '--profile', '--cold'])).toEqual(['--cold']);
    expect(parseBenchArgs(['--profile', '--profile-top', '8'])).toMatchObject({
      profile: true,
      profileTop: 8,
    });
    expect(parseBenchArgs([])).toMatchObject({ profile: false, profileTop: 5 });
    expect(() => parseBenchArgs(['--profile-top', '0'])).toThrow(/--profile-top/);
  });

  it('runProfiled: reruns a script under --cpu-prof (marked as the profiled child), finds its busy function at the top on every thread, writes summary.json', async () => {
    const dir = tempDir();
    const script = join(dir, 'busy.mjs');
    // The main thread and a Worker without execArgv (it inherits --cpu-prof) each spin ~300 ms.
    writeFileSync(
      script,
      `import { Worker, isMainThread } from 'node:worker_threads';
function spin(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }
function mainBusy() { return spin(300); }
function workerBusy() { return spin(300); }
if (isMainThread) {
  (await import('node:fs')).writeFileSync(new URL('./child-env.txt', import.meta.url), process.env.BENCH_PROFILE_DIR ?? '');
  const worker = new Worker(new URL(import.meta.url));
  mainBusy();
  await new Promise((resolve) => worker.once('exit', resolve));
} else {
  workerBusy();
}
`,
    );
    const profiles = join(dir, 'profiles');
    const code = await runProfiled(['--profile', '--profile-top', '3'], { script, dir: profiles, top: 3 });
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'child-env.txt'), 'utf8')).toBe(profiles);
    // The main thread, the Worker, and the thread of tsx's module hooks (`--import tsx`).
    expect(readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(3);
    expect(JSON.parse(readFileSync(join(profiles, 'summary.json'), 'utf8'))).toHaveProperty('all');

    const summary = summariseProfileDir(profiles, { top: 3, root: dir });
    const main = summary.threads.find((t) => t.threadId === 0);
    const worker = summary.threads.find((t) => (t.threadId ?? 0) > 0 && t.top[0]?.url === 'busy.mjs');
    // `spin` is where the time goes (its callers have next to no self time); small functions may be
    // inlined into their caller by the optimiser, so accept either name on the line it is defined.
    const isSpin = (f: { functionName: string; url: string }) =>
      f.url === 'busy.mjs' && ['spin', 'mainBusy', 'workerBusy'].includes(f.functionName);
    expect(isSpin(main!.top[0]!)).toBe(true);
    expect(isSpin(worker!.top[0]!)).toBe(true);
    expect(main!.top[0]!.selfMs).toBeGreaterThan(150);
    expect(isSpin(summary.all.top[0]!)).toBe(true);
    expect(summary.all.top[0]!.selfMs).toBeGreaterThan(250);
    // Far ahead of anything else (tsx's module hooks thread loads modules meanwhile, a share of busy time
    // that grows on a loaded machine, so no fixed share of the total is asserted).
    const spinning = summary.all.top.filter(isSpin).reduce((ms, f) => ms + f.selfMs, 0);
    const otherwise = Math.max(0, ...summary.all.top.filter((f) => !isSpin(f)).map((f) => f.selfMs));
    expect(spinning).toBeGreaterThan(2 * otherwise);
  });
});
