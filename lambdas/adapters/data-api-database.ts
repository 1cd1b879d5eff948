import {
  BeginTransactionCommand,
  type ColumnMetadata,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { UnavailableError } from '#core/errors.ts';
import type { Database, Queryable, QueryResult, Row, SqlParam, SqlParams } from '#store/database.ts';
import { DatabaseError, isTypedParam } from '#store/database.ts';
import { compileNamedParameters } from '#store/sql-text.ts';

export interface DataApiDatabaseOptions {
  resourceArn: string;
  secretArn: string;
  database: string;
  client?: RDSDataClient;
  /**
   * How long to keep retrying while a paused Serverless v2 cluster resumes (FACTS.md: ~30 s); then
   * `UnavailableError` (HTTP 503 + Retry-After). Default {@link CONSUMER_RESUME_TIMEOUT_MS}; a function
   * behind API Gateway passes a shorter one (lambdas/runtime/time-budgets.ts).
   */
  resumeTimeoutMs?: number;
  /** First backoff delay; doubles up to 5 s. */
  resumeBaseDelayMs?: number;
  /** The `Retry-After` (seconds) of the `UnavailableError` thrown once the resume budget is spent. */
  resumeRetryAfterSeconds?: number;
  /**
   * Waits before each retry of a statement the database refused for a failed password authentication:
   * what the Data API answers while a secret rotation has set the new password but not yet promoted
   * the secret (or the other way round). Default {@link AUTH_RETRY_DELAYS_MS}; `[]` turns it off.
   */
  authRetryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

type Send = <T>(command: { input: unknown }) => Promise<T>;

/** The resume budget of the queue consumers and migrate (timeouts 60–300 s), and the default. */
export const CONSUMER_RESUME_TIMEOUT_MS = 30_000;
/** Two retries after 500 ms and 1 s: 1.5 s at most, rotation's window between its steps. */
export const AUTH_RETRY_DELAYS_MS: readonly number[] = [500, 1_000];
/** `Retry-After` once the resume budget is spent: the cluster keeps resuming meanwhile. */
export const RESUME_RETRY_AFTER_SECONDS = 10;

/**
 * A failed password authentication of the database user. The statement never ran (the session did
 * not open), so sending it again is safe.
 */
export function isAuthFailure(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /password authentication failed/i.test(message);
}

/**
 * `Database` over the RDS Data API (Aurora Serverless v2): one statement per call, no array
 * parameters, type hints for uuid/timestamp/json, rows read from `formattedRecords`.
 */
export class DataApiDatabase implements Database {
  private readonly client: RDSDataClient;
  private readonly target: { resourceArn: string; secretArn: string; database: string };
  private readonly resumeTimeoutMs: number;
  private readonly resumeBaseDelayMs: number;
  private readonly resumeRetryAfterSeconds: number;
  private readonly authRetryDelaysMs: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;
  /** Calls made, by operation: the benchmark's "Data API calls per item". */
  readonly calls = { execute: 0, begin: 0, commit: 0, rollback: 0 };

  constructor(options: DataApiDatabaseOptions) {
    this.client = options.client ?? new RDSDataClient({});
    this.target = {
      resourceArn: options.resourceArn,
      secretArn: options.secretArn,
      database: options.database,
    };
    this.resumeTimeoutMs = options.resumeTimeoutMs ?? CONSUMER_RESUME_TIMEOUT_MS;
    this.resumeBaseDelayMs = options.resumeBaseDelayMs ?? 500;
    this.resumeRetryAfterSeconds = options.resumeRetryAfterSeconds ?? RESUME_RETRY_AFTER_SECONDS;
    this.authRetryDelaysMs = options.authRetryDelaysMs ?? AUTH_RETRY_DELAYS_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    return this.execute<R>(sql, params, undefined);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.calls.begin += 1;
    const { transactionId } = await this.send<{ transactionId?: string }>(
      new BeginTransactionCommand({ ...this.target }),
    );
    if (!transactionId) throw new DatabaseError('Data API returned no transaction id', undefined, undefined);
    try {
      const result = await fn({ query: (sql, params) => this.execute(sql, params, transactionId) });
      this.calls.commit += 1;
      await this.send(new CommitTransactionCommand({ ...this.target, transactionId }));
      return result;
    } catch (error) {
      this.calls.rollback += 1;
      await this.send(new RollbackTransactionCommand({ ...this.target, transactionId })).catch(
        () => undefined,
      );
      throw error;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async execute<R extends Row>(
    sql: string,
    params: SqlParams | undefined,
    transactionId: string | undefined,
  ): Promise<QueryResult<R>> {
    const { names } = compileNamedParameters(sql);
    const parameters = names.map((name) => {
      if (!params || !Object.hasOwn(params, name)) throw new Error(`missing SQL parameter :${name}`);
      return toSqlParameter(name, params[name] as SqlParam);
    });
    this.calls.execute += 1;
    const output = await this.send<{
      formattedRecords?: string;
      columnMetadata?: ColumnMetadata[];
      numberOfRecordsUpdated?: number;
    }>(
      new ExecuteStatementCommand({
        ...this.target,
        sql,
        parameters,
        transactionId,
        formatRecordsAs: 'JSON',
        includeResultMetadata: true,
      }),
    );
    const records = output.formattedRecords ? (JSON.parse(output.formattedRecords) as Row[]) : [];
    const rows = records.map((record) => parseRecord(record, output.columnMetadata ?? [])) as R[];
    return { rows, rowCount: output.numberOfRecordsUpdated ?? 0 };
  }

  /**
   * Sends a command, retrying while the cluster resumes from auto-pause (within the resume budget,
   * then `UnavailableError`) and after a failed password authentication (a secret rotation in
   * progress; never for a command of an open transaction); maps database errors.
   */
  private async send<T>(command: { input: unknown }): Promise<T> {
    let waited = 0;
    let delay = this.resumeBaseDelayMs;
    let authRetries = 0;
    const inTransaction =
      (command.input as { transactionId?: unknown } | undefined)?.transactionId !== undefined;
    for (;;) {
      try {
        return (await (this.client.send as unknown as Send)(command)) as T;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'DatabaseResumingException') {
          if (waited + delay > this.resumeTimeoutMs) {
            throw new UnavailableError(
              `The database is resuming (waited ${waited} ms): try again shortly`,
              this.resumeRetryAfterSeconds,
              { cause: error },
            );
          }
          await this.sleep(delay);
          waited += delay;
          delay = Math.min(delay * 2, 5_000);
          continue;
        }
        const authDelay = this.authRetryDelaysMs[authRetries];
        if (authDelay !== undefined && !inTransaction && isAuthFailure(error)) {
          authRetries += 1;
          await this.sleep(authDelay);
          continue;
        }
        throw toDatabaseError(error);
      }
    }
  }
}

function toSqlParameter(name: string, value: SqlParam): SqlParameter {
  if (value === null) return { name, value: { isNull: true } };
  if (typeof value === 'string') return { name, value: { stringValue: value } };
  if (typeof value === 'boolean') return { name, value: { booleanValue: value } };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, value: { longValue: value } }
      : { name, value: { doubleValue: value } };
  }
  if (value instanceof Date)
    return { name, value: { stringValue: toDataApiTimestamp(value) }, typeHint: 'TIMESTAMP' };
  if (!isTypedParam(value)) throw new Error(`unsupported SQL parameter :${name}`);
  switch (value.kind) {
    case 'uuid':
      return { name, value: { stringValue: value.value }, typeHint: 'UUID' };
    case 'decimal':
      return { name, value: { stringValue: value.value }, typeHint: 'DECIMAL' };
    case 'json':
      return { name, value: { stringValue: JSON.stringify(value.value) }, typeHint: 'JSON' };
  }
}

/** The Data API wants `YYYY-MM-DD HH:MM:SS.FFF` (UTC), not ISO-8601 with `T` and `Z`. */
export function toDataApiTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

const TIMESTAMP_TYPES = new Set(['timestamp', 'timestamptz']);
const JSON_TYPES = new Set(['json', 'jsonb']);

function parseRecord(record: Row, columns: ColumnMetadata[]): Row {
  const row: Row = { ...record };
  for (const column of columns) {
    const key = column.label ?? column.name;
    if (!key) continue;
    const value = row[key];
    if (typeof value !== 'string') continue;
    const type = column.typeName ?? '';
    if (TIMESTAMP_TYPES.has(type)) row[key] = new Date(`${value.replace(' ', 'T')}Z`);
    else if (JSON_TYPES.has(type)) row[key] = JSON.parse(value);
  }
  return row;
}

function toDatabaseError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const message = (error as { message?: string }).message ?? String(error);
  const sqlState = /SQLState: (\w{5})/.exec(message)?.[1];
  const constraint = /constraint "([^"]+)"/.exec(message)?.[1];
  return new DatabaseError(message, sqlState, constraint, { cause: error });
}
