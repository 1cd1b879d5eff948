import { PostgresDatabase } from '#adapters/postgres-database.ts';
import {
  AuditLogQuery,
  parseQuery,
  type RawQuery,
  StatsQuery,
  SyncHistoryQuery,
  SyncItemsQuery,
} from '#core/domain/history-filters.ts';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#store/database.ts';
import {
  auditStats,
  listAuditLogs,
  listSyncItems,
  listSyncs,
  syncStats,
} from '#store/history/history-store.ts';
import { bigSyncId, ensureHistoryDatabase, type SeedReport } from './history-seed.ts';
import { now, quantile, round } from './stats.ts';

export const PAGE_TARGET_MS = 20;
export const STATS_TARGET_MS = 200;

export interface HistoryQuery {
  name: string;
  /** What the query string of the route would be. */
  query: string;
  kind: 'page' | 'stats';
  run: (db: Queryable) => Promise<unknown>;
  /** An item page: its plan is checked (itemPlanCheck). */
  items?: boolean;
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
  /** First lines of EXPLAIN (ANALYZE, BUFFERS) when the p95 misses its target or the plan check fails. */
  explain?: string[];
  /** Item pages: what EXPLAIN shows about their plan (itemPlanCheck). */
  plan?: ItemPlanCheck;
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
    items: true,
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
    // One sync's items in plan order, 1,000 per page by default (the detail page), at most 5,000.
    items('items: first page (default 1,000)', {}),
    items('items: offset 10,000 (default 1,000)', { offset: '10000' }),
    items('items: limit 5,000 (the maximum), offset 5,000', { limit: '5000', offset: '5000' }),
    items('items: status=failed', { status: 'failed' }),
    items('items: status=skipped, offset 2,000', { status: 'skipped', offset: '2000' }),
    items('items: item_type=user_story, offset 10,000', { item_type: 'user_story', offset: '10000' }),
    items('items: status=created + item_type=user_story, offset 5,000', {
      status: 'created',
      item_type: 'user_story',
      offset: '5000',
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

/**
 * What an item page's plans must show, statement by statement (a page larger than one Data API answer
 * takes several): the rows read by one range scan of a position index of migration 0008 in position
 * order, and no sort but the statement's own rows at the top; the first statement also reads the total
 * and the position at the offset from such an index alone (index-only scans). Never a sort or a bitmap
 * scan of the whole sync.
 */
export interface ItemPlanCheck {
  ok: boolean;
  statements: number;
  /** How the statements read sync_history_items: statement, alias, scan, index, rows. */
  scans: string[];
  /** Every sort key in the plans, with the rows it sorted. */
  sorts: string[];
  problems: string[];
}

const POSITION_INDEXES = /^sync_history_items_sync_(?:position|status|type)_idx$/;
const ITEM_SCAN =
  /(Seq Scan|Bitmap Heap Scan|Index Only Scan|Index Scan)(?: using (\w+))? on sync_history_items (\w+)/;
const ACTUAL_ROWS = /actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/;

export function itemPlanCheck(plans: readonly (readonly string[])[]): ItemPlanCheck {
  const scans: string[] = [];
  const sorts: string[] = [];
  const problems: string[] = [];
  plans.forEach((plan, n) => {
    const at = plans.length > 1 ? `#${n + 1} ` : '';
    const mine: string[] = [];
    plan.forEach((line, i) => {
      const scan = ITEM_SCAN.exec(line);
      if (scan) {
        const [, how, index, alias] = scan;
        const rows = ACTUAL_ROWS.exec(line)?.[1];
        mine.push(`${at}${alias}: ${how}${index ? ` ${index}` : ''}${rows ? ` (${rows} rows)` : ''}`);
        if (how === 'Seq Scan' || how === 'Bitmap Heap Scan') problems.push(`${at}${how} on ${alias}`);
        if (index && !POSITION_INDEXES.test(index)) problems.push(`${at}${alias} scans ${index}`);
      }
      const sort = /Sort Key: (.*)$/.exec(line);
      if (sort) {
        const rows = ACTUAL_ROWS.exec(plan[i - 1] ?? '')?.[1];
        sorts.push(`${at}${sort[1]}${rows ? ` (${rows} rows)` : ''}`);
        // Line 0 is the top node: the sort of the statement's own rows. Any other sort is below them.
        if (i !== 1) problems.push(`${at}a sort by ${sort[1]} below the page`);
      }
    });
    if (n === 0 && mine.filter((s) => s.includes('Index Only Scan')).length < 2)
      problems.push('the total and the offset are not both read by index-only scans');
    if (!mine.some((s) => s.includes(': Index Scan ')))
      problems.push(`${at}the rows are not read by an index scan in position order`);
    scans.push(...mine);
  });
  return { ok: problems.length === 0, statements: plans.length, scans, sorts, problems };
}

/** A Queryable that remembers the statements it ran (to EXPLAIN them). */
class Capture implements Queryable {
  readonly calls: Array<{ sql: string; params: SqlParams | undefined }> = [];
  constructor(private readonly db: Database) {}
  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    this.calls.push({ sql, params });
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

/** EXPLAIN (ANALYZE, BUFFERS) of each statement a query function runs. */
export async function explainEach(db: Database, query: HistoryQuery): Promise<string[][]> {
  const capture = new Capture(db);
  await query.run(capture);
  const plans: string[][] = [];
  for (const call of capture.calls) {
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${call.sql}`,
      call.params,
    );
    plans.push(rows.map((r) => r['QUERY PLAN']));
  }
  return plans;
}

/** The first `lines` lines of each statement's plan (see explainEach), numbered when there are several. */
export function planLines(plans: readonly (readonly string[])[], lines = 30): string[] {
  return plans.flatMap((plan, n) => [
    ...(plans.length > 1 ? [`-- statement ${n + 1} of ${plans.length}`] : []),
    ...plan.slice(0, lines),
  ]);
}

/** EXPLAIN (ANALYZE, BUFFERS) of a query function's statements: the first `lines` lines of each. */
export async function explain(db: Database, query: HistoryQuery, lines = 30): Promise<string[]> {
  return planLines(await explainEach(db, query), lines);
}

/** One line for the figure: how the statements read the items, and what they sort. */
function planNote(check: ItemPlanCheck): string {
  if (!check.ok) return `PLAN CHECK FAILED: ${check.problems.join('; ')}`;
  const reads = [
    ...new Set(check.scans.map((s) => s.replace(/^(#\d+ )?\w+: /, '').replace(/ \(\d+ rows\)$/, ''))),
  ];
  const sorted = Math.max(0, ...check.sorts.map((s) => Number(/\((\d+) rows\)$/.exec(s)?.[1] ?? 0)));
  return `${check.statements} statement(s); reads ${reads.join(', ')}; sorts only each statement's own rows (at most ${sorted})`;
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
    const big = await bigSyncId(db);
    const { rows: last } = await db.query<{ max: Date }>('SELECT max(created_at) AS max FROM sync_history');
    const newest = last[0]?.max ?? new Date();
    // A whole month, two months before the newest sync.
    const from = new Date(Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth() - 2, 1));
    const to = new Date(Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth() - 1, 0));
    const month = { from: ymd(from), to: ymd(to) };

    const timings: HistoryTiming[] = [];
    for (const query of historyQueries(big, month)) {
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
      if (query.items) {
        const plans = await explainEach(db, query);
        timing.plan = itemPlanCheck(plans);
        timing.covered += `; ${planNote(timing.plan)}`;
        options.log(
          `${query.name}: p95 ${timing.p95} ms; ${timing.plan.scans.join('; ')}; sorts ${timing.plan.sorts.join(', ')}`,
        );
        if (!timing.plan.ok) timing.explain = planLines(plans, 40);
      }
      if (timing.p95 > target && !timing.explain) {
        timing.explain = await explain(db, query).catch((e) => [String(e)]);
      }
      timings.push(timing);
    }
    return { seed, timings, month };
  } finally {
    await db.close();
  }
}
