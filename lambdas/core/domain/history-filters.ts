import * as z from 'zod';
import { AuditActionType, AuditEntityType } from '#core/domain/audit.ts';
import { SyncHistory } from '#core/domain/sync-history-view.ts';
import { ItemType, OutcomeStatus, SyncStatus } from '#core/domain/sync-model.ts';
import { type ErrorDetail, formatPath, ValidationError } from '#core/errors.ts';

/**
 * Query strings of the read routes (CONTRACT.md §4) parsed into typed filters. Every value that is
 * present must be valid: a bad one is a 400 naming its parameter, never a silent default (old defect
 * 6). Parameters we do not know are ignored, because the frontend may send extras.
 */

/** The query string as API Gateway hands it over. */
export type RawQuery = Readonly<Record<string, string | undefined>>;

export const MAX_OFFSET = 10_000_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A positive whole number, digits only; above `cap` it is accepted and capped (old defect 6). */
const limitParam = (fallback: number, cap: number, why = '') =>
  z
    .string()
    .regex(/^0*[1-9]\d*$/, `must be a whole number from 1 (values above ${cap} are capped)`)
    .default(String(fallback))
    .transform((value) => Math.min(Number(value), cap))
    .meta({
      description: `Page size: default ${fallback}, at most ${cap} (larger values are capped; pagination.limit is the one applied)${why}`,
    });

const offsetParam = z
  .string()
  .regex(/^\d+$/, { message: 'must be a whole number from 0', abort: true })
  .refine((value) => Number(value) <= MAX_OFFSET, `must be at most ${MAX_OFFSET}`)
  .default('0')
  .transform(Number)
  .meta({ description: 'Rows to skip: default 0' });

/** One value of an existing enum, with a message that lists them. */
const oneOf = <T extends Readonly<Record<string, string>>>(values: T) =>
  z.enum(values, { error: `must be one of ${Object.values(values).join(', ')}` }).optional();

const only = <T extends string>(value: T) => z.literal(value, { error: `must be ${value}` }).optional();

const text255 = z
  .string()
  .min(1, 'must be 1 to 255 characters')
  .max(255, 'must be 1 to 255 characters')
  .optional();

const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });

/**
 * `YYYY-MM-DD` (a real calendar date) or a full ISO-8601 timestamp with a zone. Year 0000 is refused
 * because PostgreSQL has no year 0 (it would be a 500, not a 400).
 */
const timeParam = z
  .string()
  .refine(
    (value) =>
      (isoDate.safeParse(value).success || isoDateTime.safeParse(value).success) && !/^0000/.test(value),
    {
      message: 'must be a date (YYYY-MM-DD) or an ISO-8601 timestamp with a time zone (Z or ±hh:mm)',
      abort: true,
    },
  )
  .transform((value) => ({ value, dateOnly: isoDate.safeParse(value).success }))
  .optional()
  .meta({ description: 'YYYY-MM-DD (UTC day) or ISO-8601 timestamp with a time zone' });

type TimeBound = z.output<typeof timeParam>;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The UTC midnight after `date` (`YYYY-MM-DD`), as text PostgreSQL reads (also past year 9999). */
function nextUtcMidnight(date: string): string {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
  return `${pad(next.getUTCFullYear(), 4)}-${pad(next.getUTCMonth() + 1)}-${pad(next.getUTCDate())}T00:00:00Z`;
}

/**
 * The `created_at` window: `from` (≥), `before` (<, a date-only end: its whole UTC day is in),
 * `until` (≤, a timestamp end). Values are ISO-8601 text with a zone, cast by PostgreSQL, so a
 * timestamp keeps its microseconds.
 */
function toRange(start: TimeBound, end: TimeBound) {
  return {
    from: start === undefined ? undefined : start.dateOnly ? `${start.value}T00:00:00Z` : start.value,
    before: end?.dateOnly ? nextUtcMidnight(end.value) : undefined,
    until: end && !end.dateOnly ? end.value : undefined,
  };
}

const dateRangeShape = { start_date: timeParam, end_date: timeParam };

/** `start_date` after the end of the window → 400 (an empty window is a mistake, not a query). */
function checkRange<Q extends { start_date?: TimeBound; end_date?: TimeBound }>(
  query: Q,
  ctx: z.RefinementCtx<Q>,
): void {
  const { start_date: start, end_date: end } = query;
  // A bound that failed its own check is still a string here: it already has its issue.
  if (typeof start !== 'object' || typeof end !== 'object') return;
  const from = Date.parse(start.dateOnly ? `${start.value}T00:00:00Z` : start.value);
  const endAt = Date.parse(end.dateOnly ? `${end.value}T00:00:00Z` : end.value);
  const empty = end.dateOnly ? from >= endAt + DAY_MS : from > endAt;
  if (empty) ctx.addIssue({ code: 'custom', path: ['start_date'], message: 'must not be after end_date' });
}

/** `GET /api/sync-history/stats`, `GET /api/audit-logs/stats`. */
export const StatsQuery = z
  .object(dateRangeShape)
  .superRefine(checkRange)
  .transform((q) => toRange(q.start_date, q.end_date));
/** The `created_at` window every read route filters on. */
export type TimeRange = z.output<typeof StatsQuery>;
export type StatsFilters = TimeRange;

/** `GET /api/sync-history`. */
export const SyncHistoryQuery = z
  .object({
    limit: limitParam(50, 100),
    offset: offsetParam,
    status: oneOf(SyncStatus.enum),
    source_type: only(SyncHistory.shape.source_type.value),
    target_type: only(SyncHistory.shape.target_type.value),
    project_name: text255.meta({ description: 'Case-insensitive substring of the project name' }),
    ...dateRangeShape,
  })
  .superRefine(checkRange)
  .transform((q) => ({
    limit: q.limit,
    offset: q.offset,
    status: q.status,
    sourceType: q.source_type,
    targetType: q.target_type,
    projectName: q.project_name,
    createdAt: toRange(q.start_date, q.end_date),
  }));
export type SyncHistoryFilters = z.output<typeof SyncHistoryQuery>;

/** Items per page of one sync: the detail page asks without a limit and must see a typical sync whole. */
export const ITEMS_DEFAULT_LIMIT = 1_000;
export const ITEMS_MAX_LIMIT = 5_000;

/** `GET /api/sync-history/{id}/items`: the sync's outcomes in plan order (parents before children). */
export const SyncItemsQuery = z
  .object({
    limit: limitParam(
      ITEMS_DEFAULT_LIMIT,
      ITEMS_MAX_LIMIT,
      '. Without a limit a typical sync comes back whole',
    ),
    offset: offsetParam.meta({
      description: 'Items to skip, in plan order (the request tree, parents before children): default 0',
    }),
    status: oneOf(OutcomeStatus.enum).meta({
      description: 'Only the outcomes with this status (skipped: never attempted); plan order is kept',
    }),
    item_type: oneOf(ItemType.enum).meta({
      description: 'Only the items of this type; plan order is kept',
    }),
  })
  .transform((q) => ({ limit: q.limit, offset: q.offset, status: q.status, itemType: q.item_type }));
export type SyncItemsFilters = z.output<typeof SyncItemsQuery>;

/** `GET /api/audit-logs`. */
export const AuditLogQuery = z
  .object({
    limit: limitParam(50, 100),
    offset: offsetParam,
    action_type: oneOf(AuditActionType.enum),
    entity_type: oneOf(AuditEntityType.enum),
    entity_id: text255,
    ...dateRangeShape,
  })
  .superRefine(checkRange)
  .transform((q) => ({
    limit: q.limit,
    offset: q.offset,
    actionType: q.action_type,
    entityType: q.entity_type,
    entityId: q.entity_id,
    createdAt: toRange(q.start_date, q.end_date),
  }));
export type AuditLogFilters = z.output<typeof AuditLogQuery>;

/**
 * Parses a route's query string with one of the schemas above, or throws a `ValidationError` whose
 * details name each bad parameter once.
 */
export function parseQuery<S extends z.ZodType>(schema: S, raw: RawQuery | null | undefined): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const details: ErrorDetail[] = [];
  for (const issue of result.error.issues) {
    const path = formatPath(issue.path);
    if (!details.some((d) => d.path === path)) details.push({ path, message: issue.message });
  }
  const first = details[0];
  throw new ValidationError(
    first ? `Invalid query parameter ${first.path}: ${first.message}` : 'Invalid query string',
    details,
  );
}
