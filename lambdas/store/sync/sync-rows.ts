import * as z from 'zod';
import { MappingSnapshot } from '#core/domain/field-mapping.ts';
import type { StoredTypes } from '#core/domain/stored-types.ts';
import { ITEM_DEPTH, type NewSync, type Outcome, TERMINAL_STATUSES } from '#core/domain/sync-model.ts';
import type { CloseInput, RecordResult, SyncEvent, SyncState } from '#core/domain/sync-state.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { Database, Queryable, Row } from '../database.ts';
import { sqlJson, sqlUuid } from '../database.ts';
import { col, parseRow } from '../rows.ts';
import * as SQL from './statements.ts';
import { toSyncState } from './sync-row.ts';

/**
 * The sync-history statements as functions over a database (the SqlSyncStore's implementation): every
 * write is one statement (see statements.ts), written once for every adapter; every row is parsed at
 * this edge (sync-row.ts).
 */

const toState = (row: Row | undefined) => toSyncState(row);

// The extra columns some statements return beside the sync row.
const PlanRowsRow = z.object({ plan_rows: col.int });
const InsertedRow = z.object({ inserted: col.int, inserted_created: col.int });
const DeletionsRow = z.object({ deletion_count: col.int, close_requested: z.string().nullable() });
const DelayRow = z.object({ delay_seconds: col.int });
const SeqRow = z.object({ seq: col.int });
const ClosingRow = z.object({
  status: z.string(),
  close_requested: z.enum(['cancelled', 'failed']).nullable(),
});
const EventRow = z.object({ seq: col.int, event: col.text, data: col.json });

/**
 * Budget of one create statement's plan parameter as the Data API request carries it (JSON text inside
 * a JSON string): well under the service's 4 MiB request limit (FACTS.md), leaving room for the SQL and
 * the other parameters. A plan above it is written in chunks of at most this size, in one transaction.
 */
export const MAX_PLAN_STATEMENT_BYTES = 3 * 1024 * 1024;

export interface CreateSyncOptions {
  /** Overrides MAX_PLAN_STATEMENT_BYTES (tests exercise the chunked path with small plans). */
  maxPlanStatementBytes?: number;
}

/** A plan row as the create statements read it (statements.ts `planRows`). */
type PlanRow = [string, string | null, number, string] | [string, string | null, number, string, object];

/** Bytes a JSON text adds to a Data API request: it travels as a JSON string, quotes and `\` escaped. */
const requestBytes = (json: string) => Buffer.byteLength(JSON.stringify(json)) - 2;

/**
 * Cuts the plan into JSON arrays of rows, each at most `budget` request bytes (`first` for the chunk
 * that rides with the sync row). A node too large for any request is a validation error.
 */
function chunkPlan(sync: NewSync, first: number, budget: number): string[] {
  const chunks: string[] = [];
  let rows: string[] = [];
  let size = 2; // the brackets
  sync.plan.forEach((node, index) => {
    const fields: PlanRow = [node.ardoqId, node.parentArdoqId, ITEM_DEPTH[node.itemType], node.name];
    const row = JSON.stringify(Object.keys(node.payload).length > 0 ? [...fields, node.payload] : fields);
    const bytes = requestBytes(row) + 1; // and its comma
    if (bytes + 2 > budget) {
      throw new ValidationError(
        `Invalid sync: plan[${index}] (${node.ardoqId}) is too large to store (${bytes} bytes serialized)`,
        [{ path: `plan[${index}]`, message: `must serialize to at most ${budget - 3} bytes` }],
      );
    }
    // The first chunk may stay empty when even this row does not fit beside the sync row.
    if (size + bytes > (chunks.length === 0 ? first : budget)) {
      chunks.push(`[${rows.join(',')}]`);
      [rows, size] = [[], 2];
    }
    rows.push(row);
    size += bytes;
  });
  chunks.push(`[${rows.join(',')}]`);
  return chunks;
}

/** Runs `work` in a transaction: the database's own, or the open transaction `db` already is. */
function inTransaction<T>(db: Queryable | Database, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return 'transaction' in db ? db.transaction(work) : work(db);
}

/**
 * Creates a sync: the history row (pending), the whole plan, the `sync_started` audit log and the
 * `sync:accepted` event. A plan that fits one request (MAX_PLAN_STATEMENT_BYTES) is one statement; a
 * larger one is that statement with the plan's first chunk, then one statement per further chunk, in
 * one transaction (so nothing is half-written): the count of statements follows the request's bytes,
 * never its number of items. Given an open transaction (a `Queryable` without `transaction`), the
 * chunks run in it.
 */
export async function createSync(
  db: Queryable | Database,
  input: NewSync,
  options: CreateSyncOptions = {},
): Promise<SyncState> {
  const sync = input;
  const count = (type: string) => sync.plan.filter((node) => node.itemType === type).length;
  const params = {
    projectName: sync.projectName,
    sourceConfigId: sync.sourceConfigId ?? null,
    targetConfigId: sync.targetConfigId ?? null,
    overwriteMode: sync.overwriteMode,
    totalItems: sync.plan.length,
    epicsTotal: count('epic'),
    featuresTotal: count('feature'),
    userStoriesTotal: count('user_story'),
    userId: sync.actor?.userId ?? null,
    sourceIp: sync.actor?.sourceIp ?? null,
    userAgent: sync.actor?.userAgent ?? null,
    options: sqlJson(sync.options ?? {}),
    deadlineAt: sync.deadlineAt,
    fieldMapping: sync.mapping ? sqlJson(mappingSummary(sync.mapping)) : null,
    mappingSnapshot: sync.mapping ? sqlJson(sync.mapping) : null,
    firstPosition: 0,
  };
  const budget = options.maxPlanStatementBytes ?? MAX_PLAN_STATEMENT_BYTES;
  const chunks = chunkPlan(sync, budget - requestBytes(JSON.stringify(params)), budget);
  const [first, ...rest] = chunks as [string, ...string[]];
  const create = async (tx: Queryable) => {
    const { rows } = await tx.query(SQL.CREATE_SYNC, { ...params, plan: first });
    const row = rows[0];
    if (!row) throw new Error('sync was not created');
    const state = toState(row);
    let planRows = parseRow(PlanRowsRow, row, 'create sync').plan_rows;
    let firstPosition = planRows;
    for (const plan of rest) {
      const chunk = await tx.query(SQL.INSERT_PLAN_CHUNK, {
        syncId: sqlUuid(state.view.id),
        plan,
        firstPosition,
      });
      planRows += parseRow(PlanRowsRow, chunk.rows[0], 'plan chunk').plan_rows;
      firstPosition = planRows;
    }
    if (planRows !== sync.plan.length) throw new Error('sync was not created with its whole plan');
    return state;
  };
  return rest.length === 0 ? create(db) : inTransaction(db, create);
}

/** What a sync's history row shows of its mapping (the rows stay in sync_field_mappings). */
export function mappingSummary(mapping: MappingSnapshot) {
  const { mappings: _rows, ...summary } = mapping;
  return summary;
}

/** The mapping frozen for a sync, or null while the prepare step has not chosen one. */
export async function mappingOf(db: Queryable, syncId: string): Promise<MappingSnapshot | null> {
  const { rows } = await db.query(
    'SELECT snapshot FROM sync_field_mappings WHERE sync_history_id = CAST(:syncId AS uuid)',
    {
      syncId: sqlUuid(syncId),
    },
  );
  return rows[0] ? parseRow(SnapshotRow, rows[0], 'sync_field_mappings').snapshot : null;
}

/** Freezes the mapping prepare chose (when none was) and records the project's GUID (when known). */
export async function fillMapping(
  db: Queryable,
  syncId: string,
  fill: { mapping?: MappingSnapshot; projectId?: string },
): Promise<void> {
  await db.query(SQL.FILL_MAPPING, {
    syncId: sqlUuid(syncId),
    mappingSnapshot: fill.mapping ? sqlJson(fill.mapping) : null,
    fieldMapping: fill.mapping ? sqlJson(mappingSummary(fill.mapping)) : null,
    projectId: fill.projectId?.toLowerCase() ?? null,
  });
}

const SnapshotRow = z.object({ snapshot: MappingSnapshot });

export async function getSync(db: Queryable, syncId: string): Promise<SyncState> {
  const { rows } = await db.query('SELECT * FROM sync_history WHERE id = CAST(:syncId AS uuid)', {
    syncId: sqlUuid(syncId),
  });
  if (!rows[0]) throw new NotFoundError(`Sync ${syncId} not found`);
  return toState(rows[0]);
}

/**
 * Claims the prepare step of a pending sync: null when the sync is not pending or another prepare
 * holds a claim younger than `staleSeconds`.
 */
export async function claimPrepare(
  db: Queryable,
  syncId: string,
  staleSeconds: number,
): Promise<SyncState | null> {
  const { rows } = await db.query(
    `UPDATE sync_history SET prepare_claimed_at = now()
     WHERE id = CAST(:syncId AS uuid) AND status = 'pending'
       AND (prepare_claimed_at IS NULL OR prepare_claimed_at < now() - make_interval(secs => :staleSeconds))
     RETURNING *`,
    { syncId: sqlUuid(syncId), staleSeconds },
  );
  return rows[0] ? toState(rows[0]) : null;
}

/** Gives the prepare claim back so a retry can take it at once. */
export async function releasePrepare(db: Queryable, syncId: string): Promise<void> {
  await db.query(
    `UPDATE sync_history SET prepare_claimed_at = NULL
     WHERE id = CAST(:syncId AS uuid) AND status = 'pending' AND prepare_claimed_at IS NOT NULL`,
    { syncId: sqlUuid(syncId) },
  );
}

/**
 * pending → in_progress (with its `sync:started` event), storing the work item types discovered in
 * the project. Returns null when the sync was not pending.
 */
export async function markInProgress(
  db: Queryable,
  syncId: string,
  workItemTypes?: StoredTypes,
): Promise<SyncState | null> {
  const { rows } = await db.query(SQL.MARK_IN_PROGRESS, {
    syncId: sqlUuid(syncId),
    workItemTypes: workItemTypes ? sqlJson(workItemTypes) : null,
  });
  return rows[0] ? toState(rows[0]) : null;
}

/**
 * The terminal transition once every node has its outcome: the status a close request asked for, else
 * completed (or failed when nothing was created), with the audit log and the final event carrying the
 * final numbers. A closing pending sync waits while a prepare claim younger than `staleSeconds` is held
 * (the prepare step may still be deleting). Returns null when there was nothing to do.
 */
export async function finalizeSync(
  db: Queryable,
  syncId: string,
  options: { staleSeconds?: number } = {},
): Promise<SyncState | null> {
  const { rows } = await db.query(SQL.FINALIZE, {
    syncId: sqlUuid(syncId),
    staleSeconds: options.staleSeconds ?? 180,
  });
  return rows[0] ? toState(rows[0]) : null;
}

/**
 * Asks an open sync to close (cancelled or failed), in one statement: every node that had not started
 * is skipped with its counters and events, and the sync records the status it is closing to. It stays
 * open while creates already sent finish (they record their outcomes); `finalizeSync` moves it to that
 * status once the last outcome is in. The first request wins: a later one for another status skips
 * nothing and leaves the first. Returns the sync (open, or already terminal), or null for an unknown id.
 */
export async function requestClose(
  db: Queryable,
  to: 'cancelled' | 'failed',
  input: CloseInput,
): Promise<SyncState | null> {
  const actor = input.actor ?? {};
  const { rows } = await db.query(SQL.REQUEST_CLOSE, {
    syncId: sqlUuid(input.syncId),
    to,
    reason: input.reason,
    skipReason: input.skipReason,
    actor: sqlJson(actor),
  });
  const state = rows[0] ? toState(rows[0]) : null;
  // An open sync always comes back with a close recorded, unless the row is the statement's fallback
  // read: a FINALIZE that committed while this UPDATE waited for the row made it terminal, and the
  // fallback still sees the version of this statement's snapshot. A new statement sees what it became.
  if (state && !TERMINAL_STATUSES.includes(state.status) && state.closeRequested === null)
    return getSync(db, input.syncId);
  return state;
}

/**
 * `requestClose`, then `finalizeSync`: the sync closes at once when nothing is in flight. Returns the
 * terminal sync, the still closing one, or null when it was already terminal before (or unknown).
 */
export async function closeSync(
  db: Queryable,
  to: 'cancelled' | 'failed',
  input: CloseInput,
  options: { staleSeconds?: number } = {},
): Promise<SyncState | null> {
  const requested = await requestClose(db, to, input);
  if (!requested || TERMINAL_STATUSES.includes(requested.status)) return null;
  return (await finalizeSync(db, input.syncId, options)) ?? requested;
}

/**
 * Records item outcomes (one or a batch): each row is inserted only if the node has none yet, and
 * only inserted rows bump the counters and emit events, in one statement. Duplicates are no-ops.
 */
export async function recordOutcomes(
  db: Queryable,
  syncId: string,
  outcomes: readonly Outcome[],
): Promise<RecordResult> {
  const ids = new Set(outcomes.map((o) => o.ardoqId));
  if (ids.size !== outcomes.length) throw new Error('Each node can have only one outcome per call');
  const rows = outcomes.map((o) =>
    o.status === 'created'
      ? {
          ardoq_id: o.ardoqId,
          status: o.status,
          azure_devops_id: o.azureDevOpsId,
          azure_devops_url: o.azureDevOpsUrl,
          changed_by_user: o.changedByUser ?? null,
          ...(o.throttledMs ? { throttled_ms: Math.round(o.throttledMs) } : {}),
        }
      : { ardoq_id: o.ardoqId, status: o.status, error_message: o.errorMessage },
  );
  return toRecordResult(
    syncId,
    await db.query(SQL.RECORD_OUTCOMES, { syncId: sqlUuid(syncId), outcomes: sqlJson(rows) }),
  );
}

/** Skips every descendant of a node that was not created, in one statement. */
export async function skipSubtree(db: Queryable, syncId: string, rootArdoqId: string): Promise<RecordResult> {
  return toRecordResult(syncId, await db.query(SQL.SKIP_SUBTREE, { syncId: sqlUuid(syncId), rootArdoqId }));
}

function toRecordResult(syncId: string, result: { rows: Row[] }): RecordResult {
  const row = result.rows[0];
  if (!row) throw new NotFoundError(`Sync ${syncId} not found`);
  const sync = toState(row);
  const counts = parseRow(InsertedRow, row, 'record outcomes');
  return {
    inserted: counts.inserted,
    insertedCreated: counts.inserted_created,
    sync,
    complete: sync.outcomes === sync.totalItems,
  };
}

/**
 * Adds a chunk's deleted work items to `deletion_count` and writes its event, in one statement, while
 * the sync is pending (its prepare step runs). Says whether a close was requested meanwhile.
 */
export async function recordDeletions(
  db: Queryable,
  syncId: string,
  deleted: number,
  event: { name: string; data: Record<string, unknown> },
): Promise<{ deletionCount: number; closing: boolean }> {
  if (!Number.isInteger(deleted) || deleted < 0)
    throw new ValidationError('deleted must be a whole number ≥ 0');
  const { rows } = await db.query(SQL.RECORD_DELETIONS, {
    syncId: sqlUuid(syncId),
    deleted,
    event: event.name,
    data: sqlJson(event.data),
  });
  if (!rows[0]) throw new NotFoundError(`Sync ${syncId} not found or not pending`);
  const row = parseRow(DeletionsRow, rows[0], 'record deletions');
  return { deletionCount: row.deletion_count, closing: row.close_requested !== null };
}

/**
 * Appends one progress event to an open sync (its `timestamp` is added); returns its sequence number.
 * `overwriteTotal` is stored with an `overwrite:deleting` event.
 */
export async function appendEvent(
  db: Queryable,
  syncId: string,
  name: string,
  data: Record<string, unknown>,
  options: { overwriteTotal?: number } = {},
): Promise<number> {
  const { rows } = await db.query(SQL.APPEND_EVENT, {
    syncId: sqlUuid(syncId),
    event: name,
    data: sqlJson(data),
    overwriteTotal: options.overwriteTotal ?? null,
  });
  if (!rows[0]) throw new NotFoundError(`Sync ${syncId} not found or already finished`);
  return parseRow(SeqRow, rows[0], 'append event').seq;
}

/**
 * Postpones a failed prepare attempt by `delaySeconds`, or to the end of the retry window (opened at
 * the first failure, `budgetMinutes` long) when that comes first (see SQL.POSTPONE_PREPARE), with an
 * optional event. Returns the sync and the wait, or null when the window is over or the sync is no
 * longer pending and open.
 */
export async function postponePrepare(
  db: Queryable,
  syncId: string,
  retry: {
    delaySeconds: number;
    budgetMinutes: number;
    event?: { name: string; data: Record<string, unknown> };
  },
): Promise<{ sync: SyncState; delaySeconds: number } | null> {
  const { rows } = await db.query(SQL.POSTPONE_PREPARE, {
    syncId: sqlUuid(syncId),
    delaySeconds: Math.max(0, Math.ceil(retry.delaySeconds)),
    budgetMinutes: retry.budgetMinutes,
    event: retry.event?.name ?? null,
    data: sqlJson(retry.event?.data ?? {}),
  });
  return rows[0]
    ? { sync: toState(rows[0]), delaySeconds: parseRow(DelayRow, rows[0], 'postpone prepare').delay_seconds }
    : null;
}

/**
 * What an open sync was asked to close to (null: it goes on), a check before the next Azure DevOps
 * call. A terminal or unknown sync counts as closing too (its status, or 'failed').
 */
export async function closingTo(db: Queryable, syncId: string): Promise<'cancelled' | 'failed' | null> {
  const { rows } = await db.query(
    'SELECT status, close_requested FROM sync_history WHERE id = CAST(:syncId AS uuid)',
    { syncId: sqlUuid(syncId) },
  );
  if (!rows[0]) return 'failed';
  const row = parseRow(ClosingRow, rows[0], 'closing');
  if (row.close_requested) return row.close_requested;
  if (row.status === 'pending' || row.status === 'in_progress') return null;
  return row.status === 'cancelled' ? 'cancelled' : 'failed';
}

/** Whether the sync is closing (or closed): see closingTo. */
export const isClosing = async (db: Queryable, syncId: string): Promise<boolean> =>
  (await closingTo(db, syncId)) !== null;

/** The events of a sync after `afterSeq`, in order (the SSE replay). */
export async function listEvents(
  db: Queryable,
  syncId: string,
  afterSeq = 0,
  limit = 500,
): Promise<SyncEvent[]> {
  const { rows } = await db.query(
    `SELECT seq, event, data FROM sync_events
     WHERE sync_history_id = CAST(:syncId AS uuid) AND seq > :afterSeq
     ORDER BY seq LIMIT :limit`,
    { syncId: sqlUuid(syncId), afterSeq, limit },
  );
  return rows.map((row) => parseRow(EventRow, row, 'sync_events'));
}
