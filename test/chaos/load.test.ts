import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessName } from '#sim/ado/index.ts';
import { expectAdoConsistent, startTestSystem, type TestSystem, tree } from '#test/support/e2e.ts';
import { createScratchDatabase, postgresAvailable } from '#test/support/postgres.ts';

/**
 * Load (issue 6): 20 concurrent syncs of 500 items each (5 epics × 9 features × 10 stories) on one
 * local runtime over PostgreSQL, processor concurrency 8. Every sync must complete with every item
 * created once and the invariants intact; the duration is printed. Without PostgreSQL it runs on
 * PGlite with a smaller load (PGlite serializes every statement on one session).
 */
const SYNCS = postgresAvailable ? 20 : 4;
const SHAPE: [number, number, number] = postgresAvailable ? [5, 9, 10] : [4, 4, 5];
const PER_SYNC = SHAPE[0] * (1 + SHAPE[1] * (1 + SHAPE[2]));
const PROCESSES: ProcessName[] = ['Agile', 'Scrum', 'CMMI', 'Basic'];

describe('load', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  it(`${SYNCS} concurrent syncs of ${PER_SYNC} items on one local runtime`, async () => {
    let databaseUrl: string | undefined;
    if (postgresAvailable) {
      const scratch = await createScratchDatabase();
      cleanups.push(() => scratch.drop());
      databaseUrl = scratch.url;
    } else {
      console.log(
        `[load] PostgreSQL is unavailable: running on PGlite with ${SYNCS} syncs × ${PER_SYNC} items instead of 20 × 500`,
      );
    }
    const s: TestSystem = await startTestSystem({
      ...(databaseUrl ? { databaseUrl } : {}),
      processorConcurrency: 8,
      visibilityTimeoutSeconds: 60,
      sweepIntervalMs: 5_000,
      // Nothing fails here: a node waiting its turn in the queue is not stranded.
      settings: { staleSeconds: 300 },
    });
    cleanups.push(() => s.close());
    const sim = s.simulator!;
    const projects = Array.from({ length: SYNCS }, (_, i) => {
      const name = `Load ${i}`;
      sim.addProject(name, PROCESSES[i % PROCESSES.length] as ProcessName);
      return name;
    });

    const started = Date.now();
    const ids = await Promise.all(
      projects.map((project, i) => s.startSync(project, tree(...SHAPE, `load${i}`))),
    );
    const ticker = setInterval(async () => {
      const { rows } = await s.db.query<{ done: number }>(
        `SELECT (items_created + items_failed + items_skipped)::int AS done FROM sync_history
         WHERE id = ANY(CAST(:ids AS uuid[]))`,
        { ids: `{${ids.join(',')}}` },
      );
      const done = rows.reduce((n, r) => n + r.done, 0);
      console.log(
        `[load] ${Math.round((Date.now() - started) / 1000)} s: ${done} of ${SYNCS * PER_SYNC} items`,
      );
    }, 15_000);
    try {
      for (const id of ids) await s.waitForTerminal(id, 15 * 60_000);
    } finally {
      clearInterval(ticker);
    }
    const seconds = (Date.now() - started) / 1000;

    const { rows } = await s.db.query<{ status: string; items_created: number; total_items: number }>(
      `SELECT status, items_created, total_items FROM sync_history WHERE id = ANY(CAST(:ids AS uuid[]))`,
      { ids: `{${ids.join(',')}}` },
    );
    expect(rows).toHaveLength(SYNCS);
    for (const row of rows)
      expect(row).toEqual({ status: 'completed', items_created: PER_SYNC, total_items: PER_SYNC });
    for (const project of projects)
      expect(sim.workItems(project), `work items in ${project}`).toHaveLength(PER_SYNC);
    for (const id of ids) await expectAdoConsistent(s, s.db, id);

    console.log(
      `[load] ${SYNCS} syncs × ${PER_SYNC} items (${SYNCS * PER_SYNC}) on ${postgresAvailable ? 'PostgreSQL' : 'PGlite'}` +
        ` with processor concurrency 8: ${seconds.toFixed(1)} s (${Math.round((SYNCS * PER_SYNC) / seconds)} items/s,` +
        ` ${s.eventSources.work.invocations} invocations, peak ${sim.stats.peakConcurrentCreates} concurrent creates)`,
    );
  }, 1_200_000);
});
