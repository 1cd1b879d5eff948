import { PostgresDatabase } from '#adapters/postgres-database.ts';
import {
  auditStats,
  listAuditLogs,
  listSyncItems,
  listSyncs,
  syncStats,
} from '#core/history/history-queries.ts';
import {
  AuditLogQuery,
  parseQuery,
  type RawQuery,
  StatsQuery,
  SyncHistoryQuery,
  SyncItemsQuery,
} from '#core/history/query-params.ts';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#core/ports/database.ts';
import { ensureHistoryDatabase, SEED, type SeedReport } from './history-seed.ts';
import { now, quantile, round } from './stats.ts';

export const PAGE_TARGET_MS = 20;
export const STATS_TARGET_MS = 200;

export interface HistoryQuery {
  name: string;
  /** What the query string of the route would be. */
  query: string;
  kind: 'page' | 'stats';
  run: (db: Queryable) => Promise<unknown>;
}

export interface HistoryTiming {
  name: string;
  query: string;
  kind: 'page' | 'stats';
  runs: number;
  p50: number;
  p95: number;
  max: number;
  /** Rows the route would report (total / count), to show what the query covered. */
  covered: string;
  /** First lines of EXPLAIN (ANALYZE, BUFFERS) when the p95 misses its target. */
  explain?: string[];
}

export interface HistoryResult {
  seed: SeedReport;
  timings: HistoryTiming[];
  month: { from: string; to: string };
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/** The routes' queries (same parser, same repository functions, same adapter as the API). */
export function historyQueries(bigSyncId: string, month: { from: string; to: string }): HistoryQuery[] {
  const qs = (raw: RawQuery) => {
    const text = new URLSearchParams(raw as Record<string, string>).toString();
    return text ? `?${text}` : '';
  };
  const list = (name: string, raw: RawQuery) => ({
    name,
    query: `GET /api/sync-history${qs(raw)}`,
    kind: 'page' as const,
    run: (db: Queryable) => listSyncs(db, parseQuery(SyncHistoryQuery, raw)),
  });
  const items = (name: string, raw: RawQuery) => ({
    name,
    query: `GET /api/sync-history/{big}/items${qs(raw)}`,
    kind: 'page' as const,
    run: (db: Queryable) => listSyncItems(db, bigSyncId, parseQuery(SyncItemsQuery, raw)),
  });
  const range = { start_date: month.from, end_date: month.to };
  return [
    list('list: no filter', {}),
    list('list: status=failed', { status: 'failed' }),
    list('list: status=completed (85 %)', { status: 'completed' }),
    list('list: project_name substring', { project_name: 'atlas mob' }),
    list('list: date range (1 month)', range),
    list('list: source_type=ardoq', { source_type: 'ardoq' }),
    list('list: status + date range', { status: 'completed', ...range }),
    list('list: page 100 (offset 5,000)', { offset: '5000' }),
    items('items: offset 0', {}),
    items('items: offset 10,000', { offset: '10000' }),
    items('items: status=created, offset 10,000', { status: 'created', offset: '10000' }),
    items('items: status + item_type, offset 10,000', {
      status: 'created',
      item_type: 'user_story',
      offset: '10000',
    }),
    {
      name: 'sync stats: whole range',
      query: 'GET /api/sync-history/stats',
      kind: 'stats',
      run: (db) => syncStats(db, parseQuery(StatsQuery, {})),
    },
    {
      name: 'sync stats: one month',
      query: `GET /api/sync-history/stats?start_date=${month.from}&end_date=${month.to}`,
      kind: 'stats',
      run: (db) => syncStats(db, parseQuery(StatsQuery, range)),
    },
    {
      name: 'audit logs: no filter',
      query: 'GET /api/audit-logs',
      kind: 'page',
      run: (db) => listAuditLogs(db, parseQuery(AuditLogQuery, {})),
    },
    {
      name: 'audit logs: action_type=sync_failed',
      query: 'GET /api/audit-logs?action_type=sync_failed',
      kind: 'page',
      run: (db) => listAuditLogs(db, parseQuery(AuditLogQuery, { action_type: 'sync_failed' })),
    },
    {
      name: 'audit logs: entity_type=sync (99 %)',
      query: 'GET /api/audit-logs?entity_type=sync',
      kind: 'page',
      run: (db) => listAuditLogs(db, parseQuery(AuditLogQuery, { entity_type: 'sync' })),
    },
    {
      name: 'audit stats: whole range',
      query: 'GET /api/audit-logs/stats',
      kind: 'stats',
      run: (db) => auditStats(db, parseQuery(StatsQuery, {})),
    },
    {
      name: 'audit stats: one month',
      query: `GET /api/audit-logs/stats?start_date=${month.from}&end_date=${month.to}`,
      kind: 'stats',
      run: (db) => auditStats(db, parseQuery(StatsQuery, range)),
    },
  ];
}

/** A Queryable that remembers the last statement it ran (to EXPLAIN it). */
class Capture implements Queryable {
  last: { sql: string; params: SqlParams | undefined } | undefined;
  constructor(private readonly db: Database) {}
  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    this.last = { sql, params };
    return this.db.query<R>(sql, params);
  }
}

function covered(result: unknown): string {
  const r = result as { pagination?: { total: number }; total_syncs?: number; total_events?: number };
  if (r.pagination) return `total ${r.pagination.total.toLocaleString('en-US')}`;
  if (r.total_syncs !== undefined) return `${r.total_syncs.toLocaleString('en-US')} syncs`;
  if (r.total_events !== undefined) return `${r.total_events.toLocaleString('en-US')} events`;
  return '';
}

/** EXPLAIN (ANALYZE, BUFFERS) of the statement a query function runs; the first `lines` lines. */
export async function explain(db: Database, query: HistoryQuery, lines = 30): Promise<string[]> {
  const capture = new Capture(db);
  await query.run(capture);
  if (!capture.last) return [];
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, BUFFERS) ${capture.last.sql}`,
    capture.last.params,
  );
  return rows.map((r) => r['QUERY PLAN']).slice(0, lines);
}

/**
 * Seeds (once) and queries `bench_history`: every route query `runs` times after a warm-up,
 * p50/p95 measured around the repository call (adapter and row mapping included).
 */
export async function runHistory(options: {
  adminUrl: string;
  runs: number;
  log: (line: string) => void;
}): Promise<HistoryResult> {
  const seed = await ensureHistoryDatabase(options.adminUrl, options.log);
  const db = new PostgresDatabase({ connectionString: seed.url, max: 2 });
  try {
    const { rows: big } = await db.query<{ id: string }>(
      'SELECT id FROM sync_history WHERE total_items = :n ORDER BY created_at DESC LIMIT 1',
      { n: SEED.bigSyncItems },
    );
    const bigSyncId = big[0]?.id;
    if (!bigSyncId) throw new Error('the seeded big sync is missing');
    const { rows: last } = await db.query<{ max: Date }>('SELECT max(created_at) AS max FROM sync_history');
    const newest = last[0]?.max ?? new Date();
    // A whole month, two months before the newest sync.
    const from = new Date(Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth() - 2, 1));
    const to = new Date(Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth() - 1, 0));
    const month = { from: ymd(from), to: ymd(to) };

    const timings: HistoryTiming[] = [];
    for (const query of historyQueries(bigSyncId, month)) {
      let result: unknown;
      for (let i = 0; i < 3; i++) result = await query.run(db); // warm-up: plans, caches, connections
      const samples: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        const t0 = now();
        await query.run(db);
        samples.push(now() - t0);
      }
      const timing: HistoryTiming = {
        name: query.name,
        query: query.query,
        kind: query.kind,
        runs: samples.length,
        p50: round(quantile(samples, 0.5), 2),
        p95: round(quantile(samples, 0.95), 2),
        max: round(Math.max(...samples), 2),
        covered: covered(result),
      };
      const target = query.kind === 'page' ? PAGE_TARGET_MS : STATS_TARGET_MS;
      if (timing.p95 > target) timing.explain = await explain(db, query).catch((e) => [String(e)]);
      timings.push(timing);
    }
    return { seed, timings, month };
  } finally {
    await db.close();
  }
}
