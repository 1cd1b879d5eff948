import * as z from 'zod';
import { ItemType, OutcomeStatus, SyncStatus } from './sync-model.ts';

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
  total_items: z.number().int(),
  items_created: z.number().int(),
  items_failed: z.number().int(),
  items_skipped: z.number().int(),
  epics_created: z.number().int(),
  epics_failed: z.number().int(),
  features_created: z.number().int(),
  features_failed: z.number().int(),
  user_stories_created: z.number().int(),
  user_stories_failed: z.number().int(),
  deletion_count: z.number().int(),
  started_at: z.iso.datetime(),
  completed_at: z.iso.datetime().optional(),
  duration_ms: z.number().int().optional(),
  error_message: z.string().optional(),
  user_id: z.string().optional(),
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
export function pickView<T extends z.ZodObject>(schema: T, row: Record<string, unknown>): z.infer<T> {
  const view: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = row[key];
    if (value === null || value === undefined) continue;
    view[key] = value instanceof Date ? value.toISOString() : value;
  }
  return view as z.infer<T>;
}

export const toSyncHistory = (row: Record<string, unknown>): SyncHistory => pickView(SyncHistory, row);
export const toSyncHistoryItem = (row: Record<string, unknown>): SyncHistoryItem =>
  pickView(SyncHistoryItem, row);
