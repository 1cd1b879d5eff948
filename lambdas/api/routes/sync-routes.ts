import * as z from 'zod';
import { SyncHistory } from '#core/domain/sync-history-view.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { PipelineDeps } from '#core/pipeline/deps.ts';
import { cancelSync } from '#core/pipeline/finalize.ts';
import { checkManagedWorkItems } from '#core/pipeline/managed-items.ts';
import {
  ProcessTemplateName,
  ProjectName,
  StartSyncBody,
  StartSyncQuery,
  startSync,
} from '#core/pipeline/start-sync.ts';
import { getSync } from '#store/sync/sync-rows.ts';
import { ok as okBody, parseJsonBody } from '../http.ts';
import type { ApiRequest, RouteDef } from '../router.ts';
import { errors, ok, SyncIdParams } from '../schemas.ts';
import { SSE_HEADERS, type StreamResult, type TailOptions, tailEvents } from '../sse.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id cannot name a sync: 404, like any unknown id. */
export function syncIdParam(params: Record<string, string>): string {
  const id = params.id ?? '';
  if (!UUID.test(id)) throw new NotFoundError(`Sync ${id} not found`);
  return id;
}

const ProjectParams = z.object({ project: ProjectName });
const CheckQuery = z.object({
  configId: z
    .string()
    .optional()
    .meta({ description: 'Azure DevOps configuration id (default: the active configuration)' }),
  processTemplateTemplateName: ProcessTemplateName.optional().meta({
    description:
      'Process of the project when known (Agile, Scrum, CMMI or Basic): saves discovering its work item types; any other value is ignored',
  }),
});
const EventsQuery = z.object({
  lastEventId: z
    .string()
    .regex(/^\d{1,9}$/)
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
const sseResponse = {
  description:
    'Server-sent events: `id: <seq>`, `event: <name>`, `data: {"type","data"}` frames, `: ping` heartbeats, closed after sync:complete, sync:error or sync:cancelled',
  contentType: 'text/event-stream',
};

function lastEventId(request: ApiRequest): number {
  const raw = request.header('last-event-id') ?? request.query.lastEventId;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new ValidationError('Last-Event-ID must be a whole number', [
      { path: 'Last-Event-ID', message: 'not a whole number' },
    ]);
  }
  return Number(raw);
}

function stream(deps: PipelineDeps, syncId: string, after: number, tail?: TailOptions): StreamResult {
  return {
    kind: 'stream',
    statusCode: 200,
    headers: SSE_HEADERS,
    pump: (sink) => tailEvents(deps.db, syncId, after, sink, tail),
  };
}

/** Routes that start, watch and cancel syncs (CONTRACT.md §2, §3, §5). */
export function syncRoutes(deps: PipelineDeps, tail?: TailOptions): RouteDef[] {
  return [
    {
      method: 'POST',
      path: '/api/azure-devops/projects/:project/workitems',
      summary:
        'Start a sync of an Epic → Feature → User Story tree (JSON 202, or SSE with Accept: text/event-stream)',
      tag: 'sync',
      params: ProjectParams,
      query: StartSyncQuery,
      body: StartSyncBody,
      responses: { 200: sseResponse, 202: { description: 'Accepted', schema: StartSyncAccepted }, ...errors },
      handler: async (request) => {
        const result = await startSync(
          {
            project: request.params.project ?? '',
            query: request.query,
            body: parseJsonBody(request.event),
            actor: request.actor,
          },
          deps,
        );
        if ((request.header('accept') ?? '').includes('text/event-stream')) {
          return stream(deps, result.sync_history_id, 0, tail);
        }
        return okBody(result, 202);
      },
    },
    {
      method: 'GET',
      path: '/api/azure-devops/projects/:project/workitems/check',
      summary: 'The work items overwrite mode would delete (only those this service created)',
      tag: 'sync',
      params: ProjectParams,
      query: CheckQuery,
      responses: { 200: { description: 'Managed work items', schema: CheckResult }, ...errors },
      handler: async ({ params, query }) => {
        const hint = ProcessTemplateName.safeParse(query.processTemplateTemplateName);
        return okBody(
          await checkManagedWorkItems(
            params.project ?? '',
            query.configId,
            deps,
            hint.success ? hint.data : undefined,
          ),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/sync-history/:id',
      summary: 'One sync with its counters',
      tag: 'history',
      params: SyncIdParams,
      responses: { 200: { description: 'The sync', schema: ok(SyncHistory) }, ...errors },
      handler: async ({ params }) => okBody((await getSync(deps.db, syncIdParam(params))).view),
    },
    {
      method: 'POST',
      path: '/api/sync-history/:id/cancel',
      summary: 'Cancel a pending or running sync',
      tag: 'sync',
      params: SyncIdParams,
      responses: {
        200: {
          description:
            'The sync, `cancelled` with its final numbers once the creates already sent to Azure DevOps are recorded (the answer waits for that, typically well under 2 s). If they are still finishing when the wait ends, the sync is answered as it is (`pending` or `in_progress`) with `cancel_requested_at` set, and `message` says so; it becomes `cancelled` by itself, with its `sync:cancelled` event.',
          schema: ok(SyncHistory).extend({ message: z.string() }),
        },
        409: { description: 'Already finished', schema: errors[400].schema },
        ...errors,
      },
      handler: async ({ params, actor }) => {
        const { view, final } = await cancelSync(syncIdParam(params), actor, deps);
        return okBody(view, 200, {
          message: final
            ? 'Sync cancelled'
            : 'Cancellation requested: the work items already being created are finishing; the sync becomes cancelled once they are recorded',
        });
      },
    },
    {
      method: 'GET',
      path: '/api/sync-history/:id/events',
      summary: 'Stream a sync’s events from the start, or after the Last-Event-ID header, following it live',
      tag: 'sync',
      params: SyncIdParams,
      query: EventsQuery,
      responses: { 200: sseResponse, ...errors },
      handler: async (request) => {
        const id = syncIdParam(request.params);
        await getSync(deps.db, id); // 404 before the stream starts
        return stream(deps, id, lastEventId(request), tail);
      },
    },
  ];
}
