import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#core/ports/database.ts';
import { toDatabaseError } from './postgres-database.ts';
import { toPositional } from './sql-params.ts';

/**
 * `Database` over embedded PGlite (the local default and fast tests). PGlite is one session, so
 * every call (a whole transaction included) runs alone: a plain query never lands inside someone
 * else's open transaction.
 */
export class PgliteDatabase implements Database {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly pglite: PGlite) {}

  /** `dataDir` persists the database on disk; without it the database lives in memory. */
  static async create(options: { dataDir?: string } = {}): Promise<PgliteDatabase> {
    const pglite = await PGlite.create({ dataDir: options.dataDir, extensions: { pg_trgm } });
    await pglite.exec("SET TimeZone = 'UTC'");
    return new PgliteDatabase(pglite);
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    return this.exclusive(() => run<R>(this.pglite, sql, params));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.pglite.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) })),
    );
  }

  async close(): Promise<void> {
    await this.exclusive(() => this.pglite.close());
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
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
