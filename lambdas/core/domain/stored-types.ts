import * as z from 'zod';

/** What a mapping needs of a target field: its Azure DevOps type and the values it is limited to. */
const FieldFacts = z.object({ type: z.string().optional(), allowedValues: z.array(z.string()).optional() });

const TypeOfItem = z.object({
  name: z.string().min(1),
  fields: z.array(z.string()),
  /** The fields' types and allowed values (syncs prepared before field mapping have none). */
  fieldTypes: z.record(z.string(), FieldFacts).optional(),
});

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
