import { StartSyncBody } from '#core/domain/sync-request.ts';
import { buildPlan } from '#core/pipeline/start-sync.ts';
import { type Database, type SqlParams, sqlJson } from '#store/database.ts';
import { closeSync } from '#store/sync/sync-rows.ts';
import type { CountingDatabase, StatementEvent } from './counting-db.ts';
import { median, now, round } from './stats.ts';
import { type DbKind, serialise, startBenchSystem } from './system.ts';
import { acceptanceTree, countNodes } from './trees.ts';

export interface AcceptanceSample {
  ms: number;
  /** Statements of the request, a transaction's BEGIN and COMMIT included (Data API calls). */
  statements: number;
  byKind: Record<string, number>;
  /** Transactions the request opened (a plan above one request is written in one). */
  transactions: number;
  /** Statements that wrote plan rows: 1, or one per chunk of a plan above one request. */
  createStatements: number;
  /** Time inside the database statements of the request. */
  dbMs: number;
  /** Size of the JSON parameters that carry the plan (all chunks). */
  planParamBytes: number;
  /** Largest estimated ExecuteStatement request body of the create statements (the Data API's 4 MiB limit). */
  dataApiRequestBytes: number;
}

/** Watches the create statements of one request: plan bytes, largest request, the first statement. */
function watchCreates(counting: CountingDatabase) {
  const seen = {
    createStatements: 0,
    planParamBytes: 0,
    dataApiRequestBytes: 0,
    first: undefined as { sql: string; params: SqlParams | undefined } | undefined,
  };
  const stop = counting.observe((event: StatementEvent) => {
    if (event.kind !== 'create-sync') return;
    const plan = event.params?.plan;
    if (typeof plan === 'string') seen.planParamBytes += Buffer.byteLength(plan);
    else if (plan && typeof plan === 'object' && !(plan instanceof Date) && plan.kind === 'json')
      seen.planParamBytes += Buffer.byteLength(JSON.stringify(plan.value));
    seen.dataApiRequestBytes = Math.max(
      seen.dataApiRequestBytes,
      estimateDataApiRequestBytes(event.sql, event.params),
    );
    seen.createStatements += 1;
    seen.first ??= { sql: event.sql, params: event.params };
  });
  return { seen, stop };
}

/**
 * The JSON body the Data API SDK would send for a statement: the SQL and every parameter as a
 * string value (JSON parameters are JSON text inside JSON, so their quotes are escaped once more).
 */
export function estimateDataApiRequestBytes(sql: string, params: SqlParams | undefined): number {
  const parameters = Object.entries(params ?? {}).map(([name, value]) => {
    let text: string;
    if (value === null) text = '';
    else if (value instanceof Date) text = value.toISOString();
    else if (typeof value === 'object')
      text = value.kind === 'json' ? JSON.stringify(value.value) : value.value;
    else text = String(value);
    return { name, value: { stringValue: text }, typeHint: 'JSON' };
  });
  const arn = 'arn:aws:rds:eu-west-1:123456789012:cluster:ardoq-sync-prod-cluster-abcdefghijkl';
  return Buffer.byteLength(
    JSON.stringify({
      resourceArn: arn,
      secretArn: arn,
      database: 'ardoq_sync',
      sql,
      parameters,
      formatRecordsAs: 'JSON',
      includeResultMetadata: true,
    }),
  );
}

export interface AcceptanceResult {
  kind: DbKind;
  sizes: Array<{
    items: number;
    bodyBytes: number;
    samples: AcceptanceSample[];
    medianMs: number;
    medianDbMs: number;
    statements: number[];
    /** In-process zod validation + plan building of the same body (no HTTP, no database). */
    validateMs: number;
  }>;
  /** Processor invocations during the requests: must be 0 for the counts to be the request's alone. */
  processorInvocations: number;
  /** Prepare messages still waiting in the work queue after the last request (one per POST). */
  queuedPrepares: number;
  postedSyncs: number;
  pendingSyncs: number;
  cleanupMs: number;
  /** EXPLAIN (ANALYZE) of the create statement at the largest N, run in a rolled-back transaction. */
  explainCreate?: string[];
}

/**
 * POSTs trees of each size `repeat` times to a system whose work-queue event source is stopped, so
 * only the API runs: times the request to its 202 and counts its statements. Afterwards the pending
 * syncs are cancelled (PostgreSQL) so a later run does not resume them.
 */
export async function runAcceptance(options: {
  kind: DbKind;
  databaseUrl?: string;
  sizes: readonly number[];
  repeat: number;
}): Promise<AcceptanceResult> {
  const bench = await startBenchSystem({
    kind: options.kind,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    processorConcurrency: 1,
    latencyMs: 0,
    processors: false,
  });
  const posted: string[] = [];
  try {
    const { system, counting } = bench;
    const invocations0 = system.eventSources.work.invocations;
    const result: AcceptanceResult['sizes'] = [];
    let lastCreate: { sql: string; params: SqlParams | undefined } | undefined;
    // A warm-up request: the first one pays for JIT, connections and plan caches.
    await bench.postSync(serialise(acceptanceTree(100, 'bench-warmup'))).then((r) => posted.push(r.syncId));
    for (const size of options.sizes) {
      const samples: AcceptanceSample[] = [];
      let bodyBytes = 0;
      let validateMs = Number.NaN;
      for (let i = 0; i < options.repeat; i++) {
        const tree = acceptanceTree(size, `bench-${size}-${i}-${Date.now().toString(36)}`);
        if (countNodes(tree) !== size) throw new Error(`tree of ${countNodes(tree)} nodes, wanted ${size}`);
        const body = serialise(tree);
        bodyBytes = Buffer.byteLength(body);
        if (i === 0) {
          const t0 = now();
          buildPlan(StartSyncBody.parse(JSON.parse(body)));
          validateMs = now() - t0;
        }
        const watch = watchCreates(counting);
        counting.reset();
        const answer = await bench.postSync(body);
        const snap = counting.snapshot();
        watch.stop();
        posted.push(answer.syncId);
        lastCreate = watch.seen.first;
        samples.push({
          ms: round(answer.ms, 1),
          statements: snap.statements + 2 * snap.transactions,
          byKind: Object.fromEntries(Object.entries(snap.byKind).map(([k, v]) => [k, v.count])),
          transactions: snap.transactions,
          createStatements: watch.seen.createStatements,
          dbMs: round(
            Object.values(snap.byKind).reduce((a, v) => a + v.totalMs, 0),
            1,
          ),
          planParamBytes: watch.seen.planParamBytes,
          dataApiRequestBytes: watch.seen.dataApiRequestBytes,
        });
      }
      result.push({
        items: size,
        bodyBytes,
        samples,
        medianMs: round(median(samples.map((s) => s.ms)), 1),
        medianDbMs: round(median(samples.map((s) => s.dbMs)), 1),
        statements: samples.map((s) => s.statements),
        validateMs: round(validateMs, 1),
      });
    }
    const processorInvocations = system.eventSources.work.invocations - invocations0;
    const explainCreate = lastCreate
      ? await explainRolledBack(bench.raw, lastCreate).catch((e) => [String(e)])
      : undefined;
    const queuedPrepares = await system.queueDepth(system.queueUrls.work);
    const { rows } = await bench.raw.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_history WHERE status = 'pending' AND id = ANY(
         SELECT CAST(x AS uuid) FROM jsonb_array_elements_text(CAST(:ids AS jsonb)) x)`,
      { ids: sqlJson(posted) },
    );
    // Leave no pending sync behind in a reusable PostgreSQL database (PGlite's directory is discarded).
    const t0 = now();
    if (options.kind !== 'pglite') {
      for (const syncId of posted) {
        await closeSync(bench.raw, 'cancelled', {
          syncId,
          reason: 'Benchmark request only',
          skipReason: 'Not created: benchmark request only',
        });
      }
    }
    return {
      kind: options.kind,
      sizes: result,
      processorInvocations,
      queuedPrepares,
      postedSyncs: posted.length,
      pendingSyncs: rows[0]?.n ?? 0,
      cleanupMs: round(now() - t0, 0),
      ...(explainCreate ? { explainCreate } : {}),
    };
  } finally {
    await bench.close();
  }
}

class Rollback extends Error {}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of a write, inside a transaction that is rolled back: where the
 * statement's time goes (per-row foreign key triggers show up as "Trigger for constraint …").
 */
export async function explainRolledBack(
  db: Database,
  statement: { sql: string; params: SqlParams | undefined },
): Promise<string[]> {
  let plan: string[] = [];
  await db
    .transaction(async (tx) => {
      const { rows } = await tx.query<Record<string, string>>(
        `EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`,
        statement.params,
      );
      plan = rows.map((r) => String(Object.values(r)[0]));
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  // Top nodes, the CTE lines and the trigger/total lines are what tell the story.
  return plan.filter(
    (line, i) => i < 3 || /CTE|Insert on|Trigger|Execution Time|Planning Time|Function Scan/.test(line),
  );
}

/**
 * One POST of `size` items through the Data API adapter (its test server enforces the service's
 * 4 MiB request limit): does a sync of that size get accepted at all, in how many Data API calls, and
 * how large is the largest create request?
 */
export async function probeDataApiAcceptance(size: number): Promise<{
  status: number;
  ms: number;
  answer: string;
  calls: { execute: number; begin: number; commit: number; rollback: number };
  largestCreateRequestBytes: number;
}> {
  const bench = await startBenchSystem({
    kind: 'data-api',
    processorConcurrency: 1,
    latencyMs: 0,
    processors: false,
  });
  try {
    await bench.postSync(serialise(acceptanceTree(100, 'bench-warmup')));
    const body = serialise(acceptanceTree(size, `bench-dataapi-${Date.now().toString(36)}`));
    const before = { ...(bench.dataApi?.calls ?? { execute: 0, begin: 0, commit: 0, rollback: 0 }) };
    const watch = watchCreates(bench.counting);
    const answer = await bench.post(body);
    watch.stop();
    const after = bench.dataApi?.calls ?? before;
    return {
      status: answer.status,
      ms: round(answer.ms, 1),
      answer: answer.text.slice(0, 300),
      calls: {
        execute: after.execute - before.execute,
        begin: after.begin - before.begin,
        commit: after.commit - before.commit,
        rollback: after.rollback - before.rollback,
      },
      largestCreateRequestBytes: watch.seen.dataApiRequestBytes,
    };
  } finally {
    await bench.close();
  }
}
