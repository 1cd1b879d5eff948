import pg from 'pg';
import { readMigrations } from '#adapters/migration-files.ts';
import { PostgresDatabase } from '#adapters/postgres-database.ts';
import type { Queryable } from '#store/database.ts';
import { runMigrations } from '#store/migrations.ts';
import { rowCountDrift } from '#test/support/row-counts.ts';
import { now, round } from './stats.ts';

/** The seeded database, on the server of DATABASE_URL: `bench_history` unless BENCH_HISTORY_DB names another. */
export const HISTORY_DB = process.env.BENCH_HISTORY_DB ?? 'bench_history';
if (!/^[a-z_][a-z0-9_]*$/.test(HISTORY_DB))
  throw new Error(`BENCH_HISTORY_DB ${HISTORY_DB} is not a plain name`);
export const SEED = {
  syncs: 100_000,
  items: 2_000_000,
  /**
   * The first sync is the big one, for deep item pages (offset 10,000) and filtered pages: a cancelled
   * sync whose first 9,000 items were attempted (1 in 25 failed) and whose last 3,000 were skipped.
   */
  bigSyncItems: 12_000,
  bigSyncAttempted: 9_000,
} as const;

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/*
 * Set-based seed. Sync i (1..100,000) gets n_i items: the first 12,000, the others 19 or 20, so the
 * items add up to exactly 2,000,000. Status by i % 100: 85 % completed (items created), 8 % failed
 * (items failed), 5 % cancelled (items skipped), 2 % in_progress (items created, not finalized); the
 * counters, per type too, match the item rows (one epic, up to three features, the rest stories).
 * The big sync (i = 1) is cancelled with mixed outcomes (SEED.bigSyncAttempted), its counters
 * recounted from its rows (BIG_SYNC_COUNTERS). Item positions follow the item numbers (plan order).
 * created_at spreads over the year before the seed; project names over 8 words × 50 numbers.
 */
const SEED_SYNCS = `
INSERT INTO sync_history (id, source_config_id, target_config_id, project_name, status, overwrite_mode,
  total_items, items_created, items_failed, items_skipped,
  epics_total, epics_created, epics_failed, epics_skipped,
  features_total, features_created, features_failed, features_skipped,
  user_stories_total, user_stories_created, user_stories_failed, user_stories_skipped,
  started_at, completed_at, duration_ms, error_message, user_id, options, deadline_at, last_event_seq,
  created_at, updated_at)
SELECT gen_random_uuid(), 'ardoq-' || (i % 3), 'cfg-' || (i % 5),
  (ARRAY['Phoenix Platform','Atlas Mobile','Orion Data','Nebula Web','Apollo Billing','Zephyr Search',
         'Titan Core','Aurora Analytics'])[1 + i % 8] || ' ' || (i % 50),
  st, (i % 10 = 0), n,
  CASE WHEN outcome = 'created' THEN n ELSE 0 END,
  CASE WHEN outcome = 'failed' THEN n ELSE 0 END,
  CASE WHEN outcome = 'skipped' THEN n ELSE 0 END,
  1, CASE WHEN outcome = 'created' THEN 1 ELSE 0 END, CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END,
     CASE WHEN outcome = 'skipped' THEN 1 ELSE 0 END,
  f, CASE WHEN outcome = 'created' THEN f ELSE 0 END, CASE WHEN outcome = 'failed' THEN f ELSE 0 END,
     CASE WHEN outcome = 'skipped' THEN f ELSE 0 END,
  n - 1 - f, CASE WHEN outcome = 'created' THEN n - 1 - f ELSE 0 END,
     CASE WHEN outcome = 'failed' THEN n - 1 - f ELSE 0 END, CASE WHEN outcome = 'skipped' THEN n - 1 - f ELSE 0 END,
  created, CASE WHEN st = 'in_progress' THEN NULL ELSE created + dur * interval '1 millisecond' END,
  CASE WHEN st = 'in_progress' THEN NULL ELSE dur END,
  CASE st WHEN 'failed' THEN 'Azure DevOps refused the personal access token' ELSE NULL END,
  'user-' || (i % 300), '{}'::jsonb, created + interval '2 hours', n + 2,
  created, created + CASE WHEN st = 'in_progress' THEN interval '0' ELSE dur * interval '1 millisecond' END
FROM (
  SELECT i, n, least(3, n - 1) AS f, st,
    CASE st WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'skipped' ELSE 'created' END AS outcome,
    (5 + i % 600) * 1000 AS dur,
    date_trunc('second', now()) - ((i::bigint * 7919) % 525600) * interval '1 minute' - (i % 60) * interval '1 second'
      AS created
  FROM (
    SELECT i,
      CASE WHEN i = 1 THEN :big::int WHEN i - 2 < :extra::int THEN :base::int + 1 ELSE :base::int END AS n,
      CASE WHEN i = 1 THEN 'cancelled' WHEN i % 100 < 85 THEN 'completed' WHEN i % 100 < 93 THEN 'failed'
           WHEN i % 100 < 98 THEN 'cancelled' ELSE 'in_progress' END AS st
    FROM generate_series(1, :syncs::int) i
  ) x
) y`;

const SEED_ITEMS = `
INSERT INTO sync_history_items (sync_history_id, ardoq_id, item_name, item_type, status, azure_devops_id,
  azure_devops_url, error_message, created_at, position)
SELECT s.id, 'cmp-' || j, 'Item ' || j || ' of ' || s.project_name,
  CASE WHEN j = 1 THEN 'epic' WHEN j <= 1 + s.features_total THEN 'feature' ELSE 'user_story' END,
  o.outcome,
  CASE WHEN o.outcome = 'created' THEN 1000 + j END,
  CASE WHEN o.outcome = 'created' THEN 'https://dev.azure.com/bench/Agile%20Project/_workitems/edit/' || (1000 + j) END,
  CASE o.outcome WHEN 'failed' THEN 'TF401320: Rule Error for field Title' WHEN 'skipped'
    THEN 'Not created: the sync was cancelled before this item ran' END,
  s.created_at + j * interval '50 milliseconds', j - 1
FROM sync_history s
CROSS JOIN LATERAL generate_series(1, s.total_items) j
CROSS JOIN LATERAL (SELECT CASE
  WHEN s.total_items = :big::int THEN CASE WHEN j > :attempted::int THEN 'skipped'
    WHEN j > 4 AND j % 25 = 0 THEN 'failed' ELSE 'created' END
  WHEN s.items_failed > 0 THEN 'failed' WHEN s.items_skipped > 0 THEN 'skipped'
  ELSE 'created' END AS outcome) o`;

/** The big sync's counters, per type too, recounted from its mixed item rows. */
const BIG_SYNC_COUNTERS = `
UPDATE sync_history s SET
  items_created = c.created, items_failed = c.failed, items_skipped = c.skipped,
  epics_created = c.epics_created, epics_failed = c.epics_failed, epics_skipped = c.epics_skipped,
  features_created = c.features_created, features_failed = c.features_failed,
  features_skipped = c.features_skipped, user_stories_created = c.user_stories_created,
  user_stories_failed = c.user_stories_failed, user_stories_skipped = c.user_stories_skipped
FROM (
  SELECT sync_history_id,
    count(*) FILTER (WHERE status = 'created') AS created,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    count(*) FILTER (WHERE status = 'skipped') AS skipped,
    count(*) FILTER (WHERE item_type = 'epic' AND status = 'created') AS epics_created,
    count(*) FILTER (WHERE item_type = 'epic' AND status = 'failed') AS epics_failed,
    count(*) FILTER (WHERE item_type = 'epic' AND status = 'skipped') AS epics_skipped,
    count(*) FILTER (WHERE item_type = 'feature' AND status = 'created') AS features_created,
    count(*) FILTER (WHERE item_type = 'feature' AND status = 'failed') AS features_failed,
    count(*) FILTER (WHERE item_type = 'feature' AND status = 'skipped') AS features_skipped,
    count(*) FILTER (WHERE item_type = 'user_story' AND status = 'created') AS user_stories_created,
    count(*) FILTER (WHERE item_type = 'user_story' AND status = 'failed') AS user_stories_failed,
    count(*) FILTER (WHERE item_type = 'user_story' AND status = 'skipped') AS user_stories_skipped
  FROM sync_history_items
  WHERE sync_history_id = (SELECT id FROM sync_history WHERE total_items = :big::int)
  GROUP BY sync_history_id
) c
WHERE s.id = c.sync_history_id`;

const SEED_AUDIT = `
INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details, created_at)
SELECT 'sync_started', 'sync', id::text, user_id, '10.0.' || (total_items % 250) || '.1', 'Mozilla/5.0 (bench)',
  jsonb_build_object('project_name', project_name, 'total_items', total_items), created_at
FROM sync_history
UNION ALL
SELECT CASE status WHEN 'completed' THEN 'sync_completed' WHEN 'failed' THEN 'sync_failed' ELSE 'sync_cancelled' END,
  'sync', id::text, user_id, NULL, NULL,
  jsonb_build_object('items_created', items_created, 'items_failed', items_failed), completed_at
FROM sync_history WHERE completed_at IS NOT NULL
UNION ALL
SELECT (ARRAY['config_created','config_updated','config_activated','connection_tested'])[1 + g % 4],
  'configuration', 'cfg-' || (g % 5), 'admin-' || (g % 3), NULL, NULL, '{}'::jsonb,
  now() - (g * 3) * interval '1 hour'
FROM generate_series(1, 2000) g`;

export interface SeedReport {
  url: string;
  created: boolean;
  seeded: boolean;
  seedMs: number;
  counts: Counts;
}

/**
 * A database holding the seeded history: HISTORY_DB on the server of `adminUrl`, created, migrated
 * and seeded once, then reused as long as it holds the expected rows.
 */
export async function ensureHistoryDatabase(
  adminUrl: string,
  log: (line: string) => void,
): Promise<SeedReport> {
  const url = withDatabase(adminUrl, HISTORY_DB);
  const exists = await withClient(adminUrl, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [HISTORY_DB]);
    return (rowCount ?? 0) > 0;
  });
  let counts = exists ? await countRows(url).catch(() => null) : null;
  // An older seed's big sync had one outcome for all its items: seeded again, for the filtered pages.
  if (
    counts?.bigSyncMixed &&
    counts.syncs === SEED.syncs &&
    counts.items === SEED.items &&
    counts.audit > 0
  ) {
    // Seeded by an older tree: bring its schema up to date (migrations landed since are applied once).
    await migrate(url);
    await checkKeptCounts(url);
    return { url, created: false, seeded: false, seedMs: 0, counts };
  }
  // Missing or partial (an interrupted seed): start from an empty database.
  await withClient(adminUrl, async (c) => {
    if (exists) await c.query(`DROP DATABASE ${HISTORY_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${HISTORY_DB}`);
  });
  await migrate(url);
  const t0 = now();
  const base = Math.floor((SEED.items - SEED.bigSyncItems) / (SEED.syncs - 1));
  const extra = SEED.items - SEED.bigSyncItems - base * (SEED.syncs - 1);
  const params = { syncs: SEED.syncs, big: SEED.bigSyncItems, attempted: SEED.bigSyncAttempted, base, extra };
  await withClient(url, async (c) => {
    const step = async (name: string, sql: string) => {
      const t = now();
      await c.query(sql);
      log(`seed: ${name} ${round((now() - t) / 1000, 1)} s`);
    };
    await c.query('BEGIN');
    // Foreign keys hold by construction (items are generated from their syncs): skip the per-row checks.
    await c.query('SET LOCAL session_replication_role = replica');
    await step('syncs', inline(SEED_SYNCS, params));
    // Secondary indexes are built once after the bulk insert instead of row by row (about 2× faster).
    const { rows: indexes } = await c.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.tablename = 'sync_history_items' AND i.schemaname = current_schema()
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = to_regclass(i.indexname))`,
    );
    for (const index of indexes) await c.query(`DROP INDEX ${index.name}`);
    await step('items', inline(SEED_ITEMS, params));
    await step('big sync counters', inline(BIG_SYNC_COUNTERS, params));
    for (const index of indexes) await step(`index ${index.name}`, index.def);
    await step('audit logs', SEED_AUDIT);
    await c.query('COMMIT');
    await step('vacuum analyze', 'VACUUM (ANALYZE) sync_history, sync_history_items, audit_logs');
  });
  counts = await countRows(url);
  if (counts.syncs !== SEED.syncs || counts.items !== SEED.items)
    throw new Error(`seed produced ${JSON.stringify(counts)}`);
  await checkKeptCounts(url);
  return { url, created: !exists, seeded: true, seedMs: round(now() - t0, 0), counts };
}

/** The id of the big sync (SEED.bigSyncItems items). */
export async function bigSyncId(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM sync_history WHERE total_items = :n ORDER BY created_at DESC LIMIT 1',
    { n: SEED.bigSyncItems },
  );
  const id = rows[0]?.id;
  if (!id) throw new Error('the seeded big sync is missing');
  return id;
}

async function migrate(url: string): Promise<void> {
  const db = new PostgresDatabase({ connectionString: url, max: 1 });
  try {
    await runMigrations(db, await readMigrations());
  } finally {
    await db.close();
  }
}

/**
 * The trigger-kept counters (migration 0007) against count(*): the seed's bulk statements run with
 * session_replication_role = replica, and the counting triggers must have fired anyway. A bench that
 * timed wrong totals would measure nothing.
 */
async function checkKeptCounts(url: string): Promise<void> {
  const db = new PostgresDatabase({ connectionString: url, max: 1 });
  try {
    const drift = await rowCountDrift(db);
    if (drift.length) throw new Error(`history_row_counts disagrees with count(*): ${JSON.stringify(drift)}`);
  } finally {
    await db.close();
  }
}

/** The seed's numbers are written into the SQL (they are ours, not user input). */
function inline(sql: string, params: Record<string, number>): string {
  return sql.replace(/:(\w+)::int/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || !Number.isInteger(value)) throw new Error(`seed parameter ${name}`);
    return `${value}::int`;
  });
}

interface Counts {
  syncs: number;
  items: number;
  audit: number;
  /** The big sync has this seed's mixed outcomes (an older seed's did not). */
  bigSyncMixed: boolean;
}

async function countRows(url: string): Promise<Counts> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<Counts>(
      `SELECT (SELECT count(*) FROM sync_history)::int AS syncs,
              (SELECT count(*) FROM sync_history_items)::int AS items,
              (SELECT count(*) FROM audit_logs)::int AS audit,
              EXISTS (SELECT 1 FROM sync_history
                      WHERE total_items = $1 AND status = 'cancelled' AND items_created > 0
                        AND items_failed > 0 AND items_skipped > 0) AS "bigSyncMixed"`,
      [SEED.bigSyncItems],
    );
    return rows[0] ?? { syncs: 0, items: 0, audit: 0, bigSyncMixed: false };
  });
}
