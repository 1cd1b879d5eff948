import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUuid } from '#store/database.ts';
import {
  type CancelRecord,
  type ChaosRunResult,
  expectChaosRunConsistent,
} from '#test/support/chaos-checks.ts';
import { baseSeedFromEnv, runSeed } from '#test/support/chaos-random.ts';
import { ChaosRuntime } from '#test/support/chaos-runtime.ts';
import {
  type ChaosSchedule,
  describeSchedule,
  drawSchedule,
  planOf,
  requestOf,
} from '#test/support/chaos-schedule.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

/**
 * Randomized fault injection (DESIGN.md §4): each run posts a small tree to its own simulator
 * project and draws a fault schedule from its seed — duplicate and late deliveries, processor
 * crashes at each step boundary, a killed runtime, dropped/throttled/failed ADO answers, database
 * errors before and after commit, rejected items, a cancel — for a bounded time; then the sync must
 * finish and every invariant must hold.
 *
 *   CHAOS_SEED=<n>      replays a base seed (printed at start)
 *   CHAOS_RUNS=<n>      number of runs (default 25)
 *   CHAOS_ONLY=<i,j>    only these run indexes of the base seed
 */
const RUNS = Number(process.env.CHAOS_RUNS ?? 25);
const BASE_SEED = baseSeedFromEnv();
const ONLY = process.env.CHAOS_ONLY?.split(',').map((s) => Number(s.trim()));
const RUN_TIMEOUT_MS = 90_000;
const SETTINGS = {
  processorConcurrency: 4,
  staleSeconds: 2,
  visibilityTimeoutSeconds: 2,
  sweepIntervalMs: 400,
  invocationTimeoutMs: 1_200,
};

if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`CHAOS_RUNS must be a whole number ≥ 1: ${RUNS}`);
const indexes = ONLY ?? Array.from({ length: RUNS }, (_, i) => i);
const schedules = indexes.map((i) => drawSchedule(i, runSeed(BASE_SEED, i)));

console.log(
  `[chaos] base seed ${BASE_SEED}: ${schedules.length} run(s); replay with CHAOS_SEED=${BASE_SEED} CHAOS_RUNS=${RUNS}` +
    (postgresAvailable ? '' : ` — skipped ${postgresSkipReason}`),
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!postgresAvailable)(`chaos runs ${postgresSkipReason}`, () => {
  let runtime: ChaosRuntime;
  let dropDatabase: (() => Promise<void>) | undefined;
  const finished: Array<{ schedule: ChaosSchedule; result: ChaosRunResult }> = [];

  beforeAll(async () => {
    const scratch = await createScratchDatabase();
    dropDatabase = scratch.drop;
    runtime = await ChaosRuntime.start({ databaseUrl: scratch.url, seed: BASE_SEED, ...SETTINGS });
  });

  afterAll(async () => {
    await runtime?.close();
    await dropDatabase?.();
  });

  async function startSync(schedule: ChaosSchedule): Promise<string> {
    const res = await runtime.faults.quietly(() =>
      runtime.request<{ data: { sync_history_id: string } }>(
        'POST',
        `/api/azure-devops/projects/${encodeURIComponent(schedule.project)}/workitems`,
        requestOf(schedule),
      ),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.data.sync_history_id;
  }

  /** POST cancel until it is answered 200 or 409 (a 500 is a database fault: the client retries). */
  async function cancel(syncId: string, record: CancelRecord): Promise<void> {
    record.sent = true;
    for (let attempt = 0; attempt < 50; attempt++) {
      const res = await runtime.request('POST', `/api/sync-history/${syncId}/cancel`);
      if (res.status === 200) {
        record.accepted = true;
        return;
      }
      if (res.status === 409) return;
      await sleep(100);
    }
    throw new Error('the cancel request kept failing');
  }

  async function diagnostics(syncId: string): Promise<string> {
    const { rows } = await runtime.db.query(
      `SELECT ardoq_id, state, attempts, azure_devops_id, claimed_at FROM sync_plan_items
       WHERE sync_history_id = CAST(:id AS uuid) AND state <> 'done' ORDER BY ardoq_id`,
      { id: sqlUuid(syncId) },
    );
    const progress = await runtime.progress(syncId);
    return `sync ${syncId} ${JSON.stringify(progress)}; open plan items ${JSON.stringify(rows)}`;
  }

  /** Everything of a sync that must not change once it is terminal. */
  async function snapshot(syncId: string): Promise<unknown> {
    const id = { id: sqlUuid(syncId) };
    const { rows } = await runtime.db.query(
      `SELECT to_jsonb(s) AS sync,
         (SELECT jsonb_agg(to_jsonb(i) ORDER BY i.ardoq_id) FROM sync_history_items i
          WHERE i.sync_history_id = s.id) AS items,
         (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.seq) FROM sync_events e WHERE e.sync_history_id = s.id) AS events,
         (SELECT jsonb_agg(to_jsonb(a) ORDER BY a.id) FROM audit_logs a
          WHERE a.entity_type = 'sync' AND a.entity_id = s.id::text) AS audit
       FROM sync_history s WHERE s.id = CAST(:id AS uuid)`,
      id,
    );
    return rows[0];
  }

  async function runOne(schedule: ChaosSchedule): Promise<void> {
    const nodes = planOf(schedule);
    const { simulator, faults } = runtime;
    simulator.addProject(schedule.project, schedule.process);
    const rejected = new Set(schedule.rejects);
    simulator.rejectTitles(nodes.filter((n) => rejected.has(n.ardoqId)).map((n) => n.title));
    simulator.resetStats();
    const started = Date.now();
    faults.begin(schedule);
    const record: CancelRecord = { sent: false, accepted: false };
    let syncId = '';
    let settled = false;
    let driver: Promise<void> = Promise.resolve();
    let driverError: unknown;
    try {
      syncId = await startSync(schedule);
      // The schedule's timed events; the ones still ahead once the sync has settled are skipped.
      const steps = [
        { at: schedule.faultWindowMs, always: true, run: async () => faults.stopFaults() },
        ...(schedule.cancelAtMs === null
          ? []
          : [{ at: schedule.cancelAtMs, always: false, run: () => cancel(syncId, record) }]),
        ...(schedule.restartAtMs === null
          ? []
          : [{ at: schedule.restartAtMs, always: false, run: () => runtime.crashAndRestart() }]),
      ].sort((a, b) => a.at - b.at);
      driver = (async () => {
        for (const step of steps) {
          while (!settled && Date.now() < started + step.at) await sleep(25);
          if (settled && !step.always) continue;
          await step.run();
        }
      })().catch((error: unknown) => {
        driverError = error;
      });
      const deadline = started + RUN_TIMEOUT_MS;
      for (;;) {
        const progress = await runtime.progress(syncId);
        if (['completed', 'failed', 'cancelled'].includes(progress.status)) {
          // Terminal means final: nothing of the sync is still open at that moment.
          expect(progress.open, `open plan items of a ${progress.status} sync`).toBe(0);
          break;
        }
        if (driverError) throw driverError;
        if (Date.now() > deadline)
          throw new Error(`not settled after ${RUN_TIMEOUT_MS} ms: ${await diagnostics(syncId)}`);
        await sleep(50);
      }
      const atTerminal = await snapshot(syncId);
      settled = true;
      await driver;
      if (driverError) throw driverError;
      const injected = faults.end();
      const result = await expectChaosRunConsistent({
        system: runtime.system,
        simulator,
        db: runtime.db,
        syncId,
        schedule,
        nodes,
        cancel: record,
      });
      // After its terminal status no row of the sync changed while the faults and the cancel played out.
      await sleep(300);
      expect(await snapshot(syncId), 'the sync did not change after its terminal status').toEqual(atTerminal);
      finished.push({ schedule, result });
      const { throttled, dropped } = simulator.stats;
      console.log(
        `[chaos] run ${schedule.index} seed ${schedule.seed}: ${result.status} after ${Date.now() - started} ms` +
          ` (${result.created} created, ${result.failed} failed, ${result.skipped} skipped); injected` +
          ` ${JSON.stringify({ ...injected, 'ado:429': throttled, 'ado:dropped': dropped })}` +
          (record.sent ? `; cancel ${record.accepted ? 'accepted' : 'too late'}` : ''),
      );
    } catch (error) {
      settled = true;
      await driver;
      const injected = faults.end();
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `chaos run ${schedule.index} failed — replay with CHAOS_SEED=${BASE_SEED} CHAOS_ONLY=${schedule.index}\n` +
          `  run seed ${schedule.seed}; sync ${syncId || '(not started)'}\n` +
          `  schedule: ${describeSchedule(schedule)}\n  ${JSON.stringify(schedule)}\n` +
          `  injected: ${JSON.stringify(injected)}; cancel ${JSON.stringify(record)}\n  ${message}`,
        { cause: error },
      );
    }
  }

  for (const schedule of schedules) {
    it(
      `run ${schedule.index} (seed ${schedule.seed})`,
      async () => {
        console.log(`[chaos] run ${schedule.index} seed ${schedule.seed}: ${describeSchedule(schedule)}`);
        await runOne(schedule);
      },
      RUN_TIMEOUT_MS + 60_000,
    );
  }

  it('no work item appeared after its sync was checked', async () => {
    await sleep(500);
    const late = finished
      .map(({ schedule, result }) => ({
        run: `${schedule.index} (seed ${schedule.seed})`,
        created: result.created,
        inProject:
          runtime.simulator.workItems(schedule.project).length +
          runtime.simulator.recycleBin(schedule.project).length,
      }))
      .filter((r) => r.inProject !== r.created);
    expect(late).toEqual([]);
    console.log(`[chaos] ${finished.length} run(s) checked; runtime restarts: ${runtime.restarts}`);
  });
});
