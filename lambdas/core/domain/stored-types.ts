import type { ItemType } from '#core/domain/sync-model.ts';

/** The work item types discovered by `prepare`, stored on the sync (`work_item_types`). */
export type StoredTypes = { process: string } & Record<ItemType, { name: string; fields: string[] }>;

export function isStoredTypes(value: unknown): value is StoredTypes {
  const v = value as Partial<StoredTypes> | null;
  return Boolean(v && typeof v.process === 'string' && v.epic && v.feature && v.user_story);
}
