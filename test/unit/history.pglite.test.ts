import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import {
  AuditLogPage,
  AuditStats,
  SyncHistoryItemPage,
  SyncHistoryPage,
  SyncStats,
} from '#core/domain/history.ts';
import {
  AuditLogQuery,
  parseQuery,
  type RawQuery,
  StatsQuery,
  SyncHistoryQuery,
  SyncItemsQuery,
} from '#core/domain/history-filters.ts';
import { SyncHistory } from '#core/domain/sync-history-view.ts';
import { ValidationError } from '#core/errors.ts';
import { describeHistoryContract } from '#test/support/history-contract.ts';

describeHistoryContract('PGlite', async () => {
  const db = await PgliteDatabase.create();
  return { db, teardown: () => db.close() };
});

const ROUTES = {
  'GET /api/sync-history': SyncHistoryQuery,
  'GET /api/sync-history/:id/items': SyncItemsQuery,
  'GET /api/audit-logs': AuditLogQuery,
  'GET /api/*/stats': StatsQuery,
} as const;
type Route = keyof typeof ROUTES;

const BAD_DATES = [
  '2026-02-30',
  '2026-02-29',
  '2026-13-01',
  '2026-3-1',
  '01/03/2026',
  '2026-03-01T10:00:00',
  '2026-03-01T10:00Z',
  '2026-03-01T25:00:00Z',
  '2026-03-01 10:00:00Z',
  '0000-01-01',
  'yesterday',
  "2026-03-01' OR '1'='1",
  '',
];

const invalid: Array<[Route, string, string]> = [
  ...(['GET /api/sync-history', 'GET /api/sync-history/:id/items', 'GET /api/audit-logs'] as const).flatMap(
    (route): Array<[Route, string, string]> => [
      ...['abc', '-1', '1.5', '0', '000', '', ' 5', '1e3', '+5', '0x10'].map((v): [Route, string, string] => [
        route,
        'limit',
        v,
      ]),
      ...['abc', '-1', '1.5', '', '10000001', '1e3'].map((v): [Route, string, string] => [
        route,
        'offset',
        v,
      ]),
    ],
  ),
  ...['done', 'COMPLETED', '', "completed' OR '1'='1"].map((v): [Route, string, string] => [
    'GET /api/sync-history',
    'status',
    v,
  ]),
  ['GET /api/sync-history', 'source_type', 'jira'],
  ['GET /api/sync-history', 'source_type', ''],
  ['GET /api/sync-history', 'target_type', 'github'],
  ['GET /api/sync-history', 'project_name', ''],
  ['GET /api/sync-history', 'project_name', 'x'.repeat(256)],
  ['GET /api/sync-history/:id/items', 'status', 'pending'],
  ['GET /api/sync-history/:id/items', 'item_type', 'bug'],
  ['GET /api/sync-history/:id/items', 'item_type', 'User Story'],
  ['GET /api/audit-logs', 'action_type', 'sync_deleted'],
  ['GET /api/audit-logs', 'entity_type', 'user'],
  ['GET /api/audit-logs', 'entity_id', ''],
  ['GET /api/audit-logs', 'entity_id', 'x'.repeat(256)],
  ...(['GET /api/sync-history', 'GET /api/audit-logs', 'GET /api/*/stats'] as const).flatMap((route) =>
    ['start_date', 'end_date'].flatMap((param) =>
      BAD_DATES.map((v): [Route, string, string] => [route, param, v]),
    ),
  ),
];

describe('query parameters of the read routes', () => {
  it.each(invalid)('%s rejects %s=%j with a 400 naming it', (route, param, value) => {
    const error = (() => {
      try {
        parseQuery(ROUTES[route], { [param]: value });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ path: param, message: expect.any(String) }]);
    expect((error as ValidationError).message).toContain(param);
  });

  it.each<[Route, RawQuery]>([
    ['GET /api/sync-history', { start_date: '2026-03-02', end_date: '2026-03-01' }],
    ['GET /api/audit-logs', { start_date: '2026-03-01T00:00:00.001Z', end_date: '2026-03-01T00:00:00Z' }],
    ['GET /api/*/stats', { start_date: '2026-03-02T00:00:00Z', end_date: '2026-03-01' }],
    ['GET /api/*/stats', { start_date: '2026-03-02T00:30:00+01:00', end_date: '2026-03-01T23:00:00Z' }],
  ])('%s rejects a start_date after the end_date: %j', (route, query) => {
    expect(() => parseQuery(ROUTES[route], query)).toThrow(
      expect.objectContaining({ details: [{ path: 'start_date', message: 'must not be after end_date' }] }),
    );
  });

  it('names every bad parameter once', () => {
    expect(() =>
      parseQuery(SyncHistoryQuery, { limit: 'x', status: 'y', end_date: 'z', start_date: 'w' }),
    ).toThrow(
      expect.objectContaining({
        details: ['limit', 'status', 'start_date', 'end_date'].map((path) => ({
          path,
          message: expect.any(String),
        })),
      }),
    );
  });

  it('applies the defaults and ignores unknown parameters', () => {
    const none = { from: undefined, before: undefined, until: undefined };
    expect(parseQuery(SyncHistoryQuery, { page: '2', sort: 'asc', limit: undefined })).toEqual({
      limit: 50,
      offset: 0,
      status: undefined,
      sourceType: undefined,
      targetType: undefined,
      projectName: undefined,
      createdAt: none,
    });
    expect(parseQuery(SyncItemsQuery, null)).toEqual({
      limit: 1000,
      offset: 0,
      status: undefined,
      itemType: undefined,
    });
    expect(parseQuery(AuditLogQuery, {})).toMatchObject({ limit: 50, offset: 0, createdAt: none });
    expect(parseQuery(StatsQuery, undefined)).toEqual(none);
  });

  it.each<[Route, string, number]>([
    ['GET /api/sync-history', '1', 1],
    ['GET /api/sync-history', '007', 7],
    ['GET /api/sync-history', '100', 100],
    ['GET /api/sync-history', '101', 100],
    ['GET /api/sync-history', '99999999999999999999999999', 100],
    ['GET /api/audit-logs', '101', 100],
    ['GET /api/sync-history/:id/items', '500', 500],
    ['GET /api/sync-history/:id/items', '1000', 1000],
    ['GET /api/sync-history/:id/items', '5000', 5000],
    ['GET /api/sync-history/:id/items', '5001', 5000],
    ['GET /api/sync-history/:id/items', '99999999999999999999999999', 5000],
  ])('%s takes limit=%s as %i (capped, not refused)', (route, limit, expected) => {
    expect(parseQuery(ROUTES[route], { limit })).toMatchObject({ limit: expected });
  });

  it('accepts offsets up to 10,000,000', () => {
    expect(parseQuery(SyncHistoryQuery, { offset: '10000000' }).offset).toBe(10_000_000);
  });

  it('passes the filters through under their own names', () => {
    expect(
      parseQuery(SyncHistoryQuery, {
        status: 'cancelled',
        source_type: 'ardoq',
        target_type: 'azure-devops',
        project_name: ' 100%_x ',
      }),
    ).toMatchObject({
      status: 'cancelled',
      sourceType: 'ardoq',
      targetType: 'azure-devops',
      projectName: ' 100%_x ',
    });
    expect(parseQuery(SyncItemsQuery, { status: 'skipped', item_type: 'user_story' })).toMatchObject({
      status: 'skipped',
      itemType: 'user_story',
    });
    expect(
      parseQuery(AuditLogQuery, {
        action_type: 'config_activated',
        entity_type: 'configuration',
        entity_id: 'cfg-1',
      }),
    ).toMatchObject({ actionType: 'config_activated', entityType: 'configuration', entityId: 'cfg-1' });
  });

  it.each<[RawQuery, Record<string, string | undefined>]>([
    [{ start_date: '2026-03-01' }, { from: '2026-03-01T00:00:00Z' }],
    [{ end_date: '2026-03-01' }, { before: '2026-03-02T00:00:00Z' }],
    [{ end_date: '2024-02-29' }, { before: '2024-03-01T00:00:00Z' }],
    [{ end_date: '2026-12-31' }, { before: '2027-01-01T00:00:00Z' }],
    [{ end_date: '9999-12-31' }, { before: '10000-01-01T00:00:00Z' }],
    [{ end_date: '2026-03-01T23:59:59.999999Z' }, { until: '2026-03-01T23:59:59.999999Z' }],
    [
      { start_date: '2026-03-01T10:00:00+02:00', end_date: '2026-03-01' },
      { from: '2026-03-01T10:00:00+02:00', before: '2026-03-02T00:00:00Z' },
    ],
    [
      { start_date: '2026-03-01', end_date: '2026-03-01' },
      { from: '2026-03-01T00:00:00Z', before: '2026-03-02T00:00:00Z' },
    ],
    [
      { start_date: '2026-03-01T23:59:59.999Z', end_date: '2026-03-01' },
      { from: '2026-03-01T23:59:59.999Z', before: '2026-03-02T00:00:00Z' },
    ],
    [
      { start_date: '2026-03-01T10:00:00Z', end_date: '2026-03-01T10:00:00Z' },
      { from: '2026-03-01T10:00:00Z', until: '2026-03-01T10:00:00Z' },
    ],
  ])('turns %j into the created_at window %j', (query, range) => {
    expect(parseQuery(StatsQuery, query)).toEqual({
      from: undefined,
      before: undefined,
      until: undefined,
      ...range,
    });
  });

  it('documents every parameter and response for the OpenAPI document', () => {
    const params = z.toJSONSchema(SyncHistoryQuery, { io: 'input' });
    expect(Object.keys(params.properties ?? {})).toEqual([
      'limit',
      'offset',
      'status',
      'source_type',
      'target_type',
      'project_name',
      'start_date',
      'end_date',
    ]);
    for (const schema of [SyncItemsQuery, AuditLogQuery, StatsQuery]) {
      expect(() => z.toJSONSchema(schema, { io: 'input' })).not.toThrow();
    }
    for (const schema of [SyncHistoryPage, SyncHistoryItemPage, AuditLogPage, SyncStats, AuditStats]) {
      expect(() => z.toJSONSchema(schema)).not.toThrow();
    }
  });

  it('documents the item page: plan order, 1,000 per page by default, at most 5,000', () => {
    const params = z.toJSONSchema(SyncItemsQuery, { io: 'input' }).properties as Record<
      string,
      { description?: string; default?: unknown }
    >;
    expect(params.limit).toMatchObject({
      default: '1000',
      description: expect.stringMatching(/default 1000, at most 5000 \(larger values are capped/),
    });
    for (const name of ['offset', 'status', 'item_type']) {
      expect(params[name]?.description, name).toMatch(/plan order/);
    }
  });

  it('describes every per-type number and cancel_requested_at of SyncHistory', () => {
    const fields = z.toJSONSchema(SyncHistory).properties as Record<string, { description?: string }>;
    for (const type of ['epics', 'features', 'user_stories']) {
      expect(fields[`${type}_failed`]?.description).toMatch(/failed ones and the skipped ones/);
      expect(fields[`${type}_failed`]?.description).toMatch(/created \+ failed = total/);
      expect(fields[`${type}_skipped`]?.description).toMatch(/never attempted/);
      expect(fields[`${type}_total`]?.description).toMatch(/requested/);
    }
    expect(fields.items_failed?.description).toMatch(/skipped items are not in it/);
    expect(fields.items_skipped?.description).toMatch(/not counted in items_failed/);
    expect(fields.cancel_requested_at?.description).toMatch(/pending or in_progress/);
  });
});
