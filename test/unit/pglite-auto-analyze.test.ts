import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { runMigrations } from '#store/migrations.ts';
import { createSync } from '#store/sync/sync-rows.ts';
import { buildPlan, newSync } from '#test/support/factories.ts';

// PGlite runs no autovacuum: the adapter analyzes tables after large writes itself, or the planner
// keeps costing a 10,000-row sync_plan_items as an empty table.

let db: PgliteDatabase;
beforeAll(async () => {
  db = await PgliteDatabase.create({ autoAnalyze: { intervalMs: 50 } });
  await runMigrations(db, await readMigrations());
});
afterAll(async () => {
  await db?.close();
});

const planItemStats = async () =>
  (
    await db.query<{ reltuples: number }>(
      "SELECT reltuples::int AS reltuples FROM pg_class WHERE relname = 'sync_plan_items'",
    )
  ).rows[0]?.reltuples;

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('PGlite automatic ANALYZE', () => {
  it('leaves tables with few changes alone', async () => {
    await createSync(db, newSync(buildPlan(2, 2)));
    await db.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(await planItemStats(), 'never analyzed').toBe(-1);
    expect(db.autoAnalyzeRuns).toBe(0);
  });

  it('analyzes sync_plan_items soon after a large create, so the planner knows its size', async () => {
    await createSync(db, newSync(buildPlan(10, 10, 20)));

    const rows = await eventually(planItemStats, (n) => (n ?? -1) >= 2_000);

    expect(rows).toBeGreaterThanOrEqual(2_000);
    expect(db.autoAnalyzeRuns).toBeGreaterThanOrEqual(1);
  });
});
