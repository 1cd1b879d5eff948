import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditLogShape,
  AuditStatsShape,
  expectShape,
  okBody,
  pageBody,
} from '#test/support/contract-schemas.ts';
import { type ContractSystem, startContractSystem } from '#test/support/contract-system.ts';
import { tree } from '#test/support/e2e.ts';

/**
 * CONTRACT.md §4: GET /api/audit-logs (filters, pagination, newest first) and /stats. The table is
 * append-only (UPDATE is refused), so backdated rows are inserted with an explicit created_at.
 */
describe('API contract: audit logs', () => {
  let api: ContractSystem;
  const entity = `audit-${randomBytes(4).toString('hex')}`;
  const AuditPage = pageBody(AuditLogShape);
  /** Backdated entries of one configuration, around midnight UTC of 2013-02-10 → 11. */
  const ROWS = [
    { name: 'A1', action: 'config_updated', at: '2013-02-09T12:00:00.000Z' },
    { name: 'A2', action: 'config_updated', at: '2013-02-10T23:59:59.999Z' },
    { name: 'A3', action: 'connection_tested', at: '2013-02-11T00:00:00.000Z' },
    { name: 'A4', action: 'config_deleted', at: '2013-02-11T00:00:00.001Z' },
  ] as const;
  const idOf = new Map<string, string>();

  beforeAll(async () => {
    api = await startContractSystem();
    for (const row of ROWS) {
      const { rows } = await api.system.db.query<{ id: string }>(
        `INSERT INTO audit_logs (action_type, entity_type, entity_id, details, created_at)
         VALUES (:action, 'configuration', :entity, CAST(:details AS jsonb), CAST(:at AS timestamptz)) RETURNING id`,
        { action: row.action, entity, details: JSON.stringify({ row: row.name }), at: row.at },
      );
      idOf.set(rows[0]?.id ?? '', row.name);
    }
    // Today's entries: a sync (sync_started, sync_completed) and a connection test.
    const syncId = await api.system.startSync('Agile Project', tree(1, 0, 0, 'aud'));
    await api.system.waitForTerminal(syncId);
    expect((await api.call('GET', '/api/azure-devops/test-connection')).status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
  });

  const audits = async (query: string) => {
    const res = await api.call('GET', `/api/audit-logs?${query}`);
    expect(res.status, res.text).toBe(200);
    return expectShape(AuditPage, res.json);
  };
  const names = (page: { data: Array<{ id: string }> }) => page.data.map((a) => idOf.get(a.id) ?? a.id);
  const stats = async (query: string) => {
    const res = await api.call('GET', `/api/audit-logs/stats?${query}`);
    expect(res.status, res.text).toBe(200);
    return expectShape(okBody(AuditStatsShape), res.json).data;
  };

  it('lists an entity newest first; absent values are omitted, not null', async () => {
    const page = await audits(`entity_id=${entity}`);
    expect(names(page)).toEqual(['A4', 'A3', 'A2', 'A1']);
    expect(page.pagination).toEqual({ total: 4, limit: 50, offset: 0, has_more: false });
    const a1 = page.data[3];
    expect(a1).toMatchObject({ entity_type: 'configuration', entity_id: entity, details: { row: 'A1' } });
    expect(a1?.created_at).toBe('2013-02-09T12:00:00.000Z');
    for (const key of ['user_id', 'source_ip', 'user_agent']) expect(a1).not.toHaveProperty(key);
  });

  it.each([
    [`action_type=config_updated&entity_id=${entity}`, ['A2', 'A1']],
    [`action_type=connection_tested&entity_type=configuration&entity_id=${entity}`, ['A3']],
    [`entity_type=sync&entity_id=${entity}`, []],
    [`entity_id=${entity}-other`, []],
    ['end_date=2013-02-10', ['A2', 'A1']],
    ['end_date=2013-02-10T23:59:59.999Z', ['A2', 'A1']],
    ['end_date=2013-02-10T23:59:59.998Z', ['A1']],
    ['start_date=2013-02-10&end_date=2013-02-10', ['A2']],
    ['start_date=2013-02-11&end_date=2013-02-11', ['A4', 'A3']],
    ['start_date=2013-02-10T23:59:59.999Z&end_date=2013-02-11T00:00:00Z', ['A3', 'A2']],
    ['start_date=2013-02-11T01:00:00%2B01:00&end_date=2013-12-31', ['A4', 'A3']],
  ])('filters %s', async (query, expected) => {
    const page = await audits(query);
    expect(names(page)).toEqual(expected);
    expect(page.pagination.total).toBe(expected.length);
  });

  it('filters by action_type over every entity', async () => {
    const started = await audits('action_type=sync_started');
    expect(started.data.length).toBeGreaterThan(0);
    expect(started.data.every((a) => a.action_type === 'sync_started' && a.entity_type === 'sync')).toBe(
      true,
    );
    const byEntity = await audits('entity_type=configuration&action_type=connection_tested');
    expect(byEntity.data.every((a) => a.entity_type === 'configuration')).toBe(true);
    expect(byEntity.pagination.total).toBe(2); // A3 and today's test
  });

  it('pages by the effective limit (cap 100)', async () => {
    const first = await audits(`entity_id=${entity}&limit=3`);
    expect(names(first)).toEqual(['A4', 'A3', 'A2']);
    expect(first.pagination).toEqual({ total: 4, limit: 3, offset: 0, has_more: true });
    const last = await audits(`entity_id=${entity}&limit=3&offset=3`);
    expect(names(last)).toEqual(['A1']);
    expect(last.pagination).toEqual({ total: 4, limit: 3, offset: 3, has_more: false });
    const exact = await audits(`entity_id=${entity}&limit=2&offset=2`);
    expect(exact.pagination.has_more).toBe(false);
    const past = await audits(`entity_id=${entity}&offset=10`);
    expect(past.data).toEqual([]);
    expect(past.pagination).toEqual({ total: 4, limit: 50, offset: 10, has_more: false });
    expect((await audits(`entity_id=${entity}&limit=500`)).pagination.limit).toBe(100);
  });

  describe('GET /api/audit-logs/stats', () => {
    it('counts a window exactly, by action type, including the whole end day', async () => {
      expect(await stats('start_date=2013-02-09&end_date=2013-02-11')).toEqual({
        total_events: 4,
        events_today: 0,
        action_type_counts: { config_updated: 2, connection_tested: 1, config_deleted: 1 },
      });
      expect(await stats('start_date=2013-01-01&end_date=2013-02-10')).toEqual({
        total_events: 2,
        events_today: 0,
        action_type_counts: { config_updated: 2 },
      });
      expect(await stats('start_date=2013-02-11T00:00:00.000Z&end_date=2013-02-11T00:00:00.000Z')).toEqual({
        total_events: 1,
        events_today: 0,
        action_type_counts: { connection_tested: 1 },
      });
    });

    it('answers zeros and an empty map for an empty window', async () => {
      expect(await stats('start_date=2001-01-01&end_date=2001-01-01')).toEqual({
        total_events: 0,
        events_today: 0,
        action_type_counts: {},
      });
    });

    it("counts today's events (UTC) and agrees with the list", async () => {
      const today = new Date().toISOString().slice(0, 10);
      const all = await stats('');
      const window = await stats(`start_date=${today}&end_date=${today}`);
      expect(window.total_events).toBe(window.events_today);
      expect(all.events_today).toBe(window.events_today);
      expect(window.action_type_counts).toMatchObject({
        sync_started: 1,
        sync_completed: 1,
        connection_tested: 1,
      });
      expect(all.total_events).toBe((await audits('limit=1')).pagination.total);
      for (const [action, n] of Object.entries(all.action_type_counts)) {
        expect((await audits(`action_type=${action}&limit=1`)).pagination.total, action).toBe(n);
      }
    });
  });
});
