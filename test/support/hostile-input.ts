import fc from 'fast-check';
import * as z from 'zod';
import type { RouteDef } from '#lambdas/api/route.ts';

// Generators of random and hostile request parts for the API fuzz test (fast-check arbitraries).

/** Text PostgreSQL refuses: NUL or a lone surrogate somewhere in it (the review's 500s). */
export const nastyText = fc
  .tuple(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff'),
    fc.string({ maxLength: 8 }),
  )
  .map(([before, bad, after]) => `${before}${bad}${after}`);
/** Any UTF-16 code unit: controls, lone surrogates and all. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const HOSTILE = [
  '',
  ' ',
  '..',
  '/',
  '\\',
  'CON',
  'web.config',
  '_x',
  'x.',
  "O'Brien",
  '%',
  '\u202e',
  '\ufeff',
  '\t\n',
  'true',
  'TRUE',
  '1',
  '-1',
  '1e400',
  'null',
  "' OR 1=1 --",
  '<script>',
  'a'.repeat(300),
  '9'.repeat(40),
  '2026-02-30',
];
export const hostileText = fc.oneof(
  { arbitrary: nastyText, weight: 4 },
  { arbitrary: fc.constantFrom(...HOSTILE), weight: 2 },
  { arbitrary: fc.string({ unit: codeUnit, maxLength: 24 }), weight: 2 },
  fc.string({ maxLength: 24 }),
);

/** A hostile path segment: percent-encoded hostile text, raw text, or broken escapes. */
const encodeLoosely = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return text; // a lone surrogate cannot be percent-encoded: it goes in raw
  }
};
export const hostileSegment = fc.oneof(
  { arbitrary: hostileText.map(encodeLoosely), weight: 3 },
  hostileText.filter((t) => t.length > 0 && !t.includes('/')),
  fc.constantFrom('%ED%A0%80', '%E0%A4%A', '%', '%00', '%2F', '%C0%AF', '%F0%9F%9A%80', '..', '%2E%2E'),
);

/** Deep, wide and out-of-range JSON texts: the review's hostile shapes at random sizes. */
export const hostileJson = fc.oneof(
  fc.integer({ min: 20, max: 12_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 20, max: 12_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc
    .integer({ min: 900, max: 12_000 })
    .map((n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])))),
  fc.constantFrom('1e400', '-1e999', '9'.repeat(400), '[1e309]'),
);

/** Which part of a request a case makes hostile (`chaos`: any part may be). */
export const FOCUSES = ['none', 'path', 'query', 'headers', 'body', 'body', 'method', 'chaos'] as const;
export type Focus = (typeof FOCUSES)[number];

/** Values a query parameter of that name accepts, so a fuzzed query also gets past validation. */
export const QUERY_VALUES: Record<string, string[]> = {
  overwrite: ['true', 'false'],
  configId: ['local-ado-simulator'],
  sourceConfigId: ['ardoq-1'],
  processTemplateTemplateName: ['Agile', 'Basic'],
  lastEventId: ['0', '2'],
  limit: ['1', '50', '5000'],
  offset: ['0', '3'],
  status: ['completed', 'pending', 'created'],
  source_type: ['ardoq'],
  target_type: ['azure-devops'],
  project_name: ['Agile', "o'b"],
  start_date: ['2026-01-01', '2026-01-01T00:00:00Z'],
  end_date: ['2099-12-31'],
  action_type: ['sync_started'],
  entity_type: ['sync', 'configuration'],
  entity_id: ['local-ado-simulator'],
  item_type: ['epic', 'user_story'],
  projectId: ['Agile Project', 'agile project', 'Scrum Project', 'No such project'],
  workItemType: ['User Story', 'Epic', 'Nope'],
  processTemplateName: ['Agile', 'Scrum', 'Waterfall'],
};

/** The query parameter names a route documents (its query schema's input object). */
export function queryNames<D>(route: RouteDef<D>): string[] {
  let schema: z.ZodType | undefined = route.query;
  while (schema instanceof z.ZodPipe) schema = schema.in as z.ZodType;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** A placeholder the body text swaps for a JSON text JSON.stringify cannot produce (1e400, deep nesting). */
export const RAW = '__raw_json__';

/**
 * Puts `hostile` into a random object of a copy of `value`: as the value of one of its keys or of a
 * new raw field, or as a new key (a raw Ardoq field with a hostile name).
 */
export function inject(value: unknown, at: number, hostile: string, asKey: boolean): unknown {
  const copy = structuredClone(value);
  const objects: Array<Record<string, unknown>> = [];
  const stack: unknown[] = [copy];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (typeof v !== 'object' || v === null) continue;
    if (!Array.isArray(v)) objects.push(v as Record<string, unknown>);
    stack.push(...Object.values(v));
  }
  const target = objects[at % objects.length];
  if (!target) return hostile;
  if (asKey) target[hostile] = 1;
  else {
    const keys = [...Object.keys(target), 'extra'];
    target[keys[at % keys.length] as string] = hostile;
  }
  return copy;
}
