import {
  AuditLogQuery,
  parseQuery,
  StatsQuery,
  SyncHistoryQuery,
  SyncItemsQuery,
} from '#core/domain/history-filters.ts';
import { SyncHistory, SyncHistoryItem } from '#core/domain/sync-history-view.ts';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { AuditLog } from '#store/audit-log-store.ts';
import {
  AuditStats,
  auditStats,
  listAuditLogs,
  listSyncItems,
  listSyncs,
  SyncStats,
  syncStats,
} from '#store/history/history-store.ts';
import { json, ok as okBody } from '../http.ts';
import type { RouteDef } from '../router.ts';
import { errors, ok, page, SyncIdParams } from '../schemas.ts';
import { syncIdParam } from './sync-routes.ts';

/** The list envelope (CONTRACT.md §1): `{ success, data, pagination }`. */
const list = (result: { data: unknown[]; pagination: unknown }) => json(200, { success: true, ...result });

/** History and audit queries (CONTRACT.md §4); static paths before `/:id`. */
export function historyRoutes(deps: PipelineDeps): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/api/sync-history',
      summary: 'Syncs, newest first, filtered and paginated',
      tag: 'history',
      query: SyncHistoryQuery,
      responses: { 200: { description: 'A page of syncs', schema: page(SyncHistory) }, ...errors },
      handler: async ({ query }) => list(await listSyncs(deps.db, parseQuery(SyncHistoryQuery, query))),
    },
    {
      method: 'GET',
      path: '/api/sync-history/stats',
      summary: 'Sync statistics over a date range (computed in SQL)',
      tag: 'history',
      query: StatsQuery,
      responses: { 200: { description: 'Statistics', schema: ok(SyncStats) }, ...errors },
      handler: async ({ query }) => okBody(await syncStats(deps.db, parseQuery(StatsQuery, query))),
    },
    {
      method: 'GET',
      path: '/api/sync-history/:id/items',
      summary:
        'The item outcomes of one sync in plan order (parents before children, stable), filtered and paginated: 1,000 per page by default, at most 5,000',
      tag: 'history',
      params: SyncIdParams,
      query: SyncItemsQuery,
      responses: {
        200: { description: 'A page of items, in plan order', schema: page(SyncHistoryItem) },
        ...errors,
      },
      handler: async ({ params, query }) =>
        list(await listSyncItems(deps.db, syncIdParam(params), parseQuery(SyncItemsQuery, query))),
    },
    {
      method: 'GET',
      path: '/api/audit-logs',
      summary: 'Audit log entries, newest first, filtered and paginated',
      tag: 'audit',
      query: AuditLogQuery,
      responses: { 200: { description: 'A page of audit log entries', schema: page(AuditLog) }, ...errors },
      handler: async ({ query }) => list(await listAuditLogs(deps.db, parseQuery(AuditLogQuery, query))),
    },
    {
      method: 'GET',
      path: '/api/audit-logs/stats',
      summary: 'Audit log statistics over a date range (computed in SQL)',
      tag: 'audit',
      query: StatsQuery,
      responses: { 200: { description: 'Statistics', schema: ok(AuditStats) }, ...errors },
      handler: async ({ query }) => okBody(await auditStats(deps.db, parseQuery(StatsQuery, query))),
    },
  ];
}
