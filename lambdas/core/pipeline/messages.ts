import * as z from 'zod';
import type { WorkMessage } from '#core/ports/work-queue.ts';
import type { ProcessDeps } from './deps.ts';
import { finalize } from './finalize.ts';
import { prepareSync } from './prepare-sync.ts';
import { processItem } from './process-item.ts';

/** The queue message schema; the type it checks is the port's `WorkMessage`. */
export const WorkMessageSchema: z.ZodType<WorkMessage> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('prepare'), syncId: z.uuid() }),
  z.object({ kind: z.literal('item'), syncId: z.uuid(), ardoqId: z.string().min(1).max(255) }),
  z.object({ kind: z.literal('finalize'), syncId: z.uuid() }),
]);

export function parseWorkMessage(body: string): WorkMessage {
  return WorkMessageSchema.parse(JSON.parse(body));
}

/** Routes one work message to its use case (a single item message is a batch of one). */
export async function routeWorkMessage(message: WorkMessage, deps: ProcessDeps): Promise<void> {
  switch (message.kind) {
    case 'prepare':
      return prepareSync(message.syncId, deps);
    case 'item':
      return processItem(message.syncId, message.ardoqId, deps);
    case 'finalize':
      await finalize(message.syncId, deps);
      return;
  }
}
