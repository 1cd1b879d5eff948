import * as z from 'zod';
import { MappingSnapshot } from './field-mapping.ts';

/** Values constrained in the database too (migrations/0002). */
export const ItemType = z.enum(['epic', 'feature', 'user_story']);
export type ItemType = z.infer<typeof ItemType>;

export const SyncStatus = z.enum(['pending', 'in_progress', 'completed', 'failed', 'cancelled']);
export type SyncStatus = z.infer<typeof SyncStatus>;

export const OutcomeStatus = z.enum(['created', 'failed', 'skipped']);
export type OutcomeStatus = z.infer<typeof OutcomeStatus>;

export const TERMINAL_STATUSES: readonly SyncStatus[] = ['completed', 'failed', 'cancelled'];

/** Depth of each type in the Epic → Feature → User Story tree. */
export const ITEM_DEPTH: Record<ItemType, number> = { epic: 0, feature: 1, user_story: 2 };
const PARENT_TYPE: Record<ItemType, ItemType | null> = { epic: null, feature: 'epic', user_story: 'feature' };

const id = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');

/** One requested node of the plan, flattened (parents before children). */
export const PlanNode = z.object({
  ardoqId: id,
  parentArdoqId: id.nullable(),
  itemType: ItemType,
  name: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  /** The raw Ardoq node without its children: it feeds the field mapping. */
  payload: z.record(z.string(), z.unknown()),
});
export type PlanNode = z.infer<typeof PlanNode>;

/** Who did something, for the audit log. */
export const Actor = z.object({
  userId: id.optional(),
  sourceIp: z.string().max(64).optional(),
  userAgent: z.string().max(1024).optional(),
});
export type Actor = z.infer<typeof Actor>;

export const NewSync = z
  .object({
    projectName: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
    sourceConfigId: id.optional(),
    targetConfigId: id.optional(),
    overwriteMode: z.boolean(),
    deadlineAt: z.date(),
    /** Request options kept for the processor (field mapping id, process template hint). */
    options: z.record(z.string(), z.unknown()).default({}),
    actor: Actor.default({}),
    /** The field mapping, frozen now; absent: the template of the project's process, chosen by prepare. */
    mapping: MappingSnapshot.optional(),
    plan: z.array(PlanNode).min(1, 'must contain at least one item').max(100_000),
  })
  .superRefine((sync, ctx) => {
    const types = new Map<string, ItemType>();
    sync.plan.forEach((node, index) => {
      if (types.has(node.ardoqId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['plan', index, 'ardoqId'],
          message: `duplicate id ${node.ardoqId}`,
        });
      }
      types.set(node.ardoqId, node.itemType);
    });
    sync.plan.forEach((node, index) => {
      const expected = PARENT_TYPE[node.itemType];
      const actual = node.parentArdoqId === null ? null : (types.get(node.parentArdoqId) ?? 'missing');
      if (actual !== expected) {
        ctx.addIssue({
          code: 'custom',
          path: ['plan', index, 'parentArdoqId'],
          message:
            expected === null
              ? 'an epic has no parent'
              : `a ${node.itemType} needs a parent ${expected} in the plan (found ${actual ?? 'none'})`,
        });
      }
    });
  });
export type NewSync = z.input<typeof NewSync>;

/** The result of one attempted node, as the processor reports it. */
export const Outcome = z.discriminatedUnion('status', [
  z.object({
    ardoqId: id,
    status: z.literal('created'),
    azureDevOpsId: z.number().int().positive(),
    azureDevOpsUrl: z.url(),
    changedByUser: z.record(z.string(), z.unknown()).optional(),
    /** Time the create waited for Azure DevOps' throttling (added to the sync's throttled_ms), ms. */
    throttledMs: z.number().nonnegative().optional(),
  }),
  z.object({
    ardoqId: id,
    status: z.enum(['failed', 'skipped']),
    errorMessage: z.string().min(1).max(10_000),
  }),
]);
export type Outcome = z.infer<typeof Outcome>;
