import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#store/database.ts';
import { toDatabaseError } from './postgres-database.ts';
import { toPositional } from './sql-params.ts';

export interface PgliteDatabaseOptions {
  /** Persists the database on disk; without it the database lives in memory. */
  dataDir?: string;
  /**
   * PGlite runs no autovacuum, so nothing would ever ANALYZE: after a large insert (a 10,000-item
   * plan) the planner keeps costing the tables as if they were empty and picks plans that scan them
   * per row. After activity, at most every `intervalMs` (default 1 s), the tables whose rows changed
   * past autovacuum's own threshold (50 + 10 % of the rows) are analyzed. `false` turns it off.
   */
  autoAnalyze?: false | { intervalMs?: number };
}

/** Tables past autovacuum's default analyze threshold (autovacuum_analyze_threshold/scale_factor). */
const STALE_TABLES = `
SELECT format('%I.%I', s.schemaname, s.relname) AS name
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)`;

/**
 * `Database` over embedded PGlite (the local default and fast tests). PGlite is one session, so
 * every call (a whole transaction included) runs alone: a plain query never lands inside someone
 * else's open transaction.
 */
export class PgliteDatabase implements Database {
  private tail: Promise<unknown> = Promise.resolve();
  private analyzeTimer: NodeJS.Timeout | undefined;
  private lastAnalyzeCheck = 0;
  private closed = false;
  /** ANALYZE runs so far, by the automatic check (tests). */
  autoAnalyzeRuns = 0;

  private constructor(
    private readonly pglite: PGlite,
    private readonly analyzeIntervalMs: number | null,
  ) {}

  static async create(options: PgliteDatabaseOptions = {}): Promise<PgliteDatabase> {
    const pglite = await PGlite.create({ dataDir: options.dataDir, extensions: { pg_trgm } });
    await pglite.exec("SET TimeZone = 'UTC'");
    const auto = options.autoAnalyze ?? {};
    return new PgliteDatabase(pglite, auto === false ? null : (auto.intervalMs ?? 1_000));
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    const result = this.exclusive(() => run<R>(this.pglite, sql, params));
    this.scheduleAnalyzeCheck();
    return result;
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const result = this.exclusive(() =>
      this.pglite.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) })),
    );
    this.scheduleAnalyzeCheck();
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.analyzeTimer);
    await this.exclusive(() => this.pglite.close());
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Queues the stale-table check behind the work just queued (so it sees that work), at most once per
   * interval. The check runs on the session directly: it does not schedule itself again.
   */
  private scheduleAnalyzeCheck(): void {
    if (this.analyzeIntervalMs === null || this.analyzeTimer || this.closed) return;
    const wait = Math.max(0, this.lastAnalyzeCheck + this.analyzeIntervalMs - Date.now());
    this.analyzeTimer = setTimeout(() => {
      this.analyzeTimer = undefined;
      this.lastAnalyzeCheck = Date.now();
      this.exclusive(() => this.analyzeStaleTables()).catch(() => undefined);
    }, wait);
    this.analyzeTimer.unref();
  }

  private async analyzeStaleTables(): Promise<void> {
    if (this.closed) return;
    // Statistics reach the views at most once a second unless flushed: the check must see the last write.
    await this.pglite.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await this.pglite.query<{ name: string }>(STALE_TABLES);
    if (rows.length === 0 || this.closed) return;
    await this.pglite.exec(`ANALYZE ${rows.map((r) => r.name).join(', ')}`);
    this.autoAnalyzeRuns += 1;
  }
}

async function run<R extends Row>(
  target: PGlite | Transaction,
  sql: string,
  params?: SqlParams,
): Promise<QueryResult<R>> {
  const { text, values } = toPositional(sql, params);
  try {
    const result = await target.query<R>(text, values);
    return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
  } catch (error) {
    throw toDatabaseError(error);
  }
}
