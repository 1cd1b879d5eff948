import * as z from 'zod';
import type { Row } from './database.ts';

/**
 * Rows are parsed at this edge, once: every statement's row goes through a zod row schema before the
 * store hands anything to the core. A row that does not fit is a bug in a statement (or a schema that
 * changed under it), never the caller's fault: it throws `RowShapeError`, a 500 with details in the log.
 */
export class RowShapeError extends Error {
  override readonly name = 'RowShapeError';
}

/** Parses one row; `what` names the statement for the error. */
export function parseRow<S extends z.ZodType>(schema: S, row: Row | undefined, what: string): z.output<S> {
  const result = schema.safeParse(row);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new RowShapeError(
    `${what}: unexpected row (${issue ? `${issue.path.join('.') || 'row'}: ${issue.message}` : 'no row'})`,
  );
}

/** Column types as every adapter returns them (store/database.ts): */
export const col = {
  text: z.string(),
  nullableText: z.string().nullable(),
  int: z.number().int(),
  nullableInt: z.number().int().nullable(),
  /** bigint columns come back as numbers from every adapter (they stay below 2^53 here). */
  bigint: z.union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number),
  ]),
  bool: z.boolean(),
  time: z.date(),
  nullableTime: z.date().nullable(),
  json: z.record(z.string(), z.unknown()),
  nullableJson: z.record(z.string(), z.unknown()).nullable(),
};

/**
 * A row as its public view: NULL columns left out (CONTRACT.md §1: absent optionals are omitted) and
 * timestamps as ISO-8601 UTC text.
 */
export function asView(row: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    view[key] = value instanceof Date ? value.toISOString() : value;
  }
  return view;
}
