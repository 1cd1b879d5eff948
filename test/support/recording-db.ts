import type { Database, Queryable, Row, SqlParams } from '#store/database.ts';

/** What {@link recording} saw: every statement (inside transactions too), with its parameters. */
export interface Recorded {
  statements: string[];
  calls: Array<{ sql: string; params: SqlParams }>;
  transactions: number;
}

/**
 * A `Database` that records the statements run through it (inside transactions too) and the
 * transactions it opened; `onStatement` may replace a statement's execution (fault injection).
 */
export function recording(
  db: Database,
  onStatement?: (sql: string, run: () => Promise<unknown>) => Promise<void> | undefined,
): { db: Database; seen: Recorded } {
  const seen: Recorded = { statements: [], calls: [], transactions: 0 };
  const through =
    (target: Queryable) =>
    async <R extends Row = Row>(sql: string, params: SqlParams = {}) => {
      seen.statements.push(sql);
      seen.calls.push({ sql, params });
      const result = target.query<R>(sql, params);
      const fault = onStatement?.(sql, () => result);
      if (fault) await fault;
      return result;
    };
  const wrapped: Database = {
    query: through(db),
    transaction: (fn) => {
      seen.transactions += 1;
      return db.transaction((tx) => fn({ query: through(tx) }));
    },
    close: () => db.close(),
  };
  return { db: wrapped, seen };
}
