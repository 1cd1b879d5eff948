import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { PipelineSettings } from '#core/pipeline/deps.ts';
import { DatabaseError, type SqlParams } from '#store/database.ts';

/**
 * What goes between the local runtime's main thread and its processor threads (processor-pool.ts,
 * processor-thread.ts): invocations one way, the calls a thread makes on the main thread's ports the
 * other (the database when it is the main thread's PGlite, the secret store), and what the thread
 * tells (logs, metrics, and, for the benchmarks, its statements and SQS sends).
 */

/** Everything a processor thread builds its ports from (structured-cloneable). */
export interface ProcessorThreadConfig {
  settings: PipelineSettings;
  /** Lambda's function timeout (see InvocationTimeout). */
  invocationTimeoutMs: number;
  /** The thread's own PostgreSQL pool; absent: the main thread's database, through messages. */
  databaseUrl?: string;
  /** Connections of the thread's pool. */
  databasePoolMax: number;
  sqs: { endpoint: string; workQueueUrl: string; finalizeQueueUrl: string };
  adoAllowedOrigins: string[];
  /** Forward debug lines to the main thread's log (costs a message per line). */
  debug: boolean;
  /** Report every statement and SQS send to the main thread (the benchmarks count them). */
  observe: boolean;
  /**
   * With `observe`: a module (URL) whose `summarize(statement)` returns what is posted instead of the
   * whole statement (its text, parameters and rows are copied between threads at a cost otherwise).
   */
  statementSummarizer?: string;
}

/** A statement a thread ran, as the benchmarks see it (times in ms since the epoch, from `epochNow`). */
export interface ThreadStatement {
  /** The statement's text ('' when a summarizer kept only its `kind`). */
  sql: string;
  /** What a summarizer recognised the statement as. */
  kind?: string;
  params: SqlParams | undefined;
  rows: Record<string, unknown>[];
  startEpochMs: number;
  endEpochMs: number;
  inTransaction: boolean;
  failed: boolean;
}

export type ToThread =
  | { type: 'invoke'; id: number; event: SQSEvent }
  | { type: 'reply'; id: number; value?: unknown; error?: SerializedError }
  | { type: 'close' };

export type DbCall =
  | { op: 'query'; sql: string; params: SqlParams | undefined; tx?: number }
  | { op: 'begin'; tx: number }
  | { op: 'commit'; tx: number }
  | { op: 'rollback'; tx: number };

export type FromThread =
  | { type: 'ready' }
  | { type: 'result'; id: number; value?: SQSBatchResponse; error?: SerializedError }
  | { type: 'db'; id: number; call: DbCall }
  | { type: 'secret'; id: number; ref: string }
  | {
      type: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      message: string;
      attributes?: Record<string, unknown>;
    }
  | { type: 'metric'; kind: 'count' | 'durationMs'; name: string; value: number | undefined }
  | { type: 'statement'; statement: ThreadStatement }
  | { type: 'sqs-send'; messages: number }
  | { type: 'closed' };

export interface SerializedError {
  name: string;
  message: string;
  sqlState?: string;
  constraint?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof DatabaseError) {
    return {
      name: error.name,
      message: error.message,
      ...(error.sqlState !== undefined ? { sqlState: error.sqlState } : {}),
      ...(error.constraint !== undefined ? { constraint: error.constraint } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error again on the other side: a DatabaseError stays one (the store reads its SQLSTATE). */
export function revive(error: SerializedError): Error {
  if (error.name === 'DatabaseError')
    return new DatabaseError(error.message, error.sqlState, error.constraint);
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}

/** A clock both threads share (performance.now() has a different origin in each thread). */
export const epochNow = (): number => performance.timeOrigin + performance.now();
