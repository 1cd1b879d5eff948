import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalSystem, startLocalSystem } from '#bin/local/local-system.ts';
import { silentLog } from '#core/pipeline/deps.ts';
import { type AdoSimulator, startAdoSimulator } from '#sim/ado/index.ts';
import { sqlUuid } from '#store/database.ts';
import { expectAdoConsistent, tree } from '#test/support/e2e.ts';

/**
 * The local queue lives in memory: a killed runtime loses its messages. A restarted runtime on the
 * same data directory must resume every unfinished sync and finish it exactly once per item.
 */
describe('restarting the local runtime in the middle of a sync (PGlite on disk)', () => {
  let dataDir: string;
  let simulator: AdoSimulator;
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('finishes every sync exactly once per item after the restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ardoq-sync-restart-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const pat = randomBytes(16).toString('hex');
    simulator = await startAdoSimulator({ pat, port: 0, faults: { latencyMs: 80 } });
    cleanups.push(() => simulator.close());
    const options = {
      port: 0,
      dataDir,
      processorConcurrency: 4,
      visibilityTimeoutSeconds: 3,
      sweepIntervalMs: 1_000,
      simulatorInstance: simulator,
      simulatorPat: pat,
      log: silentLog,
      settings: { staleSeconds: 2, transientRetrySeconds: 1 },
    };

    // The first runtime's database access dies with it: in-flight invocations cannot write anything.
    let killed = false;
    const first: LocalSystem = await startLocalSystem({
      ...options,
      interpose: {
        db: (db) => ({
          query: (sql, params) =>
            killed ? Promise.reject(new Error('process killed')) : db.query(sql, params),
          transaction: (fn) => (killed ? Promise.reject(new Error('process killed')) : db.transaction(fn)),
          close: () => db.close(),
        }),
      },
    });
    const post = async (system: LocalSystem, prefix: string) => {
      const res = await fetch(`${system.url}/api/azure-devops/projects/Agile%20Project/workitems`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tree(3, 3, 3, prefix)),
      });
      return ((await res.json()) as { data: { sync_history_id: string } }).data.sync_history_id;
    };
    const running = await post(first, 'rs1');
    await expect.poll(() => simulator.stats.creates, { timeout: 20_000 }).toBeGreaterThan(6);
    // Kill: the in-memory queue and every in-flight invocation die with the process.
    killed = true;
    const inFlight = simulator.stats.createsInFlight;
    await first.stop();

    const second = await startLocalSystem(options);
    cleanups.push(() => second.stop());
    const after = await post(second, 'rs2');
    const status = async (id: string) =>
      ((await (await fetch(`${second.url}/api/sync-history/${id}`)).json()) as { data: { status: string } })
        .data.status;
    await expect.poll(() => status(running), { timeout: 60_000, interval: 200 }).toBe('completed');
    await expect.poll(() => status(after), { timeout: 60_000, interval: 200 }).toBe('completed');

    expect(inFlight, 'the kill hit creates in flight').toBeGreaterThan(0);
    for (const id of [running, after]) {
      const { rows } = await second.db.query<{ items_created: number; total_items: number }>(
        'SELECT items_created, total_items FROM sync_history WHERE id = CAST(:id AS uuid)',
        { id: sqlUuid(id) },
      );
      expect(rows[0]).toEqual({ items_created: 39, total_items: 39 });
      await expectAdoConsistent(second, second.db, id);
    }
  });

  it('resumes every stranded node of a big sync at start, without waiting for a periodic sweep', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ardoq-sync-resume-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const pat = randomBytes(16).toString('hex');
    const sim = await startAdoSimulator({ pat, port: 0, faults: { latencyMs: 5 } });
    cleanups.push(() => sim.close());
    const options = {
      port: 0,
      dataDir: dir,
      processorConcurrency: 4,
      visibilityTimeoutSeconds: 3,
      // No periodic sweep during the test: only the resume at start can bring the lost messages back.
      sweepIntervalMs: 3_600_000,
      simulatorInstance: sim,
      simulatorPat: pat,
      log: silentLog,
      settings: { staleSeconds: 30, transientRetrySeconds: 1 },
    };
    let killed = false;
    const first: LocalSystem = await startLocalSystem({
      ...options,
      interpose: {
        db: (db) => ({
          query: (sql, params) =>
            killed ? Promise.reject(new Error('process killed')) : db.query(sql, params),
          transaction: (fn) => (killed ? Promise.reject(new Error('process killed')) : db.transaction(fn)),
          close: () => db.close(),
        }),
      },
    });
    const res = await fetch(`${first.url}/api/azure-devops/projects/Agile%20Project/workitems`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tree(1_200, 0, 0, 'big')),
    });
    const syncId = ((await res.json()) as { data: { sync_history_id: string } }).data.sync_history_id;
    await expect.poll(() => sim.stats.creates, { timeout: 20_000 }).toBeGreaterThan(20);
    killed = true;
    await first.stop();

    const second = await startLocalSystem(options);
    cleanups.push(() => second.stop());
    const status = async () =>
      (
        (await (await fetch(`${second.url}/api/sync-history/${syncId}`)).json()) as {
          data: { status: string };
        }
      ).data.status;
    await expect.poll(status, { timeout: 60_000, interval: 250 }).toBe('completed');
    const { rows } = await second.db.query<{ items_created: number }>(
      'SELECT items_created FROM sync_history WHERE id = CAST(:id AS uuid)',
      { id: sqlUuid(syncId) },
    );
    expect(rows[0]).toEqual({ items_created: 1_200 });
    await expectAdoConsistent(second, second.db, syncId);
  }, 120_000);
});
