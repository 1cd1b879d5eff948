import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { readMigrations } from '#adapters/migration-files.ts';
import { type AuditActionType, AuditLog } from '#core/domain/audit.ts';
import { AuditStats, Pagination, SyncStats } from '#core/domain/history.ts';
import {
  AuditLogQuery,
  parseQuery,
  type RawQuery,
  StatsQuery,
  SyncHistoryQuery,
  SyncItemsQuery,
} from '#core/domain/history-filters.ts';
import { SyncHistory, SyncHistoryItem } from '#core/domain/sync-history-view.ts';
import type { SyncStatus } from '#core/domain/sync-model.ts';
import { NotFoundError } from '#core/errors.ts';
import type { Database, Queryable, SqlParams } from '#store/database.ts';
import { sqlJson, sqlUuid } from '#store/database.ts';
import {
  auditStats,
  ITEM_CHUNK_ROWS,
  listAuditLogs,
  listSyncItems,
  listSyncs,
  syncStats,
} from '#store/history/history-store.ts';
import { runMigrations } from '#store/migrations.ts';
import { claimItems, releaseItems } from '#store/sync/pipeline-rows.ts';
import { toSyncState } from '#store/sync/sync-row.ts';
import {
  closeSync,
  createSync,
  finalizeSync,
  getSync,
  markInProgress,
  recordOutcomes,
  requestClose,
  skipSubtree,
} from '#store/sync/sync-rows.ts';
import { buildPlan, createdOutcome, failedOutcome, newSync, uniqueProject } from './factories.ts';
import { recording } from './recording-db.ts';
import type { ContractTarget } from './repository-contract.ts';
import { keptCounters, rowCountDrift } from './row-counts.ts';

/** Exact key sets: an unexpected, missing or null key fails the parse. */
const strictPage = <T extends z.ZodObject>(item: T) =>
  z.object({ data: z.array(item.strict()), pagination: Pagination.strict() }).strict();
const StrictSyncPage = strictPage(SyncHistory);
const StrictItemPage = strictPage(SyncHistoryItem);
const StrictAuditPage = strictPage(AuditLog);

interface SyncSeed {
  project: string;
  status: SyncStatus;
  createdAt: string;
  created?: number;
  failed?: number;
  durationMs?: number;
  sourceConfigId?: string;
}

/** A sync in the given state with the given outcome counts, backdated to `createdAt`. */
async function seedSync(db: Queryable, seed: SyncSeed): Promise<string> {
  const created = seed.created ?? 0;
  const failed = seed.failed ?? 0;
  // completed/failed are finalized (every node has its outcome); the others keep one node open.
  const finished = seed.status === 'completed' || seed.status === 'failed';
  const plan = buildPlan(finished ? created + failed : created + failed + 1);
  const sync = await createSync(
    db,
    newSync(plan, {
      projectName: seed.project,
      ...(seed.sourceConfigId ? { sourceConfigId: seed.sourceConfigId } : {}),
    }),
  );
  const id = sync.view.id;
  if (seed.status !== 'pending') {
    await markInProgress(db, id);
    const outcomes = [
      ...plan.slice(0, created).map((node, i) => createdOutcome(node.ardoqId, 1000 + i)),
      ...plan.slice(created, created + failed).map((node) => failedOutcome(node.ardoqId)),
    ];
    if (outcomes.length) await recordOutcomes(db, id, outcomes);
    if (finished) await finalizeSync(db, id);
    if (seed.status === 'cancelled') {
      await closeSync(db, 'cancelled', { syncId: id, reason: 'stop', skipReason: 'cancelled' });
    }
  }
  await db.query(
    `UPDATE sync_history SET created_at = CAST(:at AS timestamptz),
       duration_ms = coalesce(CAST(:duration AS bigint), duration_ms)
     WHERE id = CAST(:id AS uuid)`,
    { id: sqlUuid(id), at: seed.createdAt, duration: seed.durationMs ?? null },
  );
  const { rows } = await db.query('SELECT status FROM sync_history WHERE id = CAST(:id AS uuid)', {
    id: sqlUuid(id),
  });
  expect(rows[0]?.status, `seeded ${seed.project}`).toBe(seed.status);
  return id;
}

interface AuditSeed {
  action: AuditActionType;
  entity: 'sync' | 'configuration';
  entityId?: string;
  createdAt: string;
  userId?: string;
  sourceIp?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
}

/** audit_logs refuses UPDATE, so a dated row is inserted with its created_at. */
async function seedAudit(db: Queryable, seed: AuditSeed): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details, created_at)
     VALUES (:action, :entity, :entityId, :userId, :sourceIp, :userAgent, CAST(:details AS jsonb),
       CAST(:createdAt AS timestamptz))
     RETURNING id`,
    {
      action: seed.action,
      entity: seed.entity,
      entityId: seed.entityId ?? null,
      userId: seed.userId ?? null,
      sourceIp: seed.sourceIp ?? null,
      userAgent: seed.userAgent ?? null,
      details: seed.details ? sqlJson(seed.details) : null,
      createdAt: seed.createdAt,
    },
  );
  return rows[0]!.id;
}

/** Seeds named rows; `names(page)` turns result ids back into those names for readable failures. */
function named<K extends string>() {
  const ids = {} as Record<K, string>;
  const byId = new Map<string, string>();
  return {
    ids,
    set: (name: K, id: string) => {
      ids[name] = id;
      byId.set(id, name);
    },
    names: (page: { data: Array<{ id: string }> }) => page.data.map((row) => byId.get(row.id) ?? row.id),
    /** Only the seeded rows of a result, in result order. */
    seeded: (rows: Array<{ id: string }>) => rows.flatMap((row) => byId.get(row.id) ?? []),
  };
}

/** Every page of a list, checking that the total and has_more agree with what came back. */
async function everyPage<T extends { id: string }>(
  fetch: (offset: number) => Promise<{ data: T[]; pagination: Pagination }>,
): Promise<T[]> {
  const rows: T[] = [];
  for (;;) {
    const page = await fetch(rows.length);
    rows.push(...page.data);
    expect(page.pagination.has_more).toBe(rows.length < page.pagination.total);
    // A total above the rows there are would page forever: an empty page must be the last.
    if (page.data.length === 0) expect(page.pagination).toMatchObject({ has_more: false });
    if (!page.pagination.has_more) {
      expect(rows).toHaveLength(page.pagination.total);
      return rows;
    }
  }
}

const INJECTIONS = [
  "' OR '1'='1",
  "x'; DROP TABLE sync_history; --",
  "%' OR 1=1 --",
  "\\'; SELECT pg_sleep(1); --",
  '$1) OR (true',
];

/**
 * The read side of CONTRACT.md §4 on one `Database` adapter: filters, pagination, date bounds, exact
 * key sets and stats, the same SQL on PGlite and PostgreSQL. Rows are backdated into a window of
 * their own per describe, so the describes of one file never see each other's rows.
 */
export function describeHistoryContract(adapter: string, connect: () => Promise<ContractTarget>): void {
  describe(`history and audit queries on ${adapter}`, () => {
    let target: ContractTarget;
    let db: Database;

    beforeAll(async () => {
      target = await connect();
      db = target.db;
      await runMigrations(db, await readMigrations());
    });
    afterAll(async () => target?.teardown());

    const syncs = (q: RawQuery) => listSyncs(db, parseQuery(SyncHistoryQuery, q));
    const items = (id: string, q: RawQuery = {}) => listSyncItems(db, id, parseQuery(SyncItemsQuery, q));
    const audits = (q: RawQuery) => listAuditLogs(db, parseQuery(AuditLogQuery, q));

    /**
     * The plans of the statements `run` sends, with sequential scans off (and any other `settings`):
     * which indexes can they use?
     */
    async function plansOf(
      run: (db: Queryable) => Promise<unknown>,
      settings: string[] = [],
    ): Promise<string[]> {
      const rec = recording(db);
      await run(rec.db);
      const plans: string[] = [];
      for (const call of rec.seen.calls) {
        const plan = await db.transaction(async (tx) => {
          await tx.query('SET LOCAL enable_seqscan = off');
          for (const setting of settings) await tx.query(setting);
          const { rows } = await tx.query(`EXPLAIN ${call.sql}`, call.params);
          return rows.map((row) => String(Object.values(row)[0])).join('\n');
        });
        // With sequential scans off, one still in the plan means no index could serve the query.
        expect(plan).not.toMatch(/Seq Scan/);
        plans.push(plan);
      }
      return plans;
    }

    /** The plan of the one statement `run` sends (see plansOf). */
    async function planOf(
      run: (db: Queryable) => Promise<unknown>,
      settings: string[] = [],
    ): Promise<string> {
      const plans = await plansOf(run, settings);
      expect(plans).toHaveLength(1);
      return plans[0]!;
    }

    describe('GET /api/sync-history (listSyncs)', () => {
      const tok = randomUUID().slice(0, 8);
      const bangTok = randomUUID().slice(0, 8);
      const window = { start_date: '2011-03-01', end_date: '2011-03-31', project_name: tok };
      const s = named<'alpha' | 'alphaBeta' | 'gamma' | 'percent' | 'plain' | 'slash' | 'bang'>();

      beforeAll(async () => {
        const seeds: Array<[Parameters<typeof s.set>[0], SyncSeed]> = [
          [
            'alpha',
            {
              project: `${tok} Alpha`,
              status: 'completed',
              created: 1,
              durationMs: 1200,
              sourceConfigId: 'ardoq-1',
              createdAt: '2011-03-01T00:00:00.000Z',
            },
          ],
          [
            'alphaBeta',
            {
              project: `${tok} alpha-beta`,
              status: 'failed',
              failed: 1,
              createdAt: '2011-03-01T23:59:59.999Z',
            },
          ],
          ['gamma', { project: `${tok} GAMMA`, status: 'cancelled', createdAt: '2011-03-02T00:00:00.000Z' }],
          [
            'percent',
            { project: `${tok} 100%_done`, status: 'pending', createdAt: '2011-03-02T12:00:00.000Z' },
          ],
          [
            'plain',
            {
              project: `${tok} 100x done`,
              status: 'in_progress',
              created: 1,
              createdAt: '2011-03-03T08:00:00Z',
            },
          ],
          [
            'slash',
            {
              project: `${tok} back\\slash`,
              status: 'completed',
              created: 2,
              createdAt: '2011-03-04T00:00:00Z',
            },
          ],
        ];
        for (const [name, seed] of seeds) s.set(name, await seedSync(db, seed));
        // Its own token: outside every `project_name: tok` expectation above.
        s.set(
          'bang',
          await seedSync(db, {
            project: `${bangTok} bang!`,
            status: 'pending',
            createdAt: '2011-03-05T00:00:00Z',
          }),
        );
      });

      it('returns the window newest first, with exact keys: optional ones omitted, counters present', async () => {
        const page = await syncs(window);
        expect(StrictSyncPage.parse(page)).toEqual(page);
        expect(s.names(page)).toEqual(['slash', 'plain', 'percent', 'gamma', 'alphaBeta', 'alpha']);
        expect(page.pagination).toEqual({ total: 6, limit: 50, offset: 0, has_more: false });
        const [slash, , percent, , alphaBeta, alpha] = page.data;
        expect(alpha).toMatchObject({
          status: 'completed',
          source_config_id: 'ardoq-1',
          duration_ms: 1200,
          items_created: 1,
          items_failed: 0,
          created_at: '2011-03-01T00:00:00.000Z',
        });
        expect(alphaBeta).toMatchObject({
          status: 'failed',
          items_failed: 1,
          error_message: expect.any(String),
        });
        expect(percent).toMatchObject({ status: 'pending', items_created: 0, deletion_count: 0 });
        for (const key of ['completed_at', 'duration_ms', 'error_message', 'source_config_id']) {
          expect(percent).not.toHaveProperty(key);
        }
        expect(slash).not.toHaveProperty('error_message');
      });

      it('the strict schemas really reject extra, missing and null keys', async () => {
        const page = await syncs(window);
        const first = page.data[0]!;
        const { project_name: _dropped, ...missing } = first;
        for (const broken of [
          { ...page, data: [{ ...first, extra: 1 }] },
          { ...page, data: [missing] },
          { ...page, data: [{ ...first, error_message: null }] },
          { ...page, pagination: { ...page.pagination, extra: 1 } },
        ]) {
          expect(StrictSyncPage.safeParse(broken).success).toBe(false);
        }
      });

      const alone: Array<[string, RawQuery, (row: SyncHistory) => boolean]> = [
        ...SyncHistory.shape.status.options.map(
          (status): [string, RawQuery, (row: SyncHistory) => boolean] => [
            `status=${status}`,
            { status },
            (row) => row.status === status,
          ],
        ),
        [
          `project_name`,
          { project_name: `${tok} ALPHA` },
          (row) => row.project_name.toLowerCase().includes(`${tok} alpha`),
        ],
        [
          'start_date (date)',
          { start_date: '2011-03-02' },
          (row) => row.created_at >= '2011-03-02T00:00:00.000Z',
        ],
        ['end_date (date, inclusive)', { end_date: '2011-03-01' }, (row) => row.created_at < '2011-03-02'],
        [
          'end_date (timestamp)',
          { end_date: '2011-03-01T23:59:59.998Z' },
          (row) => row.created_at <= '2011-03-01T23:59:59.998Z',
        ],
      ];
      it.each(alone)('filters by %s alone', async (_name, query, matches) => {
        // The oracle: every row of the table, filtered here, in the same order.
        const all = await everyPage((offset) => syncs({ limit: '100', offset: String(offset) }));
        const rows = await everyPage((offset) => syncs({ ...query, limit: '100', offset: String(offset) }));
        expect(rows.map((row) => row.id)).toEqual(all.filter(matches).map((row) => row.id));
        expect(s.seeded(rows).length).toBeGreaterThan(0);
        expect(s.seeded(rows).length).toBeLessThan(s.seeded(all).length);
      });

      it('source_type=ardoq and target_type=azure-devops (the only values there are) keep every sync', async () => {
        const all = await everyPage((offset) => syncs({ limit: '100', offset: String(offset) }));
        for (const query of [{ source_type: 'ardoq' }, { target_type: 'azure-devops' }]) {
          const rows = await everyPage((offset) => syncs({ ...query, limit: '100', offset: String(offset) }));
          expect(rows.map((row) => row.id)).toEqual(all.map((row) => row.id));
        }
      });

      it.each<[string, string[]]>([
        [`${tok} alpha`, ['alphaBeta', 'alpha']],
        [`${tok.toUpperCase()} ALPHA-BETA`, ['alphaBeta']],
        [`${tok} gamma`, ['gamma']],
        [`${tok} 100%`, ['percent']],
        [`${tok} 100%_`, ['percent']],
        [`${tok} 100_`, []],
        [`${tok}%`, []],
        [`${tok} 100\\%`, []],
        ['back\\slash', ['slash']],
        ['k\\s', ['slash']],
        [`${bangTok} BANG!`, ['bang']],
        [`${bangTok} bang!%`, []],
        [`${bangTok} bang!!`, []],
        [`${bangTok} bang%`, []],
      ])('project_name %j is a literal, case-insensitive substring', async (projectName, expected) => {
        expect(s.names(await syncs({ project_name: projectName }))).toEqual(expected);
      });

      it.each<[string, RawQuery, string[]]>([
        ['one whole UTC day', { start_date: '2011-03-01', end_date: '2011-03-01' }, ['alphaBeta', 'alpha']],
        ['a timestamp end is exact (in)', { end_date: '2011-03-01T23:59:59.999Z' }, ['alphaBeta', 'alpha']],
        ['a timestamp end is exact (out)', { end_date: '2011-03-01T23:59:59.998Z' }, ['alpha']],
        [
          'a timestamp end includes its instant',
          { end_date: '2011-03-02T00:00:00Z' },
          ['gamma', 'alphaBeta', 'alpha'],
        ],
        ['an end with an offset', { end_date: '2011-03-02T01:00:00+01:00' }, ['gamma', 'alphaBeta', 'alpha']],
        ['a date start is 00:00 UTC', { start_date: '2011-03-02' }, ['slash', 'plain', 'percent', 'gamma']],
        [
          'a timestamp start is exact',
          { start_date: '2011-03-02T00:00:00.001Z' },
          ['slash', 'plain', 'percent'],
        ],
        [
          'the first and last dates PostgreSQL and the parser share',
          { start_date: '0001-01-01', end_date: '9999-12-31' },
          ['slash', 'plain', 'percent', 'gamma', 'alphaBeta', 'alpha'],
        ],
        [
          'a start with an offset',
          { start_date: '2011-03-01T19:00:00-05:00', end_date: '2011-03-02' },
          ['percent', 'gamma'],
        ],
      ])('dates: %s', async (_name, query, expected) => {
        expect(s.names(await syncs({ project_name: tok, ...query }))).toEqual(expected);
      });

      it.each<[RawQuery, string[]]>([
        [
          { ...window, status: 'completed', source_type: 'ardoq', target_type: 'azure-devops' },
          ['slash', 'alpha'],
        ],
        [{ status: 'completed', project_name: `${tok} alpha` }, ['alpha']],
        [{ ...window, status: 'failed', start_date: '2011-03-02' }, []],
        [{ ...window, status: 'cancelled', end_date: '2011-03-02' }, ['gamma']],
      ])('combines filters: %j', async (query, expected) => {
        expect(s.names(await syncs(query))).toEqual(expected);
      });

      it.each<[string, string, string[], Pagination]>([
        ['2', '0', ['slash', 'plain'], { total: 6, limit: 2, offset: 0, has_more: true }],
        ['2', '2', ['percent', 'gamma'], { total: 6, limit: 2, offset: 2, has_more: true }],
        ['2', '4', ['alphaBeta', 'alpha'], { total: 6, limit: 2, offset: 4, has_more: false }],
        ['4', '4', ['alphaBeta', 'alpha'], { total: 6, limit: 4, offset: 4, has_more: false }],
        ['1', '5', ['alpha'], { total: 6, limit: 1, offset: 5, has_more: false }],
        ['10', '6', [], { total: 6, limit: 10, offset: 6, has_more: false }],
        ['10', '10000000', [], { total: 6, limit: 10, offset: 10_000_000, has_more: false }],
      ])('pages: limit %s offset %s', async (limit, offset, expected, pagination) => {
        const page = await syncs({ ...window, limit, offset });
        expect(s.names(page)).toEqual(expected);
        expect(page.pagination).toEqual(pagination);
      });

      it('breaks created_at ties by id, so pages neither repeat nor skip rows', async () => {
        const tie = randomUUID().slice(0, 8);
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          ids.push(
            await seedSync(db, {
              project: `${tie} tie ${i}`,
              status: 'pending',
              createdAt: '2011-05-05T05:05:05Z',
            }),
          );
        }
        const paged = await everyPage((offset) =>
          syncs({ project_name: tie, limit: '1', offset: String(offset) }),
        );
        expect(paged.map((row) => row.id)).toEqual([...ids].sort().reverse());
      });

      it('caps a limit above 100 and reports the effective limit', async () => {
        const cap = randomUUID().slice(0, 8);
        await db.query(
          `INSERT INTO sync_history (project_name, total_items, deadline_at, created_at)
           SELECT CAST(:p AS text) || ' ' || g, 0, now(), TIMESTAMPTZ '2011-06-01T00:00:00Z' + g * interval '1 second'
           FROM generate_series(1, 101) AS g`,
          { p: cap },
        );
        for (const limit of ['101', '500', '99999999999999999999999']) {
          const page = await syncs({ project_name: cap, limit });
          expect(page.data).toHaveLength(100);
          expect(page.pagination).toEqual({ total: 101, limit: 100, offset: 0, has_more: true });
        }
        const last = await syncs({ project_name: cap, limit: '500', offset: '100' });
        expect(last.data.map((row) => row.project_name)).toEqual([`${cap} 1`]);
        expect(last.pagination).toEqual({ total: 101, limit: 100, offset: 100, has_more: false });
        expect((await syncs({ project_name: cap })).pagination.limit).toBe(50);
      });

      it.each(INJECTIONS)('treats %j in project_name as text', async (text) => {
        expect(await syncs({ project_name: text })).toEqual({
          data: [],
          pagination: { total: 0, limit: 50, offset: 0, has_more: false },
        });
        expect((await syncs(window)).pagination.total).toBe(6);
      });

      it.each(INJECTIONS)('binds %j as a value in every enum filter, even unvalidated', async (text) => {
        const base = parseQuery(SyncHistoryQuery, window);
        for (const filters of [
          { ...base, status: text as 'failed' },
          { ...base, sourceType: text as 'ardoq' },
          { ...base, targetType: text as 'azure-devops' },
        ]) {
          expect((await listSyncs(db, filters)).pagination.total).toBe(0);
        }
      });

      it.each<[string, RawQuery, string | RegExp]>([
        ['newest first', {}, 'sync_history_created_at_idx'],
        ['status', { status: 'failed' }, 'sync_history_status_created_at_idx'],
        ['project_name', { project_name: 'alpha' }, 'sync_history_project_name_trgm_idx'],
        ['dates', { start_date: '2011-03-01', end_date: '2011-03-02' }, 'sync_history_created_at_idx'],
      ])('can use an index for %s', async (_name, query, index) => {
        expect(await planOf((q) => listSyncs(q, parseQuery(SyncHistoryQuery, query)))).toMatch(index);
      });
    });

    describe('GET /api/sync-history/stats (syncStats)', () => {
      const tok = randomUUID().slice(0, 8);
      const stats = (q: RawQuery) => syncStats(db, parseQuery(StatsQuery, q));

      beforeAll(async () => {
        const seeds: SyncSeed[] = [
          {
            project: `${tok} a`,
            status: 'completed',
            created: 3,
            failed: 1,
            durationMs: 1000,
            createdAt: '2012-06-01T00:00:00Z',
          },
          {
            project: `${tok} b`,
            status: 'completed',
            created: 2,
            durationMs: 2001,
            createdAt: '2012-06-10T00:00:00Z',
          },
          // Durations of syncs that did not complete stay out of the average.
          {
            project: `${tok} c`,
            status: 'failed',
            failed: 2,
            durationMs: 999_999,
            createdAt: '2012-06-15T00:00:00Z',
          },
          {
            project: `${tok} d`,
            status: 'cancelled',
            created: 1,
            durationMs: 888_888,
            createdAt: '2012-06-20T00:00:00Z',
          },
          { project: `${tok} e`, status: 'pending', createdAt: '2012-06-25T00:00:00Z' },
          {
            project: `${tok} f`,
            status: 'in_progress',
            created: 1,
            failed: 1,
            createdAt: '2012-06-30T23:59:59.999Z',
          },
          // Just outside June on both sides.
          {
            project: `${tok} g`,
            status: 'completed',
            created: 5,
            durationMs: 5,
            createdAt: '2012-07-01T00:00:00.000Z',
          },
          {
            project: `${tok} h`,
            status: 'completed',
            created: 7,
            durationMs: 7,
            createdAt: '2012-05-31T23:59:59.999Z',
          },
        ];
        for (const seed of seeds) await seedSync(db, seed);
      });

      it.each<[string, RawQuery, SyncStats]>([
        [
          'June (inclusive end date)',
          { start_date: '2012-06-01', end_date: '2012-06-30' },
          {
            total_syncs: 6,
            completed_syncs: 2,
            failed_syncs: 1,
            cancelled_syncs: 1,
            success_rate: 33.33,
            average_duration_ms: 1501,
            total_items_created: 7,
            total_items_failed: 4,
          },
        ],
        [
          'two thirds',
          { start_date: '2012-06-01', end_date: '2012-06-15' },
          {
            total_syncs: 3,
            completed_syncs: 2,
            failed_syncs: 1,
            cancelled_syncs: 0,
            success_rate: 66.67,
            average_duration_ms: 1501,
            total_items_created: 5,
            total_items_failed: 3,
          },
        ],
        [
          'a timestamp window',
          { start_date: '2012-06-01T00:00:00Z', end_date: '2012-06-10T00:00:00Z' },
          {
            total_syncs: 2,
            completed_syncs: 2,
            failed_syncs: 0,
            cancelled_syncs: 0,
            success_rate: 100,
            average_duration_ms: 1501,
            total_items_created: 5,
            total_items_failed: 1,
          },
        ],
        [
          'no syncs at all',
          { start_date: '1990-01-01', end_date: '1990-12-31' },
          {
            total_syncs: 0,
            completed_syncs: 0,
            failed_syncs: 0,
            cancelled_syncs: 0,
            success_rate: 0,
            average_duration_ms: 0,
            total_items_created: 0,
            total_items_failed: 0,
          },
        ],
        [
          'no completed sync',
          { start_date: '2012-06-11', end_date: '2012-06-30' },
          {
            total_syncs: 4,
            completed_syncs: 0,
            failed_syncs: 1,
            cancelled_syncs: 1,
            success_rate: 0,
            average_duration_ms: 0,
            total_items_created: 2,
            total_items_failed: 3,
          },
        ],
      ])('computes %s exactly, as numbers', async (_name, query, expected) => {
        const result = await stats(query);
        expect(SyncStats.strict().parse(result)).toEqual(expected);
        expect(result).toEqual(expected);
      });

      it('runs without a window and returns numbers', async () => {
        const result = await syncStats(db);
        expect(result.total_syncs).toBeGreaterThanOrEqual(8);
        for (const value of Object.values(result)) expect(typeof value).toBe('number');
      });
    });

    describe('GET /api/sync-history/:id/items (listSyncItems)', () => {
      const it7 = named<'e0' | 'f0' | 'f0s0' | 'f0s1' | 'f1' | 'f1s0' | 'f1s1'>();
      const PLAN_ORDER = ['e0', 'f0', 'f0s0', 'f0s1', 'f1', 'f1s0', 'f1s1'];
      let syncId: string;

      beforeAll(async () => {
        const plan = buildPlan(1, 2, 2);
        const [e0, f0, f0s0, f0s1, f1, f1s0, f1s1] = plan.map((node) => node.ardoqId) as [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
        ];
        const sync = await createSync(db, newSync(plan));
        syncId = sync.view.id;
        await markInProgress(db, syncId);
        // Recorded children first: a story before its feature and epic, a subtree skipped before its
        // root's own failure is in.
        await recordOutcomes(db, syncId, [createdOutcome(f0s0, 103), failedOutcome(f0s1)]);
        await skipSubtree(db, syncId, f1);
        await recordOutcomes(db, syncId, [failedOutcome(f1), createdOutcome(f0, 102)]);
        await recordOutcomes(db, syncId, [createdOutcome(e0, 101)]);
        await finalizeSync(db, syncId);
        // Timestamps in reverse plan order: the list must not follow them.
        await db.query(
          `UPDATE sync_history_items i SET created_at = TIMESTAMPTZ '2013-01-01T00:00:00Z' - i.position * interval '1 minute'
           WHERE i.sync_history_id = CAST(:id AS uuid)`,
          { id: sqlUuid(syncId) },
        );
        const { rows } = await db.query<{ id: string; ardoq_id: string }>(
          'SELECT id, ardoq_id FROM sync_history_items WHERE sync_history_id = CAST(:id AS uuid)',
          { id: sqlUuid(syncId) },
        );
        const names = {
          [e0]: 'e0',
          [f0]: 'f0',
          [f0s0]: 'f0s0',
          [f0s1]: 'f0s1',
          [f1]: 'f1',
          [f1s0]: 'f1s0',
          [f1s1]: 'f1s1',
        };
        for (const row of rows) it7.set(names[row.ardoq_id] as Parameters<typeof it7.set>[0], row.id);
      });

      it('lists every outcome in plan order (parents before children), whatever the recording order, with exact keys', async () => {
        const page = await items(syncId);
        expect(StrictItemPage.parse(page)).toEqual(page);
        expect(it7.names(page)).toEqual(PLAN_ORDER);
        expect(page.pagination).toEqual({ total: 7, limit: 1000, offset: 0, has_more: false });
        const [e0, , , f0s1, , f1s0] = page.data;
        expect(e0).toMatchObject({
          sync_history_id: syncId,
          item_type: 'epic',
          status: 'created',
          azure_devops_id: 101,
          azure_devops_url: expect.stringContaining('/_workitems/edit/101'),
          changed_by_user: { displayName: 'Sync Bot', uniqueName: 'bot@example.com' },
          created_at: '2013-01-01T00:00:00.000Z',
        });
        expect(e0).not.toHaveProperty('error_message');
        expect(f0s1).toMatchObject({
          item_type: 'user_story',
          status: 'failed',
          error_message: expect.any(String),
        });
        expect(f1s0).toMatchObject({ status: 'skipped', error_message: expect.stringMatching(/parent/) });
        for (const key of ['azure_devops_id', 'azure_devops_url', 'changed_by_user']) {
          expect(f1s0).not.toHaveProperty(key);
        }
      });

      it('keeps plan order, the same on every call, when every outcome has the same timestamp', async () => {
        const plan = buildPlan(2, 2, 2);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        // One statement, in reverse plan order: one now() for every row.
        await recordOutcomes(
          db,
          id,
          [...plan].reverse().map((node, i) => createdOutcome(node.ardoqId, 7000 + i)),
        );
        await db.query(
          `UPDATE sync_history_items SET created_at = TIMESTAMPTZ '2013-02-02T00:00:00Z'
           WHERE sync_history_id = CAST(:id AS uuid)`,
          { id: sqlUuid(id) },
        );
        const expected = plan.map((node) => node.ardoqId);
        const first = await items(id);
        const second = await items(id);
        expect(first.data.map((row) => row.ardoq_id)).toEqual(expected);
        expect(second).toEqual(first);
        const paged = await everyPage((offset) => items(id, { limit: '3', offset: String(offset) }));
        expect(paged).toEqual(first.data);
        const stories = await items(id, { item_type: 'user_story' });
        expect(stories.data.map((row) => row.ardoq_id)).toEqual(
          plan.filter((node) => node.itemType === 'user_story').map((node) => node.ardoqId),
        );
      });

      it.each<[RawQuery, string[]]>([
        [{ status: 'created' }, ['e0', 'f0', 'f0s0']],
        [{ status: 'failed' }, ['f0s1', 'f1']],
        [{ status: 'skipped' }, ['f1s0', 'f1s1']],
        [{ item_type: 'epic' }, ['e0']],
        [{ item_type: 'feature' }, ['f0', 'f1']],
        [{ item_type: 'user_story' }, ['f0s0', 'f0s1', 'f1s0', 'f1s1']],
        [{ status: 'failed', item_type: 'user_story' }, ['f0s1']],
        [{ status: 'skipped', item_type: 'epic' }, []],
      ])('filters by %j, in plan order', async (query, expected) => {
        const page = await items(syncId, query);
        expect(it7.names(page)).toEqual(expected);
        expect(page.pagination.total).toBe(expected.length);
      });

      it.each<[string, string, string[], Pagination]>([
        ['3', '0', ['e0', 'f0', 'f0s0'], { total: 7, limit: 3, offset: 0, has_more: true }],
        ['3', '3', ['f0s1', 'f1', 'f1s0'], { total: 7, limit: 3, offset: 3, has_more: true }],
        ['3', '4', ['f1', 'f1s0', 'f1s1'], { total: 7, limit: 3, offset: 4, has_more: false }],
        ['3', '6', ['f1s1'], { total: 7, limit: 3, offset: 6, has_more: false }],
        ['3', '7', [], { total: 7, limit: 3, offset: 7, has_more: false }],
        ['3', '50', [], { total: 7, limit: 3, offset: 50, has_more: false }],
      ])('pages in plan order: limit %s offset %s', async (limit, offset, expected, pagination) => {
        const page = await items(syncId, { limit, offset });
        expect(it7.names(page)).toEqual(expected);
        expect(page.pagination).toEqual(pagination);
      });

      it('a sync without outcomes has an empty list, not a 404', async () => {
        const sync = await createSync(db, newSync(buildPlan(2)));
        expect(await items(sync.view.id)).toEqual({
          data: [],
          pagination: { total: 0, limit: 1000, offset: 0, has_more: false },
        });
      });

      it.each([randomUUID(), randomUUID().toUpperCase(), 'not-a-uuid', '', ...INJECTIONS])(
        'an unknown or malformed sync id %j is NotFoundError',
        async (id) => {
          await expect(items(id)).rejects.toThrow(NotFoundError);
        },
      );

      it('binds injected enum values as values', async () => {
        for (const text of INJECTIONS) {
          const filters = parseQuery(SyncItemsQuery, {});
          expect((await listSyncItems(db, syncId, { ...filters, status: text as 'failed' })).data).toEqual(
            [],
          );
          expect((await listSyncItems(db, syncId, { ...filters, itemType: text as 'epic' })).data).toEqual(
            [],
          );
        }
      });

      /**
       * A statement of an item page reads its rows by one range scan of `index` in position order
       * (the first one also finds the position at the offset from the index alone), and sorts nothing
       * but its own rows at the top.
       */
      function expectPositionOrder(plan: string, index: string, first: boolean): void {
        if (first) expect(plan).toMatch(new RegExp(`Index Only Scan using ${index} on sync_history_items`));
        expect(plan).toMatch(new RegExp(`(?<!Only )Index Scan using ${index} on sync_history_items`));
        expect(plan.split('\n')[0]).toMatch(/^Sort /);
        expect(plan.match(/Sort Key: /g)).toHaveLength(1);
      }

      /** The plans of a page's statements, with sorts off wherever an index can serve the order. */
      const itemPlans = (id: string, query: RawQuery) =>
        plansOf(
          (q) => listSyncItems(q, id, parseQuery(SyncItemsQuery, query)),
          ['SET LOCAL enable_sort = off'],
        );

      it.each<[string, RawQuery, string]>([
        ['no filter', {}, 'sync_history_items_sync_position_idx'],
        ['status', { status: 'failed' }, 'sync_history_items_sync_status_idx'],
        ['item_type', { item_type: 'user_story' }, 'sync_history_items_sync_type_idx'],
        [
          'status and item_type',
          { status: 'failed', item_type: 'user_story' },
          'sync_history_items_sync_(?:status|type)_idx',
        ],
      ])(
        'reads a page by %s from a position index in plan order, sorting nothing but the page',
        async (_name, query, index) => {
          const plans = await itemPlans(syncId, query);
          expect(plans).toHaveLength(1);
          expectPositionOrder(plans[0]!, index, true);
        },
      );

      it('pages 1,000 items by default (a typical sync whole) and caps a limit above 5,000', async () => {
        const plan = buildPlan(5001);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        // Recorded in reverse: the pages still follow the plan.
        await recordOutcomes(
          db,
          id,
          [...plan].reverse().map((node, i) => createdOutcome(node.ardoqId, 5000 + i)),
        );
        const ids = plan.map((node) => node.ardoqId);
        const first = await items(id);
        expect(first.data.map((row) => row.ardoq_id)).toEqual(ids.slice(0, 1000));
        expect(first.pagination).toEqual({ total: 5001, limit: 1000, offset: 0, has_more: true });
        for (const limit of ['5000', '5001', '1000000', '99999999999999999999999']) {
          const capped = await items(id, { limit });
          expect(capped.data.map((row) => row.ardoq_id)).toEqual(ids.slice(0, 5000));
          expect(capped.pagination).toEqual({ total: 5001, limit: 5000, offset: 0, has_more: true });
        }
        const rest = await items(id, { limit: '5001', offset: '5000' });
        expect(rest.data.map((row) => row.ardoq_id)).toEqual([ids[5000]]);
        expect(rest.pagination).toEqual({ total: 5001, limit: 5000, offset: 5000, has_more: false });
        const middle = await items(id, { offset: '2500', limit: '10' });
        expect(middle.data.map((row) => row.ardoq_id)).toEqual(ids.slice(2500, 2510));
        // 5,000 rows take several statements (ITEM_CHUNK_ROWS each at most), every one in index order.
        const plans = await itemPlans(id, { limit: '5000', offset: '1' });
        expect(plans.length).toBeGreaterThanOrEqual(Math.ceil(5000 / ITEM_CHUNK_ROWS));
        plans.forEach((p, i) => {
          expectPositionOrder(p, 'sync_history_items_sync_position_idx', i === 0);
        });
      });

      it('reads a page too large for one Data API answer in several statements, whole and in order', async () => {
        const plan = buildPlan(1, 1, 298);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        // 300 messages of 5,000 characters, many of them escaped twice in a Data API answer: 2.3 MB.
        const message = (i: number) => `${i} "quoted" back\\slash\n`.repeat(250).slice(0, 5000);
        for (let i = 0; i < plan.length; i += 50) {
          await recordOutcomes(
            db,
            id,
            plan.slice(i, i + 50).map((node, j) => failedOutcome(node.ardoqId, message(i + j))),
          );
        }
        const rec = recording(db);
        const page = await listSyncItems(rec.db, id, parseQuery(SyncItemsQuery, {}));
        expect(rec.seen.calls.length).toBeGreaterThan(2);
        expect(page.pagination).toEqual({ total: 300, limit: 1000, offset: 0, has_more: false });
        expect(page.data.map((row) => row.ardoq_id)).toEqual(plan.map((node) => node.ardoqId));
        expect(page.data.map((row) => row.error_message)).toEqual(plan.map((_, i) => message(i)));
        const window = await items(id, {
          status: 'failed',
          item_type: 'user_story',
          offset: '100',
          limit: '150',
        });
        expect(window.data.map((row) => row.ardoq_id)).toEqual(
          plan.slice(102, 252).map((node) => node.ardoqId),
        );
        expect(window.pagination).toEqual({ total: 298, limit: 150, offset: 100, has_more: true });
      });
    });

    /*
     * The per-type numbers the frontend shows as created / (created + failed): `*_failed` counts every
     * node of the type not created (failed or skipped), so once the sync is terminal created + failed
     * = total; `*_skipped` and `*_total` are the detail. items_failed / items_skipped stay the row
     * counts. Every producer of the view (the list page, getSync behind GET /:id, the rows the
     * repository's writes return) gives the same one.
     */
    describe('SyncHistory per-type numbers and cancel_requested_at', () => {
      const TYPES = ['epics', 'features', 'user_stories'] as const;
      type Numbers = [total: number, created: number, failed: number, skipped: number];

      const perType = (view: SyncHistory) =>
        Object.fromEntries(
          TYPES.map((type) => [
            type,
            [view[`${type}_total`], view[`${type}_created`], view[`${type}_failed`], view[`${type}_skipped`]],
          ]),
        );

      /** The view from the list page and from getSync (their key sets exact and equal). */
      async function views(id: string): Promise<SyncHistory> {
        const fetched = (await getSync(db, id)).view;
        const listed = await syncs({ project_name: fetched.project_name });
        expect(listed.data.map((row) => row.id)).toEqual([id]);
        expect(listed.data[0]).toEqual(fetched);
        expect(SyncHistory.strict().parse(fetched)).toEqual(fetched);
        return fetched;
      }

      const closeRequest = async (id: string) => {
        const { rows } = await db.query<{ close_requested: string | null; close_requested_at: Date | null }>(
          'SELECT close_requested, close_requested_at FROM sync_history WHERE id = CAST(:id AS uuid)',
          { id: sqlUuid(id) },
        );
        return rows[0];
      };

      /** cancel_requested_at is there exactly when the row has a cancel request, with its time. */
      async function expectCancelRequestedAt(view: SyncHistory): Promise<void> {
        const row = await closeRequest(view.id);
        if (row?.close_requested === 'cancelled') {
          expect(view.cancel_requested_at).toBe(row.close_requested_at?.toISOString());
        } else {
          expect(view).not.toHaveProperty('cancel_requested_at');
        }
      }

      it('a partly created sync: failed counts the failed and the skipped of each type', async () => {
        const plan = buildPlan(2, 2, 2);
        const node = (suffix: string) => plan.find((n) => n.ardoqId.endsWith(suffix))!.ardoqId;
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        await recordOutcomes(db, id, [
          createdOutcome(node('-e0'), 1),
          failedOutcome(node('-e1')),
          createdOutcome(node('-e0-f0'), 2),
          failedOutcome(node('-e0-f1')),
          createdOutcome(node('-e0-f0-s0'), 3),
          failedOutcome(node('-e0-f0-s1')),
        ]);
        await skipSubtree(db, id, node('-e1'));
        await skipSubtree(db, id, node('-e0-f1'));
        const done = await finalizeSync(db, id);
        const view = await views(id);
        expect(done?.view).toEqual(view);
        expect(view).toMatchObject({
          status: 'completed',
          items_created: 3,
          items_failed: 3,
          items_skipped: 8,
        });
        expect(perType(view)).toEqual({
          epics: [2, 1, 1, 0] satisfies Numbers,
          features: [4, 1, 3, 2] satisfies Numbers,
          user_stories: [8, 1, 7, 6] satisfies Numbers,
        });
        expect(view).not.toHaveProperty('cancel_requested_at');
      });

      it('a failed sync: its epic failed, the rest skipped, failed = total at every level', async () => {
        const plan = buildPlan(1, 2, 2);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        await recordOutcomes(db, id, [failedOutcome(plan[0]!.ardoqId)]);
        await skipSubtree(db, id, plan[0]!.ardoqId);
        const done = await finalizeSync(db, id);
        const view = await views(id);
        expect(done?.view).toEqual(view);
        expect(view).toMatchObject({ status: 'failed', items_created: 0, items_failed: 1, items_skipped: 6 });
        expect(perType(view)).toEqual({
          epics: [1, 0, 1, 0] satisfies Numbers,
          features: [2, 0, 2, 2] satisfies Numbers,
          user_stories: [4, 0, 4, 4] satisfies Numbers,
        });
        expect(view).not.toHaveProperty('cancel_requested_at');
      });

      it('a sync cancelled while pending: every node skipped, failed = skipped = total, created 0', async () => {
        const plan = buildPlan(2, 2, 3);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const answer = await closeSync(db, 'cancelled', {
          syncId: id,
          reason: 'stop',
          skipReason: 'cancelled',
        });
        const view = await views(id);
        expect(answer?.view).toEqual(view);
        expect(view).toMatchObject({ items_created: 0, items_failed: 0, items_skipped: 2 + 4 + 12 });
        expect(perType(view)).toEqual({
          epics: [2, 0, 2, 2] satisfies Numbers,
          features: [4, 0, 4, 4] satisfies Numbers,
          user_stories: [12, 0, 12, 12] satisfies Numbers,
        });
        await expectCancelRequestedAt(view);
      });

      it('a cancel while a create is in flight: the answer says so until the last outcome is in', async () => {
        const plan = buildPlan(1, 1, 2);
        const [epic, feature, inFlight, unstarted] = plan.map((n) => n.ardoqId) as [
          string,
          string,
          string,
          string,
        ];
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        await recordOutcomes(db, id, [createdOutcome(epic, 1), createdOutcome(feature, 2)]);
        // A create already sent to Azure DevOps.
        await db.query(
          `UPDATE sync_plan_items SET state = 'processing', attempts = 1, claimed_at = now()
           WHERE sync_history_id = CAST(:id AS uuid) AND ardoq_id = :node`,
          { id: sqlUuid(id), node: inFlight },
        );
        const answer = (
          await closeSync(db, 'cancelled', { syncId: id, reason: 'stop', skipReason: 'cancelled' })
        )?.view;
        expect(answer).toBeDefined();
        if (!answer) return;
        expect(answer).toEqual(await views(id));
        await expectCancelRequestedAt(answer);
        if (answer.status !== 'cancelled') expect(answer.cancel_requested_at).toEqual(expect.any(String));
        expect(perType(answer)).toEqual({
          epics: [1, 1, 0, 0] satisfies Numbers,
          features: [1, 1, 0, 0] satisfies Numbers,
          user_stories: [2, 0, 1, 1] satisfies Numbers,
        });
        const last = await recordOutcomes(db, id, [createdOutcome(inFlight, 3)]);
        await expectCancelRequestedAt(last.sync.view);
        await finalizeSync(db, id);
        const view = await views(id);
        expect(view.status).toBe('cancelled');
        await expectCancelRequestedAt(view);
        expect(perType(view)).toEqual({
          epics: [1, 1, 0, 0] satisfies Numbers,
          features: [1, 1, 0, 0] satisfies Numbers,
          user_stories: [2, 1, 1, 1] satisfies Numbers,
        });
        expect(unstarted).toBeDefined();
      });

      it('cancel_requested_at is present exactly when close_requested is cancelled, from every producer', async () => {
        const plan = buildPlan(1, 1);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        await markInProgress(db, id);
        const request = (to: string | null, at: string | null) =>
          db.query(
            `UPDATE sync_history SET close_requested = CAST(:to AS text),
               close_requested_at = CAST(:at AS timestamptz), close_reason = CASE WHEN :to IS NULL THEN NULL ELSE 'why' END
             WHERE id = CAST(:id AS uuid)`,
            { id: sqlUuid(id), to, at },
          );
        const cases: Array<[string | null, string | null, string | undefined]> = [
          ['cancelled', '2020-02-02T02:02:02.123Z', '2020-02-02T02:02:02.123Z'],
          ['failed', '2020-02-03T00:00:00.000Z', undefined],
          [null, null, undefined],
        ];
        for (const [to, at, expected] of cases) {
          await request(to, at);
          const view = await views(id);
          // A repository write returns the row too (toState): the same view.
          const written = (await recordOutcomes(db, id, [])).sync.view;
          expect(written).toMatchObject({ id, status: 'in_progress' });
          for (const v of [view, written]) {
            if (expected === undefined) expect(v, String(to)).not.toHaveProperty('cancel_requested_at');
            else expect(v.cancel_requested_at).toBe(expected);
          }
          await expectCancelRequestedAt(view);
        }
      });

      /*
       * throttled_ms: the stored sum of the delays of throttled creates. eta_seconds: remaining × time
       * since in_progress_at ÷ outcomes, computed when the row is turned into the view (the clock of
       * toSyncState), null while pending or without an outcome, 0 once terminal.
       */
      it('throttled_ms and eta_seconds: from every producer, measured from in_progress_at', async () => {
        const plan = buildPlan(4);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        const raw = async () =>
          (await db.query('SELECT * FROM sync_history WHERE id = CAST(:id AS uuid)', { id: sqlUuid(id) }))
            .rows[0]!;
        const progressOf = (v: SyncHistory) => ({ throttled_ms: v.throttled_ms, eta_seconds: v.eta_seconds });

        // Pending: nothing measured yet; eta_seconds is there, null (not omitted).
        expect(progressOf(sync.view)).toEqual({ throttled_ms: 0, eta_seconds: null });
        expect(progressOf(await views(id))).toEqual({ throttled_ms: 0, eta_seconds: null });
        expect(sync.processingStartedAt).toBeNull();
        expect((await raw()).in_progress_at).toBeNull();

        // In progress, no outcome yet: still no estimate; the statement recorded when processing started.
        const before = Date.now();
        const started = await markInProgress(db, id);
        const inProgressAt = (await raw()).in_progress_at as Date;
        expect(inProgressAt).toBeInstanceOf(Date);
        expect(Math.abs(inProgressAt.getTime() - before)).toBeLessThan(60_000);
        expect(started?.processingStartedAt).toEqual(inProgressAt);
        expect(progressOf(started!.view)).toEqual({ throttled_ms: 0, eta_seconds: null });
        expect(progressOf(await views(id))).toEqual({ throttled_ms: 0, eta_seconds: null });

        // A throttled create handed back adds its delay (never more than the sync has been processing).
        await db.query(
          `UPDATE sync_history SET in_progress_at = now() - interval '60 seconds' WHERE id = CAST(:id AS uuid)`,
          { id: sqlUuid(id) },
        );
        expect(await claimItems(db, id, [plan[1]!.ardoqId], 30)).toHaveLength(1);
        expect(await releaseItems(db, id, [plan[1]!.ardoqId], false, 4200)).toEqual([plan[1]!.ardoqId]);

        // 1 of 4 items done 60 s after processing started: 3 × 60 ÷ 1 = 180 s left.
        await db.query(
          `UPDATE sync_history SET in_progress_at = now() - interval '60 seconds' WHERE id = CAST(:id AS uuid)`,
          { id: sqlUuid(id) },
        );
        const recorded = await recordOutcomes(db, id, [createdOutcome(plan[0]!.ardoqId, 1)]);
        const fetched = (await getSync(db, id)).view;
        const listed = (await syncs({ project_name: fetched.project_name })).data[0]!;
        for (const v of [recorded.sync.view, fetched, listed]) {
          expect(SyncHistory.strict().parse(v)).toEqual(v);
          expect(v.throttled_ms).toBe(4200);
          expect(v.eta_seconds).toBeGreaterThanOrEqual(179);
          expect(v.eta_seconds).toBeLessThanOrEqual(200);
        }
        // Exactly, with the clock passed in: 10 s after processing started, 3 × 10 ÷ 1 = 30 s.
        const row = await raw();
        const start = (row.in_progress_at as Date).getTime();
        expect(toSyncState(row, 'sync_history', new Date(start + 10_000)).view.eta_seconds).toBe(30);
        expect(toSyncState(row, 'sync_history', new Date(start + 1_234)).view.eta_seconds).toBe(4);
        // A clock behind the database's: no time elapsed, never negative.
        expect(toSyncState(row, 'sync_history', new Date(start - 5_000)).view.eta_seconds).toBe(0);

        // A row that went in_progress before migration 0012 has no in_progress_at: started_at is used.
        await db.query(
          `UPDATE sync_history SET in_progress_at = NULL, started_at = now() - interval '100 seconds'
           WHERE id = CAST(:id AS uuid)`,
          { id: sqlUuid(id) },
        );
        const legacy = (await getSync(db, id)).view.eta_seconds;
        expect(legacy).toBeGreaterThanOrEqual(299);
        expect(legacy).toBeLessThanOrEqual(330);

        // Terminal: 0, and the throttled time stays.
        await recordOutcomes(
          db,
          id,
          plan.slice(1).map((n, i) => createdOutcome(n.ardoqId, 2 + i)),
        );
        const done = await finalizeSync(db, id);
        expect(progressOf(done!.view)).toEqual({ throttled_ms: 4200, eta_seconds: 0 });
        expect(progressOf(await views(id))).toEqual({ throttled_ms: 4200, eta_seconds: 0 });
      });

      it('eta_seconds is null for a pending sync whose close skipped its nodes, 0 once it is cancelled', async () => {
        const plan = buildPlan(2);
        const sync = await createSync(db, newSync(plan));
        const id = sync.view.id;
        // The request skips every node at once; the sync stays pending until the finalize.
        const closing = await requestClose(db, 'cancelled', {
          syncId: id,
          reason: 'stop',
          skipReason: 'stop',
        });
        expect(closing?.view).toMatchObject({ status: 'pending', items_skipped: 2, eta_seconds: null });
        const done = await finalizeSync(db, id);
        expect(done?.view).toMatchObject({ status: 'cancelled', throttled_ms: 0, eta_seconds: 0 });
        expect(done?.processingStartedAt).toBeNull();
      });
    });

    describe('GET /api/audit-logs (listAuditLogs)', () => {
      const tok = randomUUID().slice(0, 8);
      const syncEntity = randomUUID();
      const window = { start_date: '2014-02-01', end_date: '2014-02-28' };
      const a = named<'r1' | 'r2' | 'r3' | 'r4' | 'r5' | 'r6'>();

      beforeAll(async () => {
        const seeds: Array<[Parameters<typeof a.set>[0], AuditSeed]> = [
          [
            'r1',
            {
              action: 'config_created',
              entity: 'configuration',
              entityId: `cfg-${tok}-a`,
              userId: 'u-1',
              sourceIp: '10.0.0.1',
              userAgent: 'browser',
              details: { name: 'A' },
              createdAt: '2014-02-01T00:00:00.000Z',
            },
          ],
          [
            'r2',
            {
              action: 'config_updated',
              entity: 'configuration',
              entityId: `cfg-${tok}-a`,
              createdAt: '2014-02-01T23:59:59.999Z',
            },
          ],
          [
            'r3',
            {
              action: 'config_activated',
              entity: 'configuration',
              entityId: `cfg-${tok}-b`,
              createdAt: '2014-02-02T00:00:00.000Z',
            },
          ],
          [
            'r4',
            {
              action: 'sync_started',
              entity: 'sync',
              entityId: syncEntity,
              details: { source_type: 'ardoq', total_items: 3 },
              createdAt: '2014-02-03T10:00:00Z',
            },
          ],
          [
            'r5',
            {
              action: 'sync_failed',
              entity: 'sync',
              entityId: syncEntity,
              details: { error: 'x' },
              createdAt: '2014-02-03T10:05:00Z',
            },
          ],
          ['r6', { action: 'connection_tested', entity: 'configuration', createdAt: '2014-02-04T00:00:00Z' }],
        ];
        for (const [name, seed] of seeds) a.set(name, await seedAudit(db, seed));
      });

      it('returns the window newest first with exact keys', async () => {
        const page = await audits(window);
        expect(StrictAuditPage.parse(page)).toEqual(page);
        expect(a.names(page)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1']);
        expect(page.pagination).toEqual({ total: 6, limit: 50, offset: 0, has_more: false });
        const byName = Object.fromEntries(page.data.map((row, i) => [a.names(page)[i], row]));
        expect(byName.r1).toEqual({
          id: a.ids.r1,
          action_type: 'config_created',
          entity_type: 'configuration',
          entity_id: `cfg-${tok}-a`,
          user_id: 'u-1',
          source_ip: '10.0.0.1',
          user_agent: 'browser',
          details: { name: 'A' },
          created_at: '2014-02-01T00:00:00.000Z',
        });
        expect(byName.r6).toEqual({
          id: a.ids.r6,
          action_type: 'connection_tested',
          entity_type: 'configuration',
          created_at: '2014-02-04T00:00:00.000Z',
        });
      });

      const alone: Array<[string, RawQuery, (row: AuditLog) => boolean]> = [
        ['action_type', { action_type: 'sync_failed' }, (row) => row.action_type === 'sync_failed'],
        ['entity_type=sync', { entity_type: 'sync' }, (row) => row.entity_type === 'sync'],
        [
          'entity_type=configuration',
          { entity_type: 'configuration' },
          (row) => row.entity_type === 'configuration',
        ],
        ['entity_id', { entity_id: `cfg-${tok}-a` }, (row) => row.entity_id === `cfg-${tok}-a`],
        ['start_date', { start_date: '2014-02-02' }, (row) => row.created_at >= '2014-02-02'],
        ['end_date (date, inclusive)', { end_date: '2014-02-01' }, (row) => row.created_at < '2014-02-02'],
      ];
      it.each(alone)('filters by %s alone', async (_name, query, matches) => {
        const all = await everyPage((offset) => audits({ limit: '100', offset: String(offset) }));
        const rows = await everyPage((offset) => audits({ ...query, limit: '100', offset: String(offset) }));
        expect(rows.map((row) => row.id)).toEqual(all.filter(matches).map((row) => row.id));
        expect(a.seeded(rows).length).toBeGreaterThan(0);
        expect(a.seeded(rows).length).toBeLessThan(a.seeded(all).length);
      });

      it.each<[RawQuery, string[]]>([
        [{ ...window, entity_type: 'configuration' }, ['r6', 'r3', 'r2', 'r1']],
        [{ action_type: 'config_updated', entity_id: `cfg-${tok}-a` }, ['r2']],
        [{ ...window, entity_type: 'sync', action_type: 'sync_failed' }, ['r5']],
        [{ entity_type: 'sync', entity_id: syncEntity }, ['r5', 'r4']],
        [{ entity_type: 'configuration', entity_id: syncEntity }, []],
        [{ start_date: '2014-02-01', end_date: '2014-02-01' }, ['r2', 'r1']],
        [{ ...window, end_date: '2014-02-01T23:59:59.998Z' }, ['r1']],
        [{ start_date: '2014-02-02', end_date: '2014-02-03T10:00:00Z' }, ['r4', 'r3']],
        [{ start_date: '2014-02-03T11:00:00+01:00', end_date: '2014-02-03T10:05:00.000Z' }, ['r5', 'r4']],
      ])('combines filters: %j', async (query, expected) => {
        expect(a.names(await audits(query))).toEqual(expected);
      });

      it.each<[string, string, string[], Pagination]>([
        ['4', '0', ['r6', 'r5', 'r4', 'r3'], { total: 6, limit: 4, offset: 0, has_more: true }],
        ['4', '4', ['r2', 'r1'], { total: 6, limit: 4, offset: 4, has_more: false }],
        ['3', '3', ['r3', 'r2', 'r1'], { total: 6, limit: 3, offset: 3, has_more: false }],
        ['4', '6', [], { total: 6, limit: 4, offset: 6, has_more: false }],
      ])('pages: limit %s offset %s', async (limit, offset, expected, pagination) => {
        const page = await audits({ ...window, limit, offset });
        expect(a.names(page)).toEqual(expected);
        expect(page.pagination).toEqual(pagination);
      });

      it('caps a limit above 100', async () => {
        const cap = `cap-${randomUUID()}`;
        await db.query(
          `INSERT INTO audit_logs (action_type, entity_type, entity_id, created_at)
           SELECT 'config_updated', 'configuration', CAST(:cap AS text), TIMESTAMPTZ '2014-05-01T00:00:00Z' + g * interval '1 second'
           FROM generate_series(1, 101) AS g`,
          { cap },
        );
        const page = await audits({ entity_id: cap, limit: '101' });
        expect(page.data).toHaveLength(100);
        expect(page.pagination).toEqual({ total: 101, limit: 100, offset: 0, has_more: true });
      });

      it.each(INJECTIONS)('binds %j as a value in every filter', async (text) => {
        expect((await audits({ entity_id: text })).pagination.total).toBe(0);
        const base = parseQuery(AuditLogQuery, window);
        for (const filters of [
          { ...base, actionType: text as 'sync_failed' },
          { ...base, entityType: text as 'sync' },
          { ...base, entityId: text },
        ]) {
          expect((await listAuditLogs(db, filters)).pagination.total).toBe(0);
        }
        expect((await audits(window)).pagination.total).toBe(6);
      });

      it.each<[string, RawQuery, string | RegExp]>([
        ['newest first', {}, 'audit_logs_created_at_idx'],
        ['action_type', { action_type: 'sync_failed' }, 'audit_logs_action_type_created_at_idx'],
        ['an entity', { entity_type: 'sync', entity_id: 'x' }, 'audit_logs_entity_idx'],
      ])('can use an index for %s', async (_name, query, index) => {
        expect(await planOf((q) => listAuditLogs(q, parseQuery(AuditLogQuery, query)))).toMatch(index);
      });
    });

    describe('GET /api/audit-logs/stats (auditStats)', () => {
      const stats = (q: RawQuery) => auditStats(db, parseQuery(StatsQuery, q));

      it('counts the window by action type, only the types that occur', async () => {
        const seeds: AuditSeed[] = [
          { action: 'config_created', entity: 'configuration', createdAt: '2015-03-01T00:00:00.000Z' },
          { action: 'config_created', entity: 'configuration', createdAt: '2015-03-10T00:00:00Z' },
          { action: 'config_created', entity: 'configuration', createdAt: '2015-03-31T23:59:59.999Z' },
          { action: 'config_updated', entity: 'configuration', createdAt: '2015-03-15T00:00:00Z' },
          { action: 'sync_started', entity: 'sync', createdAt: '2015-03-16T00:00:00Z' },
          { action: 'sync_started', entity: 'sync', createdAt: '2015-03-17T00:00:00Z' },
          { action: 'config_deleted', entity: 'configuration', createdAt: '2015-04-01T00:00:00.000Z' },
          { action: 'config_deleted', entity: 'configuration', createdAt: '2015-02-28T23:59:59.999Z' },
        ];
        for (const seed of seeds) await seedAudit(db, seed);
        const result = await stats({ start_date: '2015-03-01', end_date: '2015-03-31' });
        expect(AuditStats.strict().parse(result)).toEqual(result);
        expect(result).toEqual({
          total_events: 6,
          events_today: 0,
          action_type_counts: { config_created: 3, config_updated: 1, sync_started: 2 },
        });
      });

      it('an empty window has zero counts and no types', async () => {
        expect(await stats({ start_date: '1990-01-01', end_date: '1990-01-31' })).toEqual({
          total_events: 0,
          events_today: 0,
          action_type_counts: {},
        });
      });

      it('counts the events of the current UTC day, to the microsecond', async () => {
        const { rows } = await db.query<{ today: string; yesterday: string }>(
          `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS today,
             to_char(now() AT TIME ZONE 'UTC' - interval '1 day', 'YYYY-MM-DD') AS yesterday`,
        );
        const { today, yesterday } = rows[0]!;
        const seeds: AuditSeed[] = [
          { action: 'config_created', entity: 'configuration', createdAt: `${yesterday}T00:00:00.000Z` },
          { action: 'config_updated', entity: 'configuration', createdAt: `${yesterday}T23:59:59.999999Z` },
          { action: 'config_deleted', entity: 'configuration', createdAt: `${today}T00:00:00.000100Z` },
          { action: 'config_deleted', entity: 'configuration', createdAt: `${today}T00:00:00.000150Z` },
          { action: 'config_activated', entity: 'configuration', createdAt: `${today}T00:00:00.000201Z` },
        ];
        for (const seed of seeds) await seedAudit(db, seed);
        // Rows written "now" by other tests are later than this window's timestamp end.
        expect(await stats({ start_date: yesterday, end_date: `${today}T00:00:00.000200Z` })).toEqual({
          total_events: 4,
          events_today: 2,
          action_type_counts: { config_created: 1, config_updated: 1, config_deleted: 2 },
        });
        const all = await auditStats(db);
        expect(all.events_today).toBeGreaterThanOrEqual(3);
        expect(all.total_events).toBeGreaterThanOrEqual(all.events_today);
      });

      it('without a window, equals counting every row (counters for the types, an index for today)', async () => {
        const { rows } = await db.query<{ action_type: string; n: number; today: number }>(
          `SELECT action_type, count(*)::int AS n,
             (count(*) FILTER (WHERE created_at >= date_trunc('day', now(), 'UTC')
               AND created_at < date_trunc('day', now(), 'UTC') + interval '1 day'))::int AS today
           FROM audit_logs GROUP BY action_type`,
        );
        expect(await auditStats(db)).toEqual({
          total_events: rows.reduce((n, row) => n + row.n, 0),
          events_today: rows.reduce((n, row) => n + row.today, 0),
          action_type_counts: Object.fromEntries(rows.map((row) => [row.action_type, row.n])),
        });
        const plan = await planOf((q) => auditStats(q));
        expect(plan).toMatch(/history_row_counts/);
        expect(plan).toMatch(/audit_logs_created_at_idx/);
      });
    });

    /*
     * Totals of unfiltered and single-filter lists are read from the counters of migration 0007 (see
     * page-statement.ts). They must equal count(*) exactly. This describe runs last in the file, when
     * the tables hold every row the describes above wrote.
     */
    describe('exact totals read from the trigger-kept counters', () => {
      /** Forces the count(*) path over the same rows: a window that holds every row. */
      const everything = { start_date: '0001-01-01', end_date: '9999-12-31' };
      const countWhere = async (table: string, condition: string, params: SqlParams = {}) => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE ${condition}`,
          params,
        );
        return rows[0]?.n ?? -1;
      };

      it('every counter equals count(*) of its rows', async () => {
        expect(await rowCountDrift(db)).toEqual([]);
        expect(await keptCounters(db)).toBeGreaterThan(20);
      });

      it('sync list totals, unfiltered and by status, equal count(*) and the counted path', async () => {
        const cases: Array<[RawQuery, string, SqlParams]> = [
          [{}, 'true', {}],
          [{ source_type: 'ardoq' }, 'true', {}],
          [{ target_type: 'azure-devops' }, 'true', {}],
          [{ source_type: 'ardoq', target_type: 'azure-devops' }, 'true', {}],
          ...SyncHistory.shape.status.options.map((status): [RawQuery, string, SqlParams] => [
            { status },
            'status = :status',
            { status },
          ]),
          [{ status: 'failed', source_type: 'ardoq' }, "status = 'failed'", {}],
        ];
        for (const [query, condition, params] of cases) {
          const expected = await countWhere('sync_history', condition, params);
          const kept = await syncs(query);
          expect(kept.pagination.total, JSON.stringify(query)).toBe(expected);
          expect((await syncs({ ...query, ...everything })).pagination.total).toBe(expected);
        }
        expect((await syncs({})).pagination.total).toBeGreaterThan(100);
      });

      it('project_name totals equal a case-insensitive substring count, wildcards and all', async () => {
        const { rows } = await db.query<{ project_name: string }>(
          'SELECT DISTINCT project_name FROM sync_history ORDER BY project_name LIMIT 40',
        );
        const texts = [
          ...rows.flatMap((row) => [
            row.project_name,
            row.project_name.toUpperCase(),
            row.project_name.slice(3, 9),
          ]),
          '%',
          '_',
          '!',
          '\\',
          ' ',
          'alpha',
          'no project is called this',
        ];
        for (const text of texts) {
          const expected = await countWhere('sync_history', 'strpos(lower(project_name), lower(:text)) > 0', {
            text,
          });
          const kept = await syncs({ project_name: text });
          expect(kept.pagination.total, text).toBe(expected);
          expect((await syncs({ project_name: text, ...everything })).pagination.total).toBe(expected);
        }
      });

      it('audit list totals, unfiltered and by action or entity type, equal count(*)', async () => {
        const cases: Array<[RawQuery, string, SqlParams]> = [
          [{}, 'true', {}],
          ...AuditLog.shape.action_type.options.map((action): [RawQuery, string, SqlParams] => [
            { action_type: action },
            'action_type = :v',
            { v: action },
          ]),
          ...AuditLog.shape.entity_type.options.map((entity): [RawQuery, string, SqlParams] => [
            { entity_type: entity },
            'entity_type = :v',
            { v: entity },
          ]),
        ];
        for (const [query, condition, params] of cases) {
          const expected = await countWhere('audit_logs', condition, params);
          expect((await audits(query)).pagination.total, JSON.stringify(query)).toBe(expected);
          expect((await audits({ ...query, ...everything })).pagination.total).toBe(expected);
        }
      });

      it('a row written after a page is in the next total', async () => {
        const before = {
          syncs: (await syncs({})).pagination.total,
          audits: (await audits({})).pagination.total,
        };
        await seedSync(db, {
          project: uniqueProject('Later'),
          status: 'pending',
          createdAt: '2016-01-01T00:00:00Z',
        });
        expect((await syncs({})).pagination.total).toBe(before.syncs + 1);
        expect((await audits({})).pagination.total).toBe(before.audits + 1);
      });

      it.each<[string, RawQuery, boolean]>([
        ['no filter', {}, true],
        ['source_type=ardoq (every row)', { source_type: 'ardoq' }, true],
        ['status', { status: 'completed' }, true],
        ['project_name', { project_name: 'alpha' }, true],
        ['status and project_name', { status: 'completed', project_name: 'alpha' }, false],
        ['dates', { start_date: '2011-03-01' }, false],
      ])('the sync list total for %s reads the counters: %s', async (_name, query, fromCounters) => {
        const plan = await planOf((q) => listSyncs(q, parseQuery(SyncHistoryQuery, query)));
        expect(/history_row_counts/.test(plan)).toBe(fromCounters);
      });

      it.each<[string, RawQuery, boolean]>([
        ['no filter', {}, true],
        ['action_type', { action_type: 'sync_failed' }, true],
        ['entity_type', { entity_type: 'configuration' }, true],
        ['entity_id', { entity_type: 'sync', entity_id: 'x' }, false],
      ])('the audit list total for %s reads the counters: %s', async (_name, query, fromCounters) => {
        const plan = await planOf((q) => listAuditLogs(q, parseQuery(AuditLogQuery, query)));
        expect(/history_row_counts/.test(plan)).toBe(fromCounters);
      });
    });
  });
}
