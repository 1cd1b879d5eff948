import pg from 'pg';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#store/database.ts';
import { DatabaseError } from '#store/database.ts';
import { toPositional } from './sql-params.ts';

// int8 (counts, bigint columns) as numbers: every value we store fits in 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as pg.CustomTypesConfig;

/** `Database` over a node-postgres pool (local runtime with DATABASE_URL, integration tests). */
export class PostgresDatabase implements Database {
  private readonly pool: pg.Pool;

  constructor(options: { connectionString: string; max?: number }) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      types,
      options: '-c TimeZone=UTC',
    });
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => undefined);
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    return run<R>(this.pool, sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn({ query: (sql, params) => run(client, sql, params) });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

async function run<R extends Row>(
  client: pg.Pool | pg.PoolClient,
  sql: string,
  params?: SqlParams,
): Promise<QueryResult<R>> {
  const { text, values } = toPositional(sql, params);
  try {
    const result = await client.query<R>(text, values);
    return { rows: result.rows, rowCount: result.command === 'SELECT' ? 0 : (result.rowCount ?? 0) };
  } catch (error) {
    throw toDatabaseError(error);
  }
}

/** Wraps a driver error (node-postgres or PGlite: both expose `code` and `constraint`). */
export function toDatabaseError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const e = error as { message?: string; code?: string; constraint?: string };
  return new DatabaseError(e.message ?? String(error), e.code, e.constraint, { cause: error });
}
