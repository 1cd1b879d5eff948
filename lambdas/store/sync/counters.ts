import { col } from '../rows.ts';

/** What a counter counts: every item, or the items of one type (`sync_plan_items.item_type`). */
const SCOPES = [
  { prefix: 'items', itemType: null },
  { prefix: 'epics', itemType: 'epic' },
  { prefix: 'features', itemType: 'feature' },
  { prefix: 'user_stories', itemType: 'user_story' },
] as const;
const OUTCOMES = ['created', 'failed', 'skipped'] as const;

type Scope = (typeof SCOPES)[number];
type Outcome = (typeof OUTCOMES)[number];
export type CounterColumn = `${Scope['prefix']}_${Outcome}`;

interface Counter {
  column: CounterColumn;
  itemType: Scope['itemType'];
  outcome: Outcome;
}

/**
 * The 12 outcome counters of `sync_history`, spelled once: the outcome statements count and add them
 * from this list, and the row schema reads them from it.
 */
export const COUNTERS: readonly Counter[] = SCOPES.flatMap((scope) =>
  OUTCOMES.map((outcome) => ({
    column: `${scope.prefix}_${outcome}` as CounterColumn,
    itemType: scope.itemType,
    outcome,
  })),
);

/** The counter columns of a `sync_history` row schema. */
export const COUNTER_FIELDS = Object.fromEntries(COUNTERS.map((c) => [c.column, col.int])) as Record<
  CounterColumn,
  typeof col.int
>;

/** SELECT list counting rows (columns `item_type`, `status`) into one column per counter. */
export const COUNT_OUTCOMES = COUNTERS.map((c) => {
  const type = c.itemType ? `item_type = '${c.itemType}' AND ` : '';
  return `(count(*) FILTER (WHERE ${type}status = '${c.outcome}'))::int AS ${c.column}`;
}).join(',\n    ');

/** SET list adding the counts of `source` (a COUNT_OUTCOMES row) to `target`'s counters. */
export const addCounts = (target: string, source: string) =>
  COUNTERS.map((c) => `${c.column} = ${target}.${c.column} + ${source}.${c.column}`).join(',\n    ');
