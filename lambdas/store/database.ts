/**
 * The `Database` port: the only way the core talks to PostgreSQL.
 *
 * SQL is written once for every adapter (Data API, node-postgres, PGlite) with `:name` parameters,
 * one statement per call (the Data API's rule). Values that need a PostgreSQL type the Data API cannot
 * infer are wrapped (`sqlUuid`, `sqlJson`); a `Date` is sent as a timestamp.
 */

/** A parameter that carries its PostgreSQL type, so every adapter can send the right type hint. */
export type TypedParam =
  | { readonly kind: 'uuid'; readonly value: string }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'decimal'; readonly value: string };

export type SqlParam = string | number | boolean | null | Date | TypedParam;
export type SqlParams = Readonly<Record<string, SqlParam>>;

/**
 * Rows come back typed the same way from every adapter: integers (int2/int4/int8) as `number`,
 * `numeric` as `string`, `json`/`jsonb` parsed, timestamps as `Date`, `uuid`/`text` as `string`,
 * SQL NULL as `null`.
 */
export type Row = Record<string, unknown>;

export interface QueryResult<R extends Row = Row> {
  readonly rows: R[];
  /** Rows inserted, updated or deleted by the statement (0 for a plain SELECT). */
  readonly rowCount: number;
}

/** Something that runs one SQL statement: the database itself or an open transaction. */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  /**
   * Runs `fn` inside one transaction: committed when it resolves, rolled back when it throws.
   * Adapters that share one session (PGlite) serialize transactions.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Releases connections. */
  close(): Promise<void>;
}

export const sqlUuid = (value: string): TypedParam => ({ kind: 'uuid', value });
export const sqlJson = (value: unknown): TypedParam => ({ kind: 'json', value });
export const sqlDecimal = (value: string): TypedParam => ({ kind: 'decimal', value });

export function isTypedParam(value: SqlParam): value is TypedParam {
  return typeof value === 'object' && value !== null && !(value instanceof Date);
}

/** A database error an adapter could classify (constraint violations become 4xx-worthy errors). */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  constructor(
    message: string,
    /** PostgreSQL SQLSTATE, when known (23505 unique violation, 23514 check violation, ...). */
    readonly sqlState: string | undefined,
    /** The violated constraint, when PostgreSQL named one. */
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
