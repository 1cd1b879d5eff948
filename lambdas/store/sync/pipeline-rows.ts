import * as z from 'zod';
import { StoredTypes } from '#core/domain/stored-types.ts';
import { ItemType, SyncStatus } from '#core/domain/sync-model.ts';
import type { ClaimedItem, NodeKey, SweepNodeList, SweepSyncList } from '#core/domain/sync-state.ts';
import type { Queryable } from '../database.ts';
import { sqlJson, sqlUuid } from '../database.ts';
import { col, parseRow } from '../rows.ts';
import { ARDOQ_ID_KEYS, addThrottled, lockPlanRows } from './statements.ts';

/** A row of CLAIM_ITEMS. */
const ClaimRow = z.object({
  ardoq_id: col.text,
  item_type: ItemType,
  name: col.text,
  payload: col.json,
  attempts: col.int,
  parent_ardoq_id: col.nullableText,
  parent_azure_devops_id: col.nullableInt,
  children: z.array(z.string()),
  sync_status: SyncStatus,
  close_requested: z.enum(['cancelled', 'failed']).nullable(),
  project_name: col.text,
  target_config_id: col.nullableText,
  work_item_types: StoredTypes.nullable(),
  options: col.json,
  sync_started_at: col.time,
});
const IdRow = z.object({ id: col.text });
const ArdoqIdRow = z.object({ ardoq_id: col.text });
const NodeRow = z.object({ sync_history_id: col.text, ardoq_id: col.text });
const CountRow = z.object({ n: col.int });

// The nodes are locked first (in ardoq_id order: two processors claiming overlapping batches, as SQS
// delivers duplicates in any grouping, cannot deadlock), then updated by row id (see lockPlanRows).
export const CLAIM_ITEMS = `
WITH wanted AS (${lockPlanRows(
  ARDOQ_ID_KEYS,
  `, q.state = 'pending' AS pending,
    q.state = 'processing' AND q.claimed_at < now() - make_interval(secs => :staleSeconds) AS stale`,
)}
),
c AS (
  UPDATE sync_plan_items p SET state = 'processing', attempts = p.attempts + 1, claimed_at = now()
  FROM wanted w, sync_history s
  WHERE p.ctid = w.plan_tid AND s.id = w.sync_history_id
    AND s.status = 'in_progress' AND (w.pending OR w.stale)
  RETURNING p.sync_history_id, p.ardoq_id, p.parent_ardoq_id, p.item_type, p.name, p.payload, p.attempts,
    s.status AS sync_status, s.close_requested, s.project_name, s.target_config_id, s.work_item_types,
    s.options, s.started_at AS sync_started_at
)
SELECT c.sync_history_id, c.ardoq_id, c.parent_ardoq_id, c.item_type, c.name, c.payload, c.attempts,
  c.sync_status, c.close_requested, c.project_name, c.target_config_id, c.options, c.sync_started_at,
  -- The sync's work item types (kilobytes of field facts) once per claim, not once per node.
  CASE WHEN row_number() OVER (ORDER BY c.ardoq_id) = 1 THEN c.work_item_types END AS work_item_types,
  parent.azure_devops_id AS parent_azure_devops_id,
  (SELECT coalesce(jsonb_agg(ch.ardoq_id ORDER BY ch.position), '[]'::jsonb) FROM sync_plan_items ch
   WHERE ch.sync_history_id = c.sync_history_id AND ch.parent_ardoq_id = c.ardoq_id) AS children
FROM c
LEFT JOIN sync_plan_items parent
  ON parent.sync_history_id = c.sync_history_id AND parent.ardoq_id = c.parent_ardoq_id
ORDER BY c.ardoq_id`;

/**
 * Claims nodes of one sync for processing, in one statement (a whole SQS batch): each a pending node
 * of a running sync, or a node whose earlier claim went stale (its processor died). A closing sync's
 * nodes are claimed too, to be reconciled (never created). Exactly one
 * processor holds a node at a time: nodes done, held by another processor or unknown are left out, so
 * a duplicate delivery claims nothing. Each claimed node comes with its parent's work item id, its
 * children and the sync's settings.
 */
export async function claimItems(
  db: Queryable,
  syncId: string,
  ardoqIds: readonly string[],
  staleSeconds: number,
): Promise<ClaimedItem[]> {
  if (ardoqIds.length === 0) return [];
  const { rows } = await db.query(CLAIM_ITEMS, {
    syncId: sqlUuid(syncId),
    ardoqIds: sqlJson([...new Set(ardoqIds)]),
    staleSeconds,
  });
  const parsed = rows.map((row) => parseRow(ClaimRow, row, 'claim items'));
  // One row carries the sync's types (see CLAIM_ITEMS): every node of the claim shares that object.
  const types = parsed.find((r) => r.work_item_types !== null)?.work_item_types ?? null;
  return parsed.map((r) => ({
    syncId,
    ardoqId: r.ardoq_id,
    itemType: r.item_type,
    name: r.name,
    payload: r.payload,
    attempts: r.attempts,
    parentArdoqId: r.parent_ardoq_id,
    parentAzureDevOpsId: r.parent_azure_devops_id,
    children: r.children,
    syncStatus: r.sync_status,
    closeRequested: r.close_requested,
    projectName: r.project_name,
    targetConfigId: r.target_config_id,
    workItemTypes: types,
    options: r.options,
    syncStartedAt: r.sync_started_at,
  }));
}

/** See releaseItems: locked by primary key like a claim, then given back by row id. */
export const RELEASE_ITEMS = `WITH claimed AS (${lockPlanRows(ARDOQ_ID_KEYS, `, q.state = 'processing' AS held`)}
),
sync AS (
  SELECT id FROM sync_history s
  WHERE s.id = CAST(:syncId AS uuid) AND s.status = 'in_progress' AND (s.close_requested IS NULL OR :reachedAdo)
),
released AS (
  UPDATE sync_plan_items p SET state = 'pending', claimed_at = NULL,
    attempts = CASE WHEN :reachedAdo THEN p.attempts ELSE greatest(p.attempts - 1, 0) END
  FROM claimed c
  WHERE p.ctid = c.plan_tid AND c.held AND EXISTS (SELECT 1 FROM sync)
  RETURNING p.ardoq_id
),
waited AS (
  UPDATE sync_history s SET throttled_ms = ${addThrottled('s', 'CAST(:throttledMs AS bigint)')}
  WHERE s.id = CAST(:syncId AS uuid) AND CAST(:throttledMs AS bigint) > 0 AND EXISTS (SELECT 1 FROM released)
)
SELECT ardoq_id FROM released`;

/**
 * Gives claimed nodes back (they will be retried), in one statement, and returns those given back.
 * `reachedAdo: false` (throttled: nothing was created) also takes back the attempt, so the retry does
 * not go looking for a work item; `throttledMs` is added to the sync's time spent throttled (see
 * addThrottled). Only while
 * the sync runs; on a closing sync only nodes whose create may have happened (`reachedAdo`), which
 * their retry reconciles: the caller records the others as not created.
 */
export async function releaseItems(
  db: Queryable,
  syncId: string,
  ardoqIds: readonly string[],
  reachedAdo: boolean,
  throttledMs = 0,
): Promise<string[]> {
  if (ardoqIds.length === 0) return [];
  const { rows } = await db.query(RELEASE_ITEMS, {
    syncId: sqlUuid(syncId),
    ardoqIds: sqlJson([...ardoqIds]),
    reachedAdo,
    throttledMs: Math.max(0, Math.round(throttledMs)),
  });
  return rows.map((row) => parseRow(ArdoqIdRow, row, 'release items').ardoq_id);
}

export const releaseItem = async (
  db: Queryable,
  syncId: string,
  ardoqId: string,
  reachedAdo: boolean,
  throttledMs = 0,
): Promise<boolean> => (await releaseItems(db, syncId, [ardoqId], reachedAdo, throttledMs)).length > 0;

/** Epics of a sync (what `prepare` enqueues). */
export async function listRootItems(db: Queryable, syncId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT ardoq_id FROM sync_plan_items
     WHERE sync_history_id = CAST(:syncId AS uuid) AND parent_ardoq_id IS NULL AND state <> 'done'
     ORDER BY position`,
    { syncId: sqlUuid(syncId) },
  );
  return rows.map((row) => parseRow(ArdoqIdRow, row, 'root items').ardoq_id);
}

export interface SweepFindings {
  /** Syncs whose every node has its outcome, still open: running ones, or closing ones. */
  toFinalize: string[];
  /** Open syncs past their deadline, not closing yet. */
  pastDeadline: string[];
  /** Pending syncs whose prepare step ran out of retry time without coming back (its message is lost). */
  prepareExpired: string[];
  /** Pending syncs whose prepare message seems lost. */
  toPrepare: string[];
  /** Nodes to enqueue again: pending under a created parent for too long, or stale claims. */
  stranded: Array<{ syncId: string; ardoqId: string }>;
  /** Nodes that were not created but still have pending descendants (a crash between two writes). */
  unskippedParents: Array<{ syncId: string; ardoqId: string }>;
}
const FIRST_UUID = '00000000-0000-0000-0000-000000000000';

type SyncList = SweepSyncList;
type NodeList = SweepNodeList;

const STALE = 'now() - make_interval(secs => :staleSeconds)';

/** The sync lists: conditions on sync_history, read in id order. */
const SYNC_LISTS: Record<SyncList, string> = {
  toFinalize: `items_created + items_failed + items_skipped = total_items
    AND (status = 'in_progress' OR (status = 'pending' AND close_requested IS NOT NULL
      AND (prepare_claimed_at IS NULL OR prepare_claimed_at < ${STALE})))`,
  pastDeadline: `status IN ('pending', 'in_progress') AND close_requested IS NULL AND deadline_at < now()`,
  prepareExpired: `status = 'pending' AND close_requested IS NULL AND deadline_at >= now()
    AND prepare_retry_until < ${STALE} AND (prepare_claimed_at IS NULL OR prepare_claimed_at < ${STALE})`,
  toPrepare: `status = 'pending' AND close_requested IS NULL AND deadline_at >= now() AND updated_at < ${STALE}
    AND (prepare_retry_until IS NULL OR prepare_retry_until >= ${STALE})
    AND (prepare_next_at IS NULL OR prepare_next_at < ${STALE})`,
};

/** The node lists, read in (sync id, ardoq id) order. */
const NODE_LISTS: Record<NodeList, string> = {
  stranded: `SELECT p.sync_history_id, p.ardoq_id
     FROM sync_history s
     JOIN sync_plan_items p ON p.sync_history_id = s.id
     LEFT JOIN sync_plan_items parent
       ON parent.sync_history_id = p.sync_history_id AND parent.ardoq_id = p.parent_ardoq_id
     WHERE s.status = 'in_progress' AND p.state <> 'done'
       AND (p.sync_history_id, p.ardoq_id) > (CAST(:afterSync AS uuid), CAST(:afterNode AS text))
       AND (
         (p.state = 'processing' AND p.claimed_at < ${STALE})
         OR (p.state = 'pending' AND (
           (p.parent_ardoq_id IS NULL AND s.updated_at < ${STALE})
           OR (parent.state = 'done' AND parent.azure_devops_id IS NOT NULL AND parent.updated_at < ${STALE})
           -- released after an uncertain create on a closing sync: its retry reconciles it
           OR (s.close_requested IS NOT NULL AND p.attempts > 0 AND p.updated_at < ${STALE}))))
     ORDER BY p.sync_history_id, p.ardoq_id
     LIMIT :limit`,
  unskippedParents: `SELECT DISTINCT parent.sync_history_id, parent.ardoq_id
     FROM sync_history s
     JOIN sync_plan_items parent ON parent.sync_history_id = s.id
     JOIN sync_plan_items child
       ON child.sync_history_id = parent.sync_history_id AND child.parent_ardoq_id = parent.ardoq_id
     WHERE s.status = 'in_progress' AND parent.state = 'done' AND parent.azure_devops_id IS NULL
       AND child.state = 'pending'
       AND (parent.sync_history_id, parent.ardoq_id) > (CAST(:afterSync AS uuid), CAST(:afterNode AS text))
     ORDER BY parent.sync_history_id, parent.ardoq_id
     LIMIT :limit`,
};

/** One page of one sync list, after the sync id `after` (exclusive). */
export async function sweepSyncPage(
  db: Queryable,
  list: SyncList,
  staleSeconds: number,
  limit: number,
  after = FIRST_UUID,
): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT id FROM sync_history WHERE ${SYNC_LISTS[list]} AND id > CAST(:afterSync AS uuid)
     ORDER BY id LIMIT :limit`,
    { staleSeconds, limit, afterSync: sqlUuid(after) },
  );
  return rows.map((row) => parseRow(IdRow, row, 'sweep').id);
}

/** One page of one node list, after the key `after` (exclusive). */
export async function sweepNodePage(
  db: Queryable,
  list: NodeList,
  staleSeconds: number,
  limit: number,
  after: NodeKey = { syncId: FIRST_UUID, ardoqId: '' },
): Promise<NodeKey[]> {
  const { rows } = await db.query(NODE_LISTS[list], {
    staleSeconds,
    limit,
    afterSync: sqlUuid(after.syncId),
    afterNode: after.ardoqId,
  });
  return rows.map((row) => {
    const r = parseRow(NodeRow, row, 'sweep');
    return { syncId: r.sync_history_id, ardoqId: r.ardoq_id };
  });
}

/** The first page (`limit` rows) of every list the periodic sweep repairs (DESIGN.md §2). */
export async function findSweepWork(
  db: Queryable,
  staleSeconds: number,
  limit = 500,
): Promise<SweepFindings> {
  const syncs = (list: SyncList) => sweepSyncPage(db, list, staleSeconds, limit);
  const nodes = (list: NodeList) => sweepNodePage(db, list, staleSeconds, limit);
  return {
    toFinalize: await syncs('toFinalize'),
    pastDeadline: await syncs('pastDeadline'),
    prepareExpired: await syncs('prepareExpired'),
    toPrepare: await syncs('toPrepare'),
    stranded: await nodes('stranded'),
    unskippedParents: await nodes('unskippedParents'),
  };
}

/**
 * After a restart of a runtime whose queue lived in memory: every claim of the dead process is
 * expired and every prepare claim given back (the sweep then resends their work at once). Returns how
 * many syncs are open.
 */
export async function expireClaimsAfterRestart(db: Queryable): Promise<number> {
  const open = await countOpenSyncs(db);
  if (open === 0) return 0;
  await db.query(`UPDATE sync_plan_items SET claimed_at = '-infinity' WHERE state = 'processing'`);
  await db.query(
    `UPDATE sync_history SET prepare_claimed_at = NULL WHERE status = 'pending' AND prepare_claimed_at IS NOT NULL`,
  );
  return open;
}

/** How many syncs are still open (what a restarted local runtime resumes). */
export async function countOpenSyncs(db: Queryable): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM sync_history WHERE status IN ('pending', 'in_progress')`,
  );
  return parseRow(CountRow, rows[0], 'open syncs').n;
}
