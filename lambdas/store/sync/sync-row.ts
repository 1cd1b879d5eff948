import * as z from 'zod';
import { MappingSnapshot } from '#core/domain/field-mapping.ts';
import { StoredTypes } from '#core/domain/stored-types.ts';
import { type SyncHistory, type SyncHistoryItem, syncHistoryView } from '#core/domain/sync-history-view.ts';
import { ItemType, OutcomeStatus, SyncStatus } from '#core/domain/sync-model.ts';
import { processingStart, progressFields } from '#core/domain/sync-progress.ts';
import type { SyncState } from '#core/domain/sync-state.ts';
import type { Row } from '../database.ts';
import { asView, col, parseRow } from '../rows.ts';
import { COUNTER_FIELDS } from './counters.ts';

const counter = col.int;

/** A `sync_history` row (every column a statement of this store returns). */
export const SyncRow = z.object({
  id: col.text,
  source_type: z.literal('ardoq'),
  source_config_id: col.nullableText,
  target_type: z.literal('azure-devops'),
  target_config_id: col.nullableText,
  project_name: col.text,
  status: SyncStatus,
  overwrite_mode: col.bool,
  total_items: counter,
  ...COUNTER_FIELDS,
  epics_total: counter,
  features_total: counter,
  user_stories_total: counter,
  deletion_count: counter,
  started_at: col.time,
  completed_at: col.nullableTime,
  duration_ms: col.bigint.nullable(),
  error_message: col.nullableText,
  user_id: col.nullableText,
  options: col.json,
  work_item_types: StoredTypes.nullable(),
  last_event_seq: counter,
  close_requested: z.enum(['cancelled', 'failed']).nullable(),
  field_mapping: MappingSnapshot.omit({ mappings: true }).nullable(),
  project_id: col.nullableText,
  close_requested_at: col.nullableTime,
  prepare_attempts: counter,
  overwrite_total: col.nullableInt,
  throttled_ms: col.bigint,
  in_progress_at: col.nullableTime,
  created_at: col.time,
  updated_at: col.time,
});
export type SyncRow = z.output<typeof SyncRow>;

/** The `sync_history` columns a statement selects to build a SyncState (instead of `*`). */
export const SYNC_COLUMNS: readonly string[] = Object.keys(SyncRow.shape);

const iso = (date: Date | null) => (date === null ? undefined : date.toISOString());

/**
 * A `sync_history` row as the pipeline's SyncState (its public view included). `now` is the clock the
 * view's `eta_seconds` is computed at (sync-progress.ts): the time the row is turned into the view.
 */
export function toSyncState(
  input: Row | undefined,
  what = 'sync_history',
  now: Date = new Date(),
): SyncState {
  const row = parseRow(SyncRow, input, what);
  const progress = {
    status: row.status,
    totalItems: row.total_items,
    outcomes: row.items_created + row.items_failed + row.items_skipped,
    processingStartedAt: processingStart({
      status: row.status,
      inProgressAt: row.in_progress_at,
      startedAt: row.started_at,
    }),
    throttledMs: row.throttled_ms,
  };
  const typeCounters = (type: 'epics' | 'features' | 'user_stories') => ({
    total: row[`${type}_total`],
    created: row[`${type}_created`],
    failed: row[`${type}_failed`],
    skipped: row[`${type}_skipped`],
  });
  const fields = asView({
    id: row.id,
    source_type: row.source_type,
    source_config_id: row.source_config_id,
    target_type: row.target_type,
    target_config_id: row.target_config_id,
    project_name: row.project_name,
    status: row.status,
    overwrite_mode: row.overwrite_mode,
    total_items: row.total_items,
    items_created: row.items_created,
    items_failed: row.items_failed,
    items_skipped: row.items_skipped,
    deletion_count: row.deletion_count,
    started_at: row.started_at,
    completed_at: row.completed_at,
    duration_ms: row.duration_ms,
    error_message: row.error_message,
    user_id: row.user_id,
    field_mapping: row.field_mapping,
    project_id: row.project_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  });
  // After asView: eta_seconds is null (not omitted) while there is no estimate.
  Object.assign(fields, progressFields(progress, now));
  const view = syncHistoryView(
    fields as Parameters<typeof syncHistoryView>[0],
    {
      epics: typeCounters('epics'),
      features: typeCounters('features'),
      user_stories: typeCounters('user_stories'),
    },
    row.close_requested === 'cancelled' ? iso(row.close_requested_at) : undefined,
  );
  return {
    view,
    ...progress,
    lastEventSeq: row.last_event_seq,
    options: row.options,
    workItemTypes: row.work_item_types,
    closeRequested: row.close_requested,
    prepareAttempts: row.prepare_attempts,
    overwriteTotal: row.overwrite_total,
  };
}

/** The public view of a `sync_history` row. */
export const toSyncHistory = (row: Row | undefined): SyncHistory => toSyncState(row).view;

/** A `sync_history_items` row as the list page reads it. */
export const ItemRow = z.object({
  id: col.text,
  sync_history_id: col.text,
  ardoq_id: col.text,
  item_name: col.text,
  item_type: ItemType,
  status: OutcomeStatus,
  azure_devops_id: col.nullableInt,
  azure_devops_url: col.nullableText,
  error_message: col.nullableText,
  changed_by_user: col.nullableJson,
  created_at: col.time,
});

/** The `sync_history_items` columns of the view. */
export const ITEM_COLUMNS: readonly string[] = Object.keys(ItemRow.shape);

export const toSyncHistoryItem = (row: Row | undefined): SyncHistoryItem =>
  asView(parseRow(ItemRow, row, 'sync_history_items')) as SyncHistoryItem;
