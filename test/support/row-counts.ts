import type { Queryable } from '#store/database.ts';

/** A counter of `history_row_counts` (migration 0007) that disagrees with count(*) of its rows. */
export type RowCountDrift = {
  counter: string;
  value: string;
  kept: number;
  actual: number;
};

/**
 * Every counter the triggers keep, recomputed from the rows themselves. A value with rows but no
 * counter, a counter whose rows are gone, and a counter off by one are all drift.
 */
const ACTUAL = `
  SELECT 'sync_history' AS counter, '' AS value, count(*) AS n FROM sync_history
  UNION ALL SELECT 'sync_history.status', status, count(*) FROM sync_history GROUP BY status
  UNION ALL SELECT 'sync_history.project_name', project_name, count(*) FROM sync_history GROUP BY project_name
  UNION ALL SELECT 'audit_logs', '', count(*) FROM audit_logs
  UNION ALL SELECT 'audit_logs.action_type', action_type, count(*) FROM audit_logs GROUP BY action_type
  UNION ALL SELECT 'audit_logs.entity_type', entity_type, count(*) FROM audit_logs GROUP BY entity_type`;

/** The counters that disagree with count(*), in one snapshot; `[]` when every count is exact. */
export async function rowCountDrift(db: Queryable): Promise<RowCountDrift[]> {
  const { rows } = await db.query<RowCountDrift>(
    `WITH actual AS (${ACTUAL}),
     kept AS (SELECT counter, value, sum(n) AS n FROM history_row_counts GROUP BY counter, value)
     SELECT counter, value, coalesce(kept.n, 0)::bigint AS kept, coalesce(actual.n, 0)::bigint AS actual
     FROM actual FULL JOIN kept USING (counter, value)
     WHERE coalesce(kept.n, 0) <> coalesce(actual.n, 0)
     ORDER BY counter, value`,
  );
  return rows;
}

/** How many counters there are with a non-zero count (so a test can tell it checked something). */
export async function keptCounters(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM history_row_counts GROUP BY counter, value HAVING sum(n) <> 0) AS kept`,
  );
  return rows[0]?.n ?? 0;
}
