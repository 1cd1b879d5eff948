import type { z } from 'zod';
import { type ErrorDetail, formatPath, NotFoundError, ValidationError } from '#core/errors.ts';
import type { Queryable, Row } from '#core/ports/database.ts';
import { sqlJson, sqlUuid } from '#core/ports/database.ts';
import * as SQL from './sync-history-sql.ts';
import { type SyncHistory, toSyncHistory } from './sync-history-view.ts';
import { Actor, ITEM_DEPTH, NewSync, Outcome, type SyncStatus } from './sync-model.ts';

/**
 * The sync-history data layer: every write is one statement (see sync-history-sql.ts), written once
 * for every adapter.
 */

/** A sync row with the internal counters the pipeline needs besides the public view. */
export interface SyncState {
  view: SyncHistory;
  status: SyncStatus;
  totalItems: number;
  outcomes: number;
  lastEventSeq: number;
  /** Request options (process template hint, field mapping id). */
  options: Record<string, unknown>;
  workItemTypes: Record<string, unknown> | null;
}

export interface RecordResult {
  /** Outcome rows this call really inserted (0 for a pure duplicate). */
  inserted: number;
  /** Of those, the `created` outcomes. */
  insertedCreated: number;
  sync: SyncState;
  /** Every node has its outcome: time to finalize. */
  complete: boolean;
}

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details: ErrorDetail[] = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const first = details[0];
  throw new ValidationError(
    `Invalid ${what}: ${first ? `${first.path} ${first.message}` : 'unknown'}`,
    details,
  );
}

function toState(row: Row): SyncState {
  return {
    view: toSyncHistory(row),
    status: row.status as SyncStatus,
    totalItems: row.total_items as number,
    outcomes: (row.items_created as number) + (row.items_failed as number) + (row.items_skipped as number),
    lastEventSeq: row.last_event_seq as number,
    options: (row.options as Record<string, unknown> | undefined) ?? {},
    workItemTypes: (row.work_item_types as Record<string, unknown> | null | undefined) ?? null,
  };
}

/**
 * Creates a sync: the history row (pending), the whole plan, the `sync_started` audit log and the
 * `sync:accepted` event, in one statement however large the tree (the plan travels as one JSON value).
 */
export async function createSync(db: Queryable, input: NewSync): Promise<SyncState> {
  const sync = parse(NewSync, input, 'sync');
  const plan = sync.plan.map((node, position) => ({
    ardoq_id: node.ardoqId,
    parent_ardoq_id: node.parentArdoqId,
    item_type: node.itemType,
    depth: ITEM_DEPTH[node.itemType],
    position,
    name: node.name,
    payload: node.payload,
  }));
  const { rows } = await db.query(SQL.CREATE_SYNC, {
    plan: sqlJson(plan),
    projectName: sync.projectName,
    sourceConfigId: sync.sourceConfigId ?? null,
    targetConfigId: sync.targetConfigId ?? null,
    overwriteMode: sync.overwriteMode,
    userId: sync.actor.userId ?? null,
    sourceIp: sync.actor.sourceIp ?? null,
    userAgent: sync.actor.userAgent ?? null,
    options: sqlJson(sync.options),
    deadlineAt: sync.deadlineAt,
  });
  const row = rows[0];
  if (!row || row.plan_rows !== plan.length) throw new Error('sync was not created with its whole plan');
  return toState(row);
}

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
  await db.query('UPDATE sync_history SET prepare_claimed_at = NULL WHERE id = CAST(:syncId AS uuid)', {
    syncId: sqlUuid(syncId),
  });
}

/**
 * pending → in_progress (with its `sync:started` event), storing the work item types discovered in
 * the project. Returns null when the sync was not pending.
 */
export async function markInProgress(
  db: Queryable,
  syncId: string,
  workItemTypes?: Record<string, unknown>,
): Promise<SyncState | null> {
  const { rows } = await db.query(SQL.MARK_IN_PROGRESS, {
    syncId: sqlUuid(syncId),
    workItemTypes: workItemTypes ? sqlJson(workItemTypes) : null,
  });
  return rows[0] ? toState(rows[0]) : null;
}

/**
 * in_progress → completed (or failed when nothing was created), once every node has its outcome;
 * writes the audit log and the final event. Returns null when there was nothing to do.
 */
export async function finalizeSync(db: Queryable, syncId: string): Promise<SyncState | null> {
  const { rows } = await db.query(SQL.FINALIZE, { syncId: sqlUuid(syncId) });
  return rows[0] ? toState(rows[0]) : null;
}

export interface CloseInput {
  syncId: string;
  /** cancelled: the user's message; failed: the error_message. */
  reason: string;
  /** The outcome message written on each node that had not started. */
  skipReason: string;
  actor?: Actor;
}

/**
 * pending|in_progress → cancelled or failed, skipping every node that had not started, with the
 * counters, audit log and events, in one statement. Returns null when the sync was already terminal.
 */
export async function closeSync(
  db: Queryable,
  to: 'cancelled' | 'failed',
  input: CloseInput,
): Promise<SyncState | null> {
  const actor = parse(Actor, input.actor ?? {}, 'actor');
  const { rows } = await db.query(to === 'cancelled' ? SQL.CANCEL : SQL.FAIL, {
    syncId: sqlUuid(input.syncId),
    reason: input.reason,
    skipReason: input.skipReason,
    actorUserId: actor.userId ?? null,
    actorSourceIp: actor.sourceIp ?? null,
    actorUserAgent: actor.userAgent ?? null,
  });
  return rows[0] ? toState(rows[0]) : null;
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
  const valid = outcomes.map((o, i) => parse(Outcome, o, `outcome ${i}`));
  const ids = new Set(valid.map((o) => o.ardoqId));
  if (ids.size !== valid.length) throw new ValidationError('Each node can have only one outcome per call');
  const rows = valid.map((o) =>
    o.status === 'created'
      ? {
          ardoq_id: o.ardoqId,
          status: o.status,
          azure_devops_id: o.azureDevOpsId,
          azure_devops_url: o.azureDevOpsUrl,
          changed_by_user: o.changedByUser ?? null,
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
  return {
    inserted: row.inserted as number,
    insertedCreated: row.inserted_created as number,
    sync,
    complete: sync.outcomes === sync.totalItems,
  };
}

/** Adds a chunk's deleted work items to `deletion_count` and writes its event, in one statement. */
export async function recordDeletions(
  db: Queryable,
  syncId: string,
  deleted: number,
  event: { name: string; data: Record<string, unknown> },
): Promise<{ deletionCount: number }> {
  if (!Number.isInteger(deleted) || deleted < 0)
    throw new ValidationError('deleted must be a whole number ≥ 0');
  const { rows } = await db.query(SQL.RECORD_DELETIONS, {
    syncId: sqlUuid(syncId),
    deleted,
    event: event.name,
    data: sqlJson(event.data),
  });
  if (!rows[0]) throw new NotFoundError(`Sync ${syncId} not found`);
  return { deletionCount: rows[0].deletion_count as number };
}

/** Appends one progress event (its `timestamp` is added); returns its sequence number. */
export async function appendEvent(
  db: Queryable,
  syncId: string,
  name: string,
  data: Record<string, unknown>,
): Promise<number> {
  const { rows } = await db.query<{ seq: number }>(SQL.APPEND_EVENT, {
    syncId: sqlUuid(syncId),
    event: name,
    data: sqlJson(data),
  });
  if (!rows[0]) throw new NotFoundError(`Sync ${syncId} not found`);
  return rows[0].seq;
}

export interface SyncEvent {
  seq: number;
  event: string;
  data: Record<string, unknown>;
}

/** The events of a sync after `afterSeq`, in order (the SSE replay). */
export async function listEvents(
  db: Queryable,
  syncId: string,
  afterSeq = 0,
  limit = 500,
): Promise<SyncEvent[]> {
  const { rows } = await db.query<{ seq: number; event: string; data: Record<string, unknown> }>(
    `SELECT seq, event, data FROM sync_events
     WHERE sync_history_id = CAST(:syncId AS uuid) AND seq > :afterSeq
     ORDER BY seq LIMIT :limit`,
    { syncId: sqlUuid(syncId), afterSeq, limit },
  );
  return rows;
}
