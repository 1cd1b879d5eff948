import { AuditLog } from '#core/domain/audit.ts';
import { AuditStats, SyncStats } from '#core/domain/history.ts';
import { AuditLogQuery, StatsQuery, SyncHistoryQuery, SyncItemsQuery } from '#core/domain/history-filters.ts';
import { SyncHistory, SyncHistoryItem } from '#core/domain/sync-history-view.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import { ok, page } from '../schemas.ts';
import { SyncIdParams, syncId } from './sync-routes.ts';

const apiRoute = route<ApiDeps>();

/** History and audit queries (CONTRACT.md §4); static paths before `/:id`. */
export const historyRoutes = [
  apiRoute({
    method: 'GET',
    path: '/api/sync-history',
    summary: 'Syncs, newest first, filtered and paginated',
    tag: 'history',
    permission: 'user',
    query: SyncHistoryQuery,
    answer: { status: 200, description: 'A page of syncs', schema: page(SyncHistory) },
    handler: async ({ query }, deps) => ({ success: true as const, ...(await deps.history.syncs(query)) }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/sync-history/stats',
    summary: 'Sync statistics over a date range (computed in SQL)',
    tag: 'history',
    permission: 'user',
    query: StatsQuery,
    answer: { status: 200, description: 'Statistics', schema: ok(SyncStats) },
    handler: async ({ query }, deps) => ({
      success: true as const,
      data: await deps.history.syncStats(query),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/sync-history/:id/items',
    summary:
      'The item outcomes of one sync in plan order (parents before children, stable), filtered and paginated: 1,000 per page by default, at most 5,000',
    tag: 'history',
    permission: 'user',
    params: SyncIdParams,
    query: SyncItemsQuery,
    answer: { status: 200, description: 'A page of items, in plan order', schema: page(SyncHistoryItem) },
    handler: async ({ params, query }, deps) => ({
      success: true as const,
      ...(await deps.history.items(syncId(params.id), query)),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/audit-logs',
    summary: 'Audit log entries, newest first, filtered and paginated',
    tag: 'audit',
    permission: 'user',
    query: AuditLogQuery,
    answer: { status: 200, description: 'A page of audit log entries', schema: page(AuditLog) },
    handler: async ({ query }, deps) => ({
      success: true as const,
      ...(await deps.history.auditLogs(query)),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/audit-logs/stats',
    summary: 'Audit log statistics over a date range (computed in SQL)',
    tag: 'audit',
    permission: 'user',
    query: StatsQuery,
    answer: { status: 200, description: 'Statistics', schema: ok(AuditStats) },
    handler: async ({ query }, deps) => ({
      success: true as const,
      data: await deps.history.auditStats(query),
    }),
  }),
];
