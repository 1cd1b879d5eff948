import * as z from 'zod';
import { Pagination } from '#core/history/history-queries.ts';

/** CONTRACT.md §1 envelopes, described once for every route's OpenAPI entry. */
export const ErrorBody = z.object({
  success: z.literal(false),
  error: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const ok = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), pagination: Pagination });

export const SyncIdParams = z.object({ id: z.uuid() });

/** The usual error answers of a route that takes input and may not find its target. */
export const errors = {
  400: { description: 'Invalid input (details name each field)', schema: ErrorBody },
  401: { description: 'Authentication required', schema: ErrorBody },
  404: { description: 'Unknown id or route', schema: ErrorBody },
  500: { description: 'Our fault (details in the logs, not here)', schema: ErrorBody },
};
