import type { ThreadStatement } from '#bin/local/processor-messages.ts';
import { classify } from './counting-db.ts';

/**
 * Runs in each processor thread of a bench system (ProcessorThreadConfig.statementSummarizer): what of
 * a statement is posted to the main thread. Only what the bench reads (its kind; the ids and status of
 * its rows; the node ids of recorded outcomes), so that copying statements between threads does not
 * weigh on the CPU the bench measures (claim rows carry whole payloads and work item types).
 */
const KEPT = ['ardoq_id', 'id', 'status', 'total_items', 'items_created', 'items_failed', 'items_skipped'];

export function summarize(statement: ThreadStatement): ThreadStatement {
  const kind = classify(statement.sql);
  const rows = statement.rows.map((row) => {
    const kept: Record<string, unknown> = {};
    for (const key of KEPT) if (key in row) kept[key] = row[key];
    return kept;
  });
  const outcomes = statement.params?.outcomes;
  const params =
    kind === 'record-outcomes' &&
    outcomes &&
    typeof outcomes === 'object' &&
    'kind' in outcomes &&
    outcomes.kind === 'json'
      ? {
          outcomes: {
            kind: 'json' as const,
            value: (outcomes.value as Array<{ ardoq_id: string }>).map((o) => ({ ardoq_id: o.ardoq_id })),
          },
        }
      : undefined;
  return { ...statement, sql: '', kind, params, rows };
}
