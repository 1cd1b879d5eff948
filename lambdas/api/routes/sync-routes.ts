import * as z from 'zod';
import { SyncHistory } from '#core/domain/sync-history-view.ts';
import {
  ProcessTemplateName,
  ProjectName,
  StartSyncBody,
  StartSyncQuery,
} from '#core/domain/sync-request.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import { cancelSync } from '#core/pipeline/cancel.ts';
import { checkManagedWorkItems } from '#core/pipeline/managed-items.ts';
import { startSync } from '#core/pipeline/start-sync.ts';
import type { ApiDeps, StreamDeps } from '../deps.ts';
import { route } from '../route.ts';
import { ErrorBody, ok } from '../schemas.ts';
import { SSE_HEADERS, type StreamResult, tailEvents } from '../sse.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A sync id. Documented as a UUID; any other value names no sync, so the route answers 404. */
export const SyncIdParams = z.object({
  id: z.string().max(255).meta({
    format: 'uuid',
    description: 'Sync id (`sync_history_id`, a UUID); any other value names no sync: 404',
  }),
});

/** A malformed id cannot name a sync: 404, like any unknown id. */
export function syncId(id: string): string {
  if (!UUID.test(id)) throw new NotFoundError(`Sync ${id} not found`);
  return id;
}

const ProjectParams = z.object({ project: ProjectName });
const CheckQuery = z.object({
  configId: z
    .string()
    .max(255)
    .optional()
    .meta({ description: 'Azure DevOps configuration id (default: the active configuration)' }),
  processTemplateTemplateName: z
    .string()
    .optional()
    .transform((value) => ProcessTemplateName.safeParse(value).data)
    .meta({
      description:
        'Process of the project when known (Agile, Scrum, CMMI or Basic): saves discovering its work item types; any other value is ignored',
    }),
});
const EventsQuery = z.object({
  lastEventId: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .optional()
    .meta({
      description: 'Same as the Last-Event-ID header (the header wins): stream the events after this id',
    }),
});
const StartSyncAccepted = ok(
  z.object({ sync_history_id: z.uuid(), status: z.literal('pending'), events_url: z.string() }),
);
const CheckResult = ok(
  z.object({ hasWorkItems: z.boolean(), count: z.number().int(), workItemIds: z.array(z.number().int()) }),
);
const SSE = {
  description:
    'Server-sent events: `id: <seq>`, `event: <name>`, `data: {"type","data"}` frames, `: ping` heartbeats, closed after sync:complete, sync:error or sync:cancelled. The progress events (each item’s `*:created` / `*:failed`, and the final event) also carry the sync’s `throttled_ms` (integer) and `eta_seconds` (integer, or null while the sync is pending or has no outcome yet; 0 in the final event), as the history row shows them when the frame is sent',
  contentType: 'text/event-stream',
};

function lastEventId(header: string | undefined, query: string | undefined): number {
  const raw = header ?? query;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new ValidationError('Last-Event-ID must be a whole number', [
      { path: 'Last-Event-ID', message: 'not a whole number' },
    ]);
  }
  return Number(raw);
}

function stream(deps: StreamDeps, id: string, after: number): StreamResult {
  return {
    kind: 'stream',
    statusCode: 200,
    headers: SSE_HEADERS,
    pump: (sink) => tailEvents(deps.syncs, id, after, sink, deps.tail),
  };
}

const streamRoute = route<StreamDeps>();
const apiRoute = route<ApiDeps>();

/** The routes the response-streaming function serves (CONTRACT.md §2, §3). */
export const streamRoutes = [
  streamRoute({
    method: 'POST',
    path: '/api/azure-devops/projects/:project/workitems',
    summary:
      'Start a sync of an Epic → Feature → User Story tree (JSON 202, or SSE with Accept: text/event-stream)',
    tag: 'sync',
    permission: 'user',
    stream: true,
    params: ProjectParams,
    query: StartSyncQuery,
    body: StartSyncBody,
    answer: {
      status: 202,
      description: 'Accepted: the sync is written and runs on',
      schema: StartSyncAccepted,
    },
    responses: {
      200: SSE,
      409: { description: 'The configuration has not passed its connection test', schema: ErrorBody },
    },
    handler: async ({ params, query, body, actor, header }, deps) => {
      const result = await startSync(
        {
          project: params.project,
          configId: query.configId,
          overwrite: query.overwrite === 'true',
          sourceConfigId: query.sourceConfigId,
          body,
          actor,
        },
        deps,
      );
      if ((header('accept') ?? '').includes('text/event-stream'))
        return stream(deps, result.sync_history_id, 0);
      return { success: true as const, data: result };
    },
  }),
  streamRoute({
    method: 'GET',
    path: '/api/sync-history/:id/events',
    summary: 'Stream a sync’s events from the start, or after the Last-Event-ID header, following it live',
    tag: 'sync',
    permission: 'user',
    stream: true,
    params: SyncIdParams,
    query: EventsQuery,
    answer: { status: 200, description: SSE.description, schema: z.never() },
    responses: { 200: SSE },
    handler: async ({ params, query, header }, deps) => {
      const id = syncId(params.id);
      await deps.syncs.get(id); // 404 before the stream starts
      return stream(deps, id, lastEventId(header('last-event-id'), query.lastEventId));
    },
  }),
];

/** The buffered sync routes (CONTRACT.md §2, §4, §5). */
export const syncRoutes = [
  apiRoute({
    method: 'GET',
    path: '/api/azure-devops/projects/:project/workitems/check',
    summary: 'The work items overwrite mode would delete (only those this service created)',
    tag: 'sync',
    permission: 'user',
    params: ProjectParams,
    query: CheckQuery,
    answer: { status: 200, description: 'Managed work items', schema: CheckResult },
    handler: async ({ params, query }, deps) => ({
      success: true as const,
      data: await checkManagedWorkItems(
        params.project,
        query.configId,
        deps,
        query.processTemplateTemplateName,
      ),
    }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/sync-history/:id',
    summary: 'One sync with its counters',
    tag: 'history',
    permission: 'user',
    params: SyncIdParams,
    answer: { status: 200, description: 'The sync', schema: ok(SyncHistory) },
    handler: async ({ params }, deps) => ({
      success: true as const,
      data: await deps.syncs.view(syncId(params.id)),
    }),
  }),
  apiRoute({
    method: 'POST',
    path: '/api/sync-history/:id/cancel',
    summary: 'Cancel a pending or running sync',
    tag: 'sync',
    permission: 'user',
    params: SyncIdParams,
    answer: {
      status: 200,
      description:
        'The sync, `cancelled` with its final numbers once the creates already sent to Azure DevOps are recorded (the answer waits for that, typically well under 2 s). If they are still finishing when the wait ends, the sync is answered as it is (`pending` or `in_progress`) with `cancel_requested_at` set, and `message` says so; it becomes `cancelled` by itself, with its `sync:cancelled` event.',
      schema: ok(SyncHistory).extend({ message: z.string() }),
    },
    responses: { 409: { description: 'Already finished, or failing', schema: ErrorBody } },
    handler: async ({ params, actor }, deps) => {
      const { view, final } = await cancelSync(syncId(params.id), actor, deps);
      return {
        success: true as const,
        data: view,
        message: final
          ? 'Sync cancelled'
          : 'Cancellation requested: the work items already being created are finishing; the sync becomes cancelled once they are recorded',
      };
    },
  }),
];
