import * as z from 'zod';

const TypeOfItem = z.object({ name: z.string().min(1), fields: z.array(z.string()) });

/**
 * The work item types discovered by `prepare`, stored on the sync (`work_item_types`): the process and,
 * per item type, the Azure DevOps type and the fields it has. Parsed where the row is read.
 */
export const StoredTypes = z.object({
  process: z.string().min(1),
  epic: TypeOfItem,
  feature: TypeOfItem,
  user_story: TypeOfItem,
});
export type StoredTypes = z.infer<typeof StoredTypes>;
