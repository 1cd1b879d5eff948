import * as z from 'zod';
import type { WorkMessage } from '#core/ports/work-queue.ts';

/** The queue message schema; the type it checks is the port's `WorkMessage`. */
export const WorkMessageSchema: z.ZodType<WorkMessage> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('prepare'), syncId: z.uuid() }),
  z.object({ kind: z.literal('item'), syncId: z.uuid(), ardoqId: z.string().min(1).max(255) }),
  z.object({ kind: z.literal('finalize'), syncId: z.uuid() }),
]);

export function parseWorkMessage(body: string): WorkMessage {
  return WorkMessageSchema.parse(JSON.parse(body));
}
