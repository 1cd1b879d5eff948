import * as z from 'zod';

/**
 * CONTRACT.md's response shapes, written again from the contract (not imported from production), all
 * strict: an unexpected, missing or `null` key fails the parse. Optional keys may only be omitted.
 */

export const IsoUtc = z.iso.datetime();
const count = z.number().int().nonnegative();
const text = z.string().min(1);

export const ErrorBody = z
  .object({
    success: z.literal(false),
    error: text,
    details: z
      .array(z.object({ path: z.string(), message: text }).strict())
      .min(1)
      .optional(),
  })
  .strict();
export type ErrorBody = z.infer<typeof ErrorBody>;

export const okBody = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data }).strict();

export const PaginationShape = z
  .object({ total: count, limit: count.positive(), offset: count, has_more: z.boolean() })
  .strict();

export const pageBody = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), pagination: PaginationShape }).strict();

export const SyncHistoryShape = z
  .object({
    id: z.uuid(),
    source_type: z.literal('ardoq'),
    source_config_id: text.optional(),
    target_type: z.literal('azure-devops'),
    target_config_id: text.optional(),
    project_name: text,
    status: z.enum(['pending', 'in_progress', 'completed', 'failed', 'cancelled']),
    overwrite_mode: z.boolean(),
    total_items: count,
    items_created: count,
    items_failed: count,
    items_skipped: count,
    // Per type, created / (created + failed) is what the frontend shows: failed counts every node of
    // the type not created (skipped included), so created + failed = total once terminal. New: total
    // and skipped (the never attempted part of failed).
    epics_total: count,
    epics_created: count,
    epics_failed: count,
    epics_skipped: count,
    features_total: count,
    features_created: count,
    features_failed: count,
    features_skipped: count,
    user_stories_total: count,
    user_stories_created: count,
    user_stories_failed: count,
    user_stories_skipped: count,
    deletion_count: count,
    started_at: IsoUtc,
    completed_at: IsoUtc.optional(),
    duration_ms: count.optional(),
    /** New: ms the sync waited because Azure DevOps throttled it; always present, 0 included. */
    throttled_ms: count,
    /**
     * New: seconds left, estimated from the measured rate; always present: null while pending or
     * in_progress without an outcome yet, 0 once terminal.
     */
    eta_seconds: count.nullable(),
    error_message: text.optional(),
    user_id: text.optional(),
    /** New: a cancel was accepted (the status stays open until creates in flight have finished). */
    cancel_requested_at: IsoUtc.optional(),
    /**
     * New (issue 17): the mapping the sync applies, frozen when accepted (or, with no choice, when
     * prepared): a configuration, a template, or the template of the project's process.
     */
    field_mapping: z
      .object({
        kind: z.enum(['config', 'template', 'default']),
        id: text.optional(),
        name: text,
        processTemplateName: z.enum(['Agile', 'Scrum', 'CMMI', 'Basic']).optional(),
      })
      .strict()
      .optional(),
    /** New (issue 17): the project's GUID once the prepare step resolved it. */
    project_id: z.uuid().optional(),
    created_at: IsoUtc,
    updated_at: IsoUtc,
  })
  .strict();
export type SyncHistoryShape = z.infer<typeof SyncHistoryShape>;

/**
 * `POST /api/sync-history/{id}/cancel` (CONTRACT.md §5): the sync, and (new) `message`, a sentence saying
 * whether it is cancelled or still finishing the creates in flight (then `cancel_requested_at` is set).
 */
export const CancelBody = z
  .object({ success: z.literal(true), data: SyncHistoryShape, message: text })
  .strict();

/** The IdentityRef of System.ChangedBy (CONTRACT.md §4). */
export const IdentityRefShape = z
  .object({
    displayName: text,
    uniqueName: text,
    id: text,
    url: z.url(),
    imageUrl: z.url(),
    descriptor: text,
    _links: z.object({ avatar: z.object({ href: z.url() }).strict() }).strict(),
  })
  .strict();

export const SyncHistoryItemShape = z
  .object({
    id: z.uuid(),
    sync_history_id: z.uuid(),
    ardoq_id: text,
    item_name: text,
    item_type: z.enum(['epic', 'feature', 'user_story']),
    status: z.enum(['created', 'failed', 'skipped']),
    azure_devops_id: z.number().int().positive().optional(),
    azure_devops_url: z.url().optional(),
    error_message: text.optional(),
    changed_by_user: IdentityRefShape.optional(),
    created_at: IsoUtc,
  })
  .strict();
export type SyncHistoryItemShape = z.infer<typeof SyncHistoryItemShape>;

export const AuditActionTypes = [
  'sync_started',
  'sync_completed',
  'sync_failed',
  'sync_cancelled',
  'config_created',
  'config_updated',
  'config_deleted',
  'config_activated',
  'connection_tested',
  // Ours (issue 15): a plain user's refused configuration write. The frontend shows an unknown type by its
  // name (AuditLogTable falls back to action_type).
  'access_denied',
] as const;

export const AuditLogShape = z
  .object({
    id: z.uuid(),
    action_type: z.enum(AuditActionTypes),
    entity_type: z.enum(['sync', 'configuration']),
    entity_id: text.optional(),
    user_id: text.optional(),
    source_ip: text.optional(),
    user_agent: text.optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    created_at: IsoUtc,
  })
  .strict();
export type AuditLogShape = z.infer<typeof AuditLogShape>;

export const SyncStatsShape = z
  .object({
    total_syncs: count,
    completed_syncs: count,
    failed_syncs: count,
    cancelled_syncs: count,
    success_rate: z.number().min(0).max(100),
    average_duration_ms: count,
    total_items_created: count,
    total_items_failed: count,
  })
  .strict();

export const AuditStatsShape = z
  .object({
    total_events: count,
    events_today: count,
    action_type_counts: z.partialRecord(z.enum(AuditActionTypes), count.positive()),
  })
  .strict();

export const ConfigurationShape = z
  .object({
    id: text,
    name: text,
    organization: text,
    isActive: z.boolean(),
    isTested: z.boolean(),
    testPassed: z.boolean(),
    testError: text.optional(),
    createdAt: IsoUtc,
    updatedAt: IsoUtc,
  })
  .strict();
export type ConfigurationShape = z.infer<typeof ConfigurationShape>;

export const TestResultShape = z
  .object({ success: z.boolean(), message: text, projectCount: count.optional() })
  .strict();

export const StartAcceptedBody = okBody(
  z.object({ sync_history_id: z.uuid(), status: z.literal('pending'), events_url: text }).strict(),
);

export const CheckBody = okBody(
  z
    .object({
      hasWorkItems: z.boolean(),
      count,
      workItemIds: z.array(z.number().int().positive()),
    })
    .strict(),
);

// ---- SSE event data (CONTRACT.md §3) ----

const byLevel = z.object({ total: count, created: count, failed: count }).strict();
export const SummaryShape = z
  .object({
    total: count,
    created: count,
    failed: count,
    skipped: count,
    epics: byLevel,
    features: byLevel,
    userStories: byLevel,
  })
  .strict();
export type SummaryShape = z.infer<typeof SummaryShape>;

/**
 * New on the progress events (each item outcome and the final event): the sync's throttled time and
 * its estimate of the seconds left when the frame was sent (null: the sync is pending, e.g. skipping
 * its nodes on a cancel; 0 once terminal).
 */
const progress = { throttled_ms: count, eta_seconds: count.nullable() };
const finalProgress = { throttled_ms: count, eta_seconds: z.literal(0) };
const created = z
  .object({
    ardoqId: text,
    name: text,
    azureDevOpsId: z.number().int().positive(),
    azureDevOpsUrl: z.url(),
    timestamp: IsoUtc,
    ...progress,
  })
  .strict();
const failed = z.object({ ardoqId: text, name: text, error: text, timestamp: IsoUtc, ...progress }).strict();
const message = z.object({ message: text, timestamp: IsoUtc }).strict();

/**
 * Every event name the stream may carry, with its exact data. Additions over CONTRACT.md, named so a
 * reviewer sees them: `sync:started` (DESIGN.md §3: every state change writes its event),
 * `overwrite:progress.deletedIds` (DESIGN.md §5: deleted ids recorded for restoring),
 * `sync:error.summary` and `sync:cancelled.summary` (a failed or cancelled sync still reports its final
 * counts), `throttled_ms` and `eta_seconds` on the item and final events.
 */
export const EventData = {
  'sync:accepted': z
    .object({ syncHistoryId: z.uuid(), totalItems: count.positive(), timestamp: IsoUtc })
    .strict(),
  'sync:started': z.object({ timestamp: IsoUtc }).strict(),
  'overwrite:started': message,
  'overwrite:no-items': message,
  'overwrite:deleting': z.object({ message: text, count: count.positive(), timestamp: IsoUtc }).strict(),
  'overwrite:progress': z
    .object({
      message: text,
      deleted: count.positive(),
      total: count.positive(),
      currentChunk: count.positive(),
      totalChunks: count.positive(),
      deletedIds: z.array(z.number().int().positive()).min(1),
      timestamp: IsoUtc,
    })
    .strict(),
  'overwrite:deleted': z.object({ message: text, count: count, timestamp: IsoUtc }).strict(),
  'overwrite:error': z.object({ error: text, message: text, timestamp: IsoUtc }).strict(),
  'epic:created': created,
  'feature:created': created,
  'userstory:created': created,
  'epic:failed': failed,
  'feature:failed': failed,
  'userstory:failed': failed,
  'sync:complete': z.object({ summary: SummaryShape, timestamp: IsoUtc, ...finalProgress }).strict(),
  'sync:error': z
    .object({ error: text, summary: SummaryShape.optional(), timestamp: IsoUtc, ...finalProgress })
    .strict(),
  'sync:cancelled': z
    .object({ message: text, summary: SummaryShape.optional(), timestamp: IsoUtc, ...finalProgress })
    .strict(),
} as const;
export type EventName = keyof typeof EventData;

/** Parses `value` with a strict schema; fails the test with the zod issues and the value itself. */
export function expectShape<S extends z.ZodType>(schema: S, value: unknown, what = 'response'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `${what} does not match the contract: ${JSON.stringify(result.error.issues)}\n${JSON.stringify(value)}`,
    );
  }
  return result.data;
}
