import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUuid } from '#store/database.ts';
import {
  AuditLogShape,
  CancelBody,
  expectShape,
  okBody,
  pageBody,
  SyncHistoryItemShape,
  SyncHistoryShape,
  SyncStatsShape,
} from '#test/support/contract-schemas.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';
import { tree } from '#test/support/e2e.ts';

/**
 * CONTRACT.md §4 read side: GET /api/sync-history (filters, pagination, newest first), its stats, and
 * the date windows around midnight UTC. Rows are backdated into 2012 so the windows hold only them.
 */
describe('API contract: sync history list and stats', () => {
  let api: ContractSystem;
  const tag = unique('Hist');
  const SyncPage = pageBody(SyncHistoryShape);
  /** name → sync id, created through the API, then backdated. */
  const ids: Record<string, string> = {};
  const rows: Record<string, SyncHistoryShape> = {};
  const cancelAnswers: Partial<Record<'X1' | 'X2', SyncHistoryShape>> = {};
  const CREATED_AT = {
    X2: '2012-06-13T23:59:59.999Z',
    C1: '2012-06-14T00:00:00.000Z',
    F1: '2012-06-14T12:00:00.000Z',
    X1: '2012-06-14T23:59:59.999Z',
    C2: '2012-06-15T00:00:00.000Z',
    F2: '2012-06-15T08:00:00.000Z',
  } as const;
  type Name = keyof typeof CREATED_AT;

  const sim = () => {
    const simulator = api.system.simulator;
    if (!simulator) throw new Error('the local system runs without its simulator');
    return simulator;
  };

  beforeAll(async () => {
    api = await startContractSystem();
    const project = (name: string, exists = true) => {
      if (exists) sim().addProject(`${tag} ${name}`, 'Agile');
      return `${tag} ${name}`;
    };
    sim().rejectTitles(['hc1 Story 0.0.1', 'hf1 Epic 0']);
    ids.C1 = await api.system.startSync(project('Alpha'), tree(1, 1, 2, 'hc1')); // 3 created, 1 failed
    ids.C2 = await api.system.startSync(project('Beta'), tree(1, 1, 1, 'hc2')); // 3 created
    ids.F1 = await api.system.startSync(project('Gamma'), tree(1, 1, 1, 'hf1')); // epic fails: failed
    ids.F2 = await api.system.startSync(project('Missing', false), tree(1, 1, 1, 'hf2')); // no project
    // F2 fails only after the prepare step looked for its project 4 more times (4 + 8 + 16 + 32 s =
    // 60 s, PROJECT_WAIT_SECONDS): a 60 s wait was too short on a loaded machine.
    for (const id of Object.values(ids)) await api.system.waitForTerminal(id, 120_000);
    sim().setFaults({ latencyMs: 300 });
    try {
      for (const name of ['X1', 'X2'] as const) {
        ids[name] = await api.system.startSync(
          project(name === 'X1' ? 'Delta' : 'Epsilon'),
          tree(1, 1, 1, name),
        );
        const cancel = await api.call('POST', `/api/sync-history/${ids[name]}/cancel`);
        expect(cancel.status, cancel.text).toBe(200);
        cancelAnswers[name] = expectShape(CancelBody, cancel.json).data;
      }
    } finally {
      sim().setFaults({});
    }
    // A cancel answers at once; creates already sent to Azure DevOps may still be finishing.
    for (const name of ['X1', 'X2'] as const) await api.system.waitForTerminal(ids[name] ?? '');
    for (const [name, at] of Object.entries(CREATED_AT)) {
      await api.system.db.query(
        'UPDATE sync_history SET created_at = CAST(:at AS timestamptz) WHERE id = :id',
        {
          at,
          id: sqlUuid(ids[name] ?? ''),
        },
      );
      const res = await api.call('GET', `/api/sync-history/${ids[name]}`);
      rows[name] = expectShape(okBody(SyncHistoryShape), res.json).data;
    }
    // The missing project's minute of retries comes first (see above).
  }, 240_000);
  afterAll(async () => {
    await api?.close();
  });

  const list = async (query: string) => {
    const res = await api.call('GET', `/api/sync-history?${query}`);
    expect(res.status, res.text).toBe(200);
    return expectShape(SyncPage, res.json);
  };
  const names = (page: { data: Array<{ id: string }> }) =>
    page.data.map((row) => Object.keys(ids).find((name) => ids[name] === row.id) ?? row.id);
  const mine = `project_name=${encodeURIComponent(tag.toUpperCase())}`;

  it('gives each sync its terminal status, counters and timestamps as ISO UTC strings', () => {
    expect(rows.C1).toMatchObject({
      status: 'completed',
      items_created: 3,
      items_failed: 1,
      items_skipped: 0,
    });
    expect(rows.C2).toMatchObject({ status: 'completed', items_created: 3, items_failed: 0 });
    expect(rows.F1).toMatchObject({ status: 'failed', items_created: 0, items_failed: 1, items_skipped: 2 });
    expect(rows.F1?.error_message).toBeDefined();
    expect(rows.F2).toMatchObject({ status: 'failed', items_created: 0, items_skipped: 3 });
    expect(rows.F2?.error_message).toMatch(/Missing/);
    expect(rows.X1).toMatchObject({ status: 'cancelled' });
    expect(rows.C1?.created_at).toBe(CREATED_AT.C1);
  });

  type Numbers = [total: number, created: number, failed: number, skipped: number];
  /** [total, created, failed, skipped] of epics, features and user stories. */
  const perType = (row: SyncHistoryShape | undefined): Record<string, Numbers> | undefined =>
    row && {
      epics: [row.epics_total, row.epics_created, row.epics_failed, row.epics_skipped],
      features: [row.features_total, row.features_created, row.features_failed, row.features_skipped],
      user_stories: [
        row.user_stories_total,
        row.user_stories_created,
        row.user_stories_failed,
        row.user_stories_skipped,
      ],
    };

  it('gives per type what the frontend shows as created / (created + failed): failed counts the skipped', () => {
    // C1: story 0.0.1 rejected. F1: its epic rejected, the rest skipped. F2: no project, all skipped.
    expect(perType(rows.C1)).toEqual({
      epics: [1, 1, 0, 0],
      features: [1, 1, 0, 0],
      user_stories: [2, 1, 1, 0],
    });
    expect(perType(rows.C2)).toEqual({
      epics: [1, 1, 0, 0],
      features: [1, 1, 0, 0],
      user_stories: [1, 1, 0, 0],
    });
    expect(perType(rows.F1)).toEqual({
      epics: [1, 0, 1, 0],
      features: [1, 0, 1, 1],
      user_stories: [1, 0, 1, 1],
    });
    expect(perType(rows.F2)).toEqual({
      epics: [1, 0, 1, 1],
      features: [1, 0, 1, 1],
      user_stories: [1, 0, 1, 1],
    });
    // Every terminal sync: created + failed = total at each level, skipped within failed.
    for (const row of Object.values(rows)) {
      for (const [total, created, failed, skipped] of Object.values(perType(row) ?? {})) {
        expect(created + failed, row.id).toBe(total);
        expect(skipped).toBeLessThanOrEqual(failed);
      }
      expect(row.epics_total + row.features_total + row.user_stories_total).toBe(row.total_items);
      // The row counts keep their meaning: failed rows and skipped rows, apart.
      expect(row.items_failed + row.items_skipped).toBe(
        row.epics_failed + row.features_failed + row.user_stories_failed,
      );
    }
  });

  it('says when a cancel was requested, exactly when the row holds one, the cancel answer included', async () => {
    for (const name of ['X1', 'X2'] as const) {
      const { rows: db } = await api.system.db.query<{
        close_requested: string | null;
        close_requested_at: Date | null;
      }>('SELECT close_requested, close_requested_at FROM sync_history WHERE id = CAST(:id AS uuid)', {
        id: sqlUuid(ids[name] ?? ''),
      });
      const requestedAt =
        db[0]?.close_requested === 'cancelled' ? db[0].close_requested_at?.toISOString() : undefined;
      expect(rows[name]?.cancel_requested_at).toBe(requestedAt);
      const answer = cancelAnswers[name];
      expect(answer?.cancel_requested_at).toBe(requestedAt);
      // Still open (creates in flight finishing): the answer says the cancel is under way.
      if (answer?.status !== 'cancelled') expect(answer?.cancel_requested_at).toEqual(expect.any(String));
    }
    for (const name of ['C1', 'C2', 'F1', 'F2'] as const)
      expect(rows[name]).not.toHaveProperty('cancel_requested_at');
  });

  it("lists one sync's items in plan order, 1,000 per page by default", async () => {
    const res = await api.call('GET', `/api/sync-history/${ids.C1}/items`);
    expect(res.status, res.text).toBe(200);
    const page = expectShape(pageBody(SyncHistoryItemShape), res.json);
    expect(page.data.map((item) => item.ardoq_id)).toEqual([
      'hc1-e0',
      'hc1-e0-f0',
      'hc1-e0-f0-s0',
      'hc1-e0-f0-s1',
    ]);
    expect(page.pagination).toEqual({ total: 4, limit: 1000, offset: 0, has_more: false });
    const capped = await api.call(
      'GET',
      `/api/sync-history/${ids.F1}/items?limit=999999&item_type=user_story`,
    );
    expect(expectShape(pageBody(SyncHistoryItemShape), capped.json).pagination).toEqual({
      total: 1,
      limit: 5000,
      offset: 0,
      has_more: false,
    });
  });

  it('lists newest first, filtering project_name as a case-insensitive substring', async () => {
    const page = await list(mine);
    expect(names(page)).toEqual(['F2', 'C2', 'X1', 'F1', 'C1', 'X2']);
    expect(page.pagination).toEqual({ total: 6, limit: 50, offset: 0, has_more: false });
    const lower = await list(`project_name=${encodeURIComponent(`${tag.slice(-6).toLowerCase()} gAMMA`)}`);
    expect(names(lower)).toEqual(['F1']);
  });

  it.each([
    ['completed', ['C2', 'C1']],
    ['failed', ['F2', 'F1']],
    ['cancelled', ['X1', 'X2']],
    ['pending', []],
    ['in_progress', []],
  ])('filters status=%s', async (status, expected) => {
    expect(names(await list(`${mine}&status=${status}`))).toEqual(expected);
  });

  it('filters source_type and target_type (their only values)', async () => {
    const page = await list(`${mine}&source_type=ardoq&target_type=azure-devops`);
    expect(page.pagination.total).toBe(6);
  });

  it.each([
    ['end_date=2012-06-14', ['X1', 'F1', 'C1', 'X2']],
    ['end_date=2012-06-14T23:59:59.999Z', ['X1', 'F1', 'C1', 'X2']],
    ['end_date=2012-06-14T23:59:59.998Z', ['F1', 'C1', 'X2']],
    ['end_date=2012-06-14T20:00:00-04:00', ['C2', 'X1', 'F1', 'C1', 'X2']],
    ['start_date=2012-06-14', ['F2', 'C2', 'X1', 'F1', 'C1']],
    ['start_date=2012-06-14&end_date=2012-06-14', ['X1', 'F1', 'C1']],
    ['start_date=2012-06-15T00:00:00.000Z&end_date=2012-06-15', ['F2', 'C2']],
    ['start_date=2012-06-14T00:00:00.001Z&end_date=2012-06-15', ['F2', 'C2', 'X1', 'F1']],
    ['start_date=2012-06-13&end_date=2012-06-13', ['X2']],
  ])('takes the whole UTC end day and exact timestamps: %s', async (query, expected) => {
    const page = await list(query);
    expect(names(page)).toEqual(expected);
    expect(page.pagination.total).toBe(expected.length); // this file's syncs are all backdated into 2012
  });

  it('pages by the effective limit with has_more = offset + data.length < total', async () => {
    const first = await list(`${mine}&limit=2`);
    expect(names(first)).toEqual(['F2', 'C2']);
    expect(first.pagination).toEqual({ total: 6, limit: 2, offset: 0, has_more: true });
    const exactLast = await list(`${mine}&limit=2&offset=4`);
    expect(names(exactLast)).toEqual(['C1', 'X2']);
    expect(exactLast.pagination).toEqual({ total: 6, limit: 2, offset: 4, has_more: false });
    const shortLast = await list(`${mine}&limit=4&offset=4`);
    expect(shortLast.pagination).toEqual({ total: 6, limit: 4, offset: 4, has_more: false });
    for (const offset of [6, 100]) {
      const past = await list(`${mine}&offset=${offset}`);
      expect(past.data).toEqual([]);
      expect(past.pagination).toEqual({ total: 6, limit: 50, offset, has_more: false });
    }
    const capped = await list(`${mine}&limit=1000`);
    expect(capped.pagination).toEqual({ total: 6, limit: 100, offset: 0, has_more: false });
    expect((await list(`${mine}&limit=100`)).pagination.limit).toBe(100);
  });

  describe('GET /api/sync-history/stats', () => {
    const stats = async (query: string) => {
      const res = await api.call('GET', `/api/sync-history/stats?${query}`);
      expect(res.status, res.text).toBe(200);
      return expectShape(okBody(SyncStatsShape), res.json).data;
    };
    const sum = (names: Name[], key: 'items_created' | 'items_failed') =>
      names.reduce((total, name) => total + (rows[name]?.[key] ?? 0), 0);

    it('counts what was created in the window: success_rate = completed / total × 100, 2 decimals', async () => {
      const all: Name[] = ['X2', 'C1', 'F1', 'X1', 'C2', 'F2'];
      expect(await stats('start_date=2012-06-13&end_date=2012-06-15')).toEqual({
        total_syncs: 6,
        completed_syncs: 2,
        failed_syncs: 2,
        cancelled_syncs: 2,
        success_rate: 33.33,
        average_duration_ms: Math.round(((rows.C1?.duration_ms ?? 0) + (rows.C2?.duration_ms ?? 0)) / 2),
        total_items_created: sum(all, 'items_created'),
        total_items_failed: sum(all, 'items_failed'),
      });
      expect(sum(['C1', 'C2', 'F1', 'F2'], 'items_created')).toBe(6);
      expect(sum(['C1', 'C2', 'F1', 'F2'], 'items_failed')).toBe(2);
    });

    it('takes the whole end day (UTC) and nothing of the next', async () => {
      expect(await stats('start_date=2012-06-14&end_date=2012-06-14')).toMatchObject({
        total_syncs: 3,
        completed_syncs: 1,
        failed_syncs: 1,
        cancelled_syncs: 1,
        success_rate: 33.33,
        average_duration_ms: rows.C1?.duration_ms,
      });
      expect(await stats('start_date=2012-06-15&end_date=2012-06-15')).toMatchObject({
        total_syncs: 2,
        success_rate: 50,
      });
    });

    it('answers zeros (counters present) for an empty window', async () => {
      expect(await stats('start_date=2012-01-01&end_date=2012-01-02')).toEqual({
        total_syncs: 0,
        completed_syncs: 0,
        failed_syncs: 0,
        cancelled_syncs: 0,
        success_rate: 0,
        average_duration_ms: 0,
        total_items_created: 0,
        total_items_failed: 0,
      });
    });

    it('agrees with the list over every sync', async () => {
      const all = await stats('');
      const total = (await list('limit=1')).pagination.total;
      expect(all.total_syncs).toBe(total);
      expect(all.completed_syncs).toBe((await list('status=completed&limit=1')).pagination.total);
    });
  });

  describe('audit logs of the syncs', () => {
    const AuditPage = pageBody(AuditLogShape);
    const audits = async (query: string) => {
      const res = await api.call('GET', `/api/audit-logs?${query}`);
      expect(res.status, res.text).toBe(200);
      return expectShape(AuditPage, res.json);
    };

    it('records sync_started and the terminal transition with their exact details, newest first', async () => {
      const page = await audits(`entity_type=sync&entity_id=${ids.C1}`);
      expect(page.data.map((a) => a.action_type)).toEqual(['sync_completed', 'sync_started']);
      const [completed, started] = page.data;
      expect(started?.details).toEqual({
        source_type: 'ardoq',
        target_type: 'azure-devops',
        project_name: `${tag} Alpha`,
        overwrite_mode: false,
        total_items: 4,
        // WORKFLOW §6.5 adds the mapping's source: none was chosen, the process template applies.
        field_mapping: { kind: 'default' },
      });
      expect(started?.source_ip).toBe('127.0.0.1');
      expect(completed?.details).toEqual({
        total_items: 4,
        items_created: 3,
        items_failed: 1,
        items_skipped: 0,
      });
      const failed = await audits(`action_type=sync_failed&entity_id=${ids.F2}`);
      expect(failed.data).toHaveLength(1);
      // With the final numbers, like the other terminal entries.
      expect(failed.data[0]?.details).toEqual({
        error: rows.F2?.error_message,
        items_created: 0,
        items_failed: 0,
        items_skipped: 3,
      });
      const cancelled = await audits(`action_type=sync_cancelled&entity_id=${ids.X1}`);
      expect(Object.keys(cancelled.data[0]?.details ?? {}).sort()).toEqual([
        'items_created',
        'items_failed',
        'items_skipped',
      ]);
    });
  });
});
