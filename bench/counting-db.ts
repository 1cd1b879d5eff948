import type { ThreadStatement } from '#bin/local/processor-messages.ts';
import type { Database, Queryable, QueryResult, Row, SqlParams } from '#store/database.ts';
import { now } from './stats.ts';

/** What a statement does, recognised from its SQL text (the repository's fixed statements). */
export type StatementKind =
  | 'claim-item'
  | 'record-outcomes'
  | 'skip-subtree'
  | 'release-item'
  | 'create-sync'
  | 'claim-prepare'
  | 'release-prepare'
  | 'mark-in-progress'
  | 'list-roots'
  | 'finalize'
  | 'close-sync'
  | 'append-event'
  | 'record-deletions'
  | 'read-configuration'
  | 'read-sync'
  | 'sweep'
  | 'other';

const PATTERNS: ReadonlyArray<readonly [StatementKind, RegExp]> = [
  ['claim-item', /UPDATE sync_plan_items p SET state = 'processing'/],
  ['skip-subtree', /WITH RECURSIVE descendants AS/],
  ['close-sync', /INSERT INTO sync_history_items[\s\S]*terminal_event AS/],
  ['record-outcomes', /INSERT INTO sync_history_items/],
  ['release-item', /UPDATE sync_plan_items p SET state = 'pending', claimed_at = NULL/],
  ['create-sync', /INSERT INTO sync_plan_items/],
  ['claim-prepare', /SET prepare_claimed_at = now\(\)/],
  ['release-prepare', /SET prepare_claimed_at = NULL WHERE id/],
  ['mark-in-progress', /SET status = 'in_progress'/],
  ['list-roots', /parent_ardoq_id IS NULL AND state <> 'done'/],
  ['finalize', /UPDATE sync_history SET\s+status = CASE WHEN close_requested IS NOT NULL/],
  ['record-deletions', /deletion_count = deletion_count \+/],
  ['append-event', /UPDATE sync_history SET last_event_seq = last_event_seq \+ 1,\s+overwrite_total =/],
  ['read-configuration', /FROM azure_devops_configurations/],
  ['sweep', /LIMIT :limit/],
  ['read-sync', /^\s*SELECT \* FROM sync_history WHERE id/],
];

export function classify(sql: string): StatementKind {
  for (const [kind, pattern] of PATTERNS) if (pattern.test(sql)) return kind;
  return 'other';
}

/** One finished statement, as observers see it. */
export interface StatementEvent {
  kind: StatementKind;
  sql: string;
  params: SqlParams | undefined;
  startMs: number;
  endMs: number;
  rows: Row[];
  inTransaction: boolean;
  error?: unknown;
}

export interface KindStats {
  count: number;
  totalMs: number;
}

/**
 * A `Database` that counts every statement (each `query`, and each query run inside a transaction)
 * and the time spent in it, by kind, and tells observers about each one. Counting can be switched
 * off (`enabled = false`) for statements the benchmark makes itself.
 */
export class CountingDatabase implements Database {
  statements = 0;
  transactions = 0;
  byKind = new Map<StatementKind, KindStats>();
  enabled = true;
  /** Statements started and not finished (queued for a pool connection included). */
  inFlight = 0;
  peakInFlight = 0;
  /** ∫ inFlight dt (ms), for the time-weighted average. */
  private inFlightArea = 0;
  private inFlightSince = now();
  private areaStart = now();
  private readonly observers = new Set<(event: StatementEvent) => void>();

  constructor(readonly inner: Database) {}

  /** Registers an observer; returns the function that removes it. */
  observe(observer: (event: StatementEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  reset(): void {
    this.statements = 0;
    this.transactions = 0;
    this.byKind = new Map();
    this.peakInFlight = this.inFlight;
    this.inFlightArea = 0;
    this.inFlightSince = now();
    this.areaStart = this.inFlightSince;
  }

  /** Average number of statements in flight since the last reset. */
  averageInFlight(): number {
    this.accumulate();
    const span = now() - this.areaStart;
    return span > 0 ? this.inFlightArea / span : 0;
  }

  private accumulate(): void {
    const t = now();
    this.inFlightArea += this.inFlight * (t - this.inFlightSince);
    this.inFlightSince = t;
  }

  snapshot(): { statements: number; transactions: number; byKind: Record<string, KindStats> } {
    return {
      statements: this.statements,
      transactions: this.transactions,
      byKind: Object.fromEntries([...this.byKind].map(([k, v]) => [k, { ...v }])),
    };
  }

  /**
   * A statement a processor thread ran on a pool of its own (see ProcessorPool): counted and observed as
   * if it had passed here (statements in flight count only this thread's).
   */
  ingest(statement: ThreadStatement): void {
    if (!this.enabled) return;
    this.statements += 1;
    this.finished({
      kind: (statement.kind as StatementKind | undefined) ?? classify(statement.sql),
      sql: statement.sql,
      params: statement.params,
      startMs: statement.startEpochMs - performance.timeOrigin,
      endMs: statement.endEpochMs - performance.timeOrigin,
      rows: statement.rows,
      inTransaction: statement.inTransaction,
      ...(statement.failed ? { error: new Error('failed in a processor thread') } : {}),
    });
  }

  /** A finished statement: counted by kind, then shown to the observers. */
  private finished(event: StatementEvent): void {
    const stats = this.byKind.get(event.kind) ?? { count: 0, totalMs: 0 };
    stats.count += 1;
    stats.totalMs += event.endMs - event.startMs;
    this.byKind.set(event.kind, stats);
    for (const observer of this.observers) observer(event);
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<QueryResult<R>> {
    return this.run(this.inner, sql, params, false);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.enabled) this.transactions += 1;
    return this.inner.transaction((tx) =>
      fn({ query: <R extends Row>(sql: string, params?: SqlParams) => this.run<R>(tx, sql, params, true) }),
    );
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async run<R extends Row>(
    target: Queryable,
    sql: string,
    params: SqlParams | undefined,
    inTransaction: boolean,
  ): Promise<QueryResult<R>> {
    if (!this.enabled) return target.query<R>(sql, params);
    const kind = classify(sql);
    this.statements += 1;
    this.accumulate();
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const startMs = now();
    let result: QueryResult<R> | undefined;
    let error: unknown;
    try {
      result = await target.query<R>(sql, params);
      return result;
    } catch (e) {
      error = e;
      throw e;
    } finally {
      const endMs = now();
      this.accumulate();
      this.inFlight -= 1;
      this.finished({
        kind,
        sql,
        params,
        startMs,
        endMs,
        rows: result?.rows ?? [],
        inTransaction,
        ...(error ? { error } : {}),
      });
    }
  }
}
