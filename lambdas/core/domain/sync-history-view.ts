import * as z from 'zod';
import type { Row } from '#store/database.ts';
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
  error_message: z.string().optional(),
  user_id: z.string().optional(),
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

/** Copies the schema's keys from a database row: timestamps to ISO strings, NULL to an omitted key. */
export function pickView<T extends z.ZodObject>(schema: T, row: Row): z.infer<T> {
  const view: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = row[key];
    if (value === null || value === undefined) continue;
    view[key] = value instanceof Date ? value.toISOString() : value;
  }
  return view as z.infer<T>;
}

/** View keys that are not columns of `sync_history`: toSyncHistory computes them. */
const COMPUTED_KEYS: ReadonlySet<string> = new Set(['cancel_requested_at']);

/**
 * The `sync_history` columns toSyncHistory reads (a statement that selects columns rather than `*`
 * selects these): the view's own columns and the close request behind `cancel_requested_at`.
 */
export const SYNC_HISTORY_COLUMNS: readonly string[] = [
  ...Object.keys(SyncHistory.shape).filter((key) => !COMPUTED_KEYS.has(key)),
  'close_requested',
  'close_requested_at',
];

const TYPES = ['epics', 'features', 'user_stories'] as const;

function counter(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new Error(`sync_history row without its ${column} counter`);
  return value;
}

/**
 * The one place a `sync_history` row becomes the view (the list page, GET /:id, the cancel answer and
 * every repository call give the same). The stored counters are exact per outcome status; the view's
 * per-type `failed` adds the skipped ones (see `perType`). A row missing a column it needs is a bug in
 * the statement that read it, so it throws rather than answer a wrong number.
 */
export function toSyncHistory(row: Row): SyncHistory {
  const view = pickView(SyncHistory, row);
  for (const type of TYPES) {
    view[`${type}_failed`] = counter(row, `${type}_failed`) + counter(row, `${type}_skipped`);
  }
  if (!('close_requested' in row)) throw new Error('sync_history row without its close_requested column');
  delete view.cancel_requested_at;
  const requestedAt = row.close_requested === 'cancelled' ? row.close_requested_at : null;
  if (requestedAt instanceof Date) view.cancel_requested_at = requestedAt.toISOString();
  return view;
}

export const toSyncHistoryItem = (row: Row): SyncHistoryItem => pickView(SyncHistoryItem, row);
