/**
 * "Today" and "new" on this machine, one right after the other (issue 19's table):
 * `npx tsx bench/compare.ts [--base REV] [--repeat N] [--concurrency N]` (bench/README.md).
 *
 * 1. A worktree of REV (default: the commit before the speed work) in a temporary directory, with this
 *    checkout's node_modules linked in.
 * 2. This checkout's harness overlaid on it: bench/, sim/ (the simulators stand for Azure DevOps and
 *    Ardoq, remote services: the same ones for both runs) and the two small files the harness reads
 *    (test/support/sqs-send-counter.ts, bin/local/sqs-send-counter.ts). The runtime under test
 *    (lambdas/, the rest of bin/local/, migrations/) stays REV's.
 * 3. Section 9 there, on a scratch PostgreSQL database of its own, then section 9 here on another, with
 *    `--baseline` pointing at the first run's results: the table prints both columns.
 *
 * Needs PostgreSQL (TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test, for the scratch
 * databases) and git. Runs about 8 minutes.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const DEFAULT_BASE = 'cc8a236';
const ROOT = resolve(import.meta.dirname, '..');
const OVERLAY = ['bench', 'sim', 'test/support/sqs-send-counter.ts', 'bin/local/sqs-send-counter.ts'];

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: 'inherit' });
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });
}

async function scratchDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string', default: DEFAULT_BASE },
      repeat: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '8' },
      keep: { type: 'boolean', default: false },
    },
  });
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const work = await mkdtemp(join(tmpdir(), 'ardoq-bench-compare-'));
  const tree = join(work, 'base');
  const baseline = join(work, 'baseline-results.json');
  const common = ['--only', 'speed', '--repeat', values.repeat, '--concurrency', values.concurrency];
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  try {
    console.log(`compare: worktree of ${values.base} in ${tree}`);
    await run('git', ['worktree', 'add', '--detach', tree, values.base], ROOT);
    await symlink(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
    for (const path of OVERLAY) {
      await rm(join(tree, path), { recursive: true, force: true });
      await cp(join(ROOT, path), join(tree, path), { recursive: true });
    }
    console.log(`\ncompare: today (${values.base}, this harness)…`);
    await run(tsx, ['bench/run.ts', ...common, '--out', baseline], tree, {
      ...process.env,
      DATABASE_URL: await scratchDatabase(adminUrl, 'bench_compare_base'),
    });
    console.log('\ncompare: new (this checkout)…');
    await run(tsx, ['bench/run.ts', ...common, '--baseline', baseline], ROOT, {
      ...process.env,
      DATABASE_URL: await scratchDatabase(adminUrl, 'bench_compare_new'),
    });
  } finally {
    if (!values.keep) {
      await run('git', ['worktree', 'remove', '--force', tree], ROOT).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === new URL(`file://${resolve(process.argv[1] ?? '')}`).href) {
  await main();
}
