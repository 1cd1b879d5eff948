import * as z from 'zod';
import { ItemType, OutcomeStatus, SyncStatus } from './sync-model.ts';

const count = z.number().int();

/**
 * The per-type numbers as the frontend shows them: created / (created + failed), so `failed` counts
 * every node of the type that was not created (failed or never attempted), and the two add up to the
 * total once the sync is terminal. `skipped` and `total` say what is inside.
 */
const perType = (label: string) => ({
  total: count.meta({ description: `${label} requested` }),
  created: count.meta({ description: `${label} created in Azure DevOps` }),
  failed: count.meta({
    description: `${label} not created: the failed ones and the skipped ones (never attempted). Once the sync is terminal, created + failed = total`,
  }),
  skipped: count.meta({
    description: `Of the ${label.toLowerCase()} counted as failed, those never attempted (their parent was not created, or the sync closed before they ran)`,
  }),
});
const epics = perType('Epics');
const features = perType('Features');
const stories = perType('User stories');

/** `SyncHistory` exactly as the frontend reads it (CONTRACT.md §4): optional keys omitted, not null. */
export const SyncHistory = z.object({
  id: z.uuid(),
  source_type: z.literal('ardoq'),
  source_config_id: z.string().optional(),
  target_type: z.literal('azure-devops'),
  target_config_id: z.string().optional(),
  project_name: z.string(),
  status: SyncStatus,
  overwrite_mode: z.boolean(),
  total_items: count,
  items_created: count,
  items_failed: count.meta({
    description: 'Outcome rows with status failed (an attempt that failed); skipped items are not in it',
  }),
  items_skipped: count.meta({
    description: 'Outcome rows with status skipped (never attempted); not counted in items_failed',
  }),
  epics_total: epics.total,
  epics_created: epics.created,
  epics_failed: epics.failed,
  epics_skipped: epics.skipped,
  features_total: features.total,
  features_created: features.created,
  features_failed: features.failed,
  features_skipped: features.skipped,
  user_stories_total: stories.total,
  user_stories_created: stories.created,
  user_stories_failed: stories.failed,
  user_stories_skipped: stories.skipped,
  deletion_count: count,
  started_at: z.iso.datetime(),
  completed_at: z.iso.datetime().optional(),
  duration_ms: count.optional(),
  throttled_ms: count.nonnegative().meta({
    description:
      'Time in ms the sync’s work waited because Azure DevOps throttled it: the delays Azure DevOps asked for (Retry-After) on the creates that were handed back to the queue to wait, summed (short waits the client sleeps within one call are not counted). 0 when it never was',
  }),
  eta_seconds: count.nonnegative().nullable().meta({
    description:
      'Estimated seconds until every item has its outcome, from the rate measured so far: remaining items × time since the items started being processed ÷ items with an outcome (created + failed + skipped), rounded, never negative; computed when the answer is built. null while the sync is pending or in_progress without any outcome yet; 0 once it is terminal',
  }),
  error_message: z.string().optional(),
  user_id: z.string().optional(),
  field_mapping: z
    .object({
      kind: z.enum(['config', 'template', 'default']),
      id: z.string().optional(),
      name: z.string(),
      processTemplateName: z.string().optional(),
    })
    .optional()
    .meta({
      description:
        'The field mapping the sync applies (frozen when it was accepted): a project configuration, a process template, or (default) the template of the project’s process',
    }),
  project_id: z
    .string()
    .optional()
    .meta({ description: 'The Azure DevOps project’s GUID, once the sync looked it up' }),
  cancel_requested_at: z.iso.datetime().optional().meta({
    description:
      'When a cancel was accepted. Present from then on; while creates already sent to Azure DevOps finish, the status is still pending or in_progress',
  }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type SyncHistory = z.infer<typeof SyncHistory>;

export const SyncHistoryItem = z.object({
  id: z.uuid(),
  sync_history_id: z.uuid(),
  ardoq_id: z.string(),
  item_name: z.string(),
  item_type: ItemType,
  status: OutcomeStatus,
  azure_devops_id: z.number().int().optional(),
  azure_devops_url: z.string().optional(),
  error_message: z.string().optional(),
  changed_by_user: z.record(z.string(), z.unknown()).optional(),
  created_at: z.iso.datetime(),
});
export type SyncHistoryItem = z.infer<typeof SyncHistoryItem>;

/** The per-type counters of a sync as stored: exact counts of its outcome rows by status. */
export interface TypeCounters {
  total: number;
  created: number;
  failed: number;
  skipped: number;
}

/**
 * The one place a stored sync becomes the view the frontend reads (the list page, GET /:id, the cancel
 * answer give the same): the stored counters are exact per outcome status; the view's per-type `failed`
 * adds the skipped ones (see `perType`), and `cancel_requested_at` says a cancel is under way or done.
 * `throttled_ms` and `eta_seconds` come in `fields`, from sync-progress.ts `progressFields`.
 */
export function syncHistoryView(
  fields: Omit<
    SyncHistory,
    | `${'epics' | 'features' | 'user_stories'}_${'total' | 'created' | 'failed' | 'skipped'}`
    | 'cancel_requested_at'
  >,
  counters: Record<'epics' | 'features' | 'user_stories', TypeCounters>,
  cancelRequestedAt: string | undefined,
): SyncHistory {
  const view: SyncHistory = { ...fields } as SyncHistory;
  for (const type of ['epics', 'features', 'user_stories'] as const) {
    const c = counters[type];
    view[`${type}_total`] = c.total;
    view[`${type}_created`] = c.created;
    view[`${type}_failed`] = c.failed + c.skipped;
    view[`${type}_skipped`] = c.skipped;
  }
  if (cancelRequestedAt !== undefined) view.cancel_requested_at = cancelRequestedAt;
  return orderLike(SyncHistory, view);
}

/** The view's keys in the schema's order (answers read the same whatever order they were built in). */
function orderLike<T extends Record<string, unknown>>(schema: z.ZodObject, view: T): T {
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) if (view[key] !== undefined) ordered[key] = view[key];
  return ordered as T;
}
