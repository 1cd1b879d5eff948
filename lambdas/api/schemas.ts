import * as z from 'zod';
import { Pagination } from '#core/domain/history.ts';

/** CONTRACT.md §1 envelopes, described once for every route's OpenAPI entry. */
export const ErrorBody = z.object({
  success: z.literal(false),
  error: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const ok = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), pagination: Pagination });

/** Answers the router itself may give on any route (400, 405) or on a route with a body (413, 415). */
export const routerErrors = {
  400: {
    description:
      'Invalid input (details name each field): a header, query value or path parameter with NUL or a lone surrogate',
    schema: ErrorBody,
  },
  401: { description: 'Authentication required', schema: ErrorBody },
  403: {
    description: 'Only members of the admins group may do this (the attempt is audited)',
    schema: ErrorBody,
  },
  404: { description: 'Unknown id or route', schema: ErrorBody },
  405: {
    description: 'Method not allowed: the path exists with other methods (listed in the Allow header)',
    schema: ErrorBody,
  },
  413: { description: 'Request body larger than 10 MB', schema: ErrorBody },
  415: {
    description: 'The request has a body whose Content-Type is not application/json (charset UTF-8 only)',
    schema: ErrorBody,
  },
  500: { description: 'Our fault (details in the logs, not here)', schema: ErrorBody },
};

/** What a route that reaches Ardoq or Azure DevOps through a stored configuration may also answer. */
export const upstreamErrors = (system: 'Ardoq' | 'Azure DevOps', credential: 'token' | 'PAT') => ({
  409: { description: 'The configuration has not passed its connection test', schema: ErrorBody },
  502: {
    description: `${system} refused the ${credential}, failed or did not answer (our sentence, with its HTTP status${system === 'Azure DevOps' ? ' and TF code' : ''})`,
    schema: ErrorBody,
  },
  503: {
    description: `${system} kept throttling (Retry-After says when to ask again)`,
    schema: ErrorBody,
  },
});
