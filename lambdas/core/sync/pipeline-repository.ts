import type { Queryable } from '#core/ports/database.ts';
import { sqlJson, sqlUuid } from '#core/ports/database.ts';
import { ARDOQ_ID_KEYS, lockPlanRows } from './sync-history-sql.ts';
import type { ItemType, SyncStatus } from './sync-model.ts';

/** One claimed node with everything the processor needs, read in the claiming statement. */
export interface ClaimedItem {
  syncId: string;
  ardoqId: string;
  itemType: ItemType;
  name: string;
  payload: Record<string, unknown>;
  /** Attempts including this one: > 1 means an earlier attempt may have reached Azure DevOps. */
  attempts: number;
  parentArdoqId: string | null;
  parentAzureDevOpsId: number | null;
  children: string[];
  syncStatus: SyncStatus;
  projectName: string;
  targetConfigId: string | null;
  workItemTypes: Record<string, unknown> | null;
  options: Record<string, unknown>;
  syncStartedAt: Date;
}

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
    AND ((w.pending AND s.status IN ('in_progress', 'cancelled', 'failed')) OR w.stale)
  RETURNING p.sync_history_id, p.ardoq_id, p.parent_ardoq_id, p.item_type, p.name, p.payload, p.attempts,
    s.status AS sync_status, s.project_name, s.target_config_id, s.work_item_types, s.options,
    s.started_at AS sync_started_at
)
SELECT c.*, parent.azure_devops_id AS parent_azure_devops_id,
  (SELECT coalesce(jsonb_agg(ch.ardoq_id ORDER BY ch.position), '[]'::jsonb) FROM sync_plan_items ch
   WHERE ch.sync_history_id = c.sync_history_id AND ch.parent_ardoq_id = c.ardoq_id) AS children
FROM c
LEFT JOIN sync_plan_items parent
  ON parent.sync_history_id = c.sync_history_id AND parent.ardoq_id = c.parent_ardoq_id
ORDER BY c.ardoq_id`;

/**
 * Claims nodes of one sync for processing, in one statement (a whole SQS batch): each a pending node
 * of a running sync, or a node whose earlier claim went stale (its processor died). Exactly one
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
  return rows.map((r) => ({
    syncId,
    ardoqId: r.ardoq_id as string,
    itemType: r.item_type as ItemType,
    name: r.name as string,
    payload: r.payload as Record<string, unknown>,
    attempts: r.attempts as number,
    parentArdoqId: (r.parent_ardoq_id as string | null) ?? null,
    parentAzureDevOpsId: (r.parent_azure_devops_id as number | null) ?? null,
    children: r.children as string[],
    syncStatus: r.sync_status as SyncStatus,
    projectName: r.project_name as string,
    targetConfigId: (r.target_config_id as string | null) ?? null,
    workItemTypes: (r.work_item_types as Record<string, unknown> | null) ?? null,
    options: r.options as Record<string, unknown>,
    syncStartedAt: r.sync_started_at as Date,
  }));
}

/** See releaseItems: locked by primary key like a claim, then given back by row id. */
export const RELEASE_ITEMS = `WITH claimed AS (${lockPlanRows(ARDOQ_ID_KEYS, `, q.state = 'processing' AS held`)}
)
UPDATE sync_plan_items p SET state = 'pending', claimed_at = NULL,
  attempts = CASE WHEN :reachedAdo THEN p.attempts ELSE greatest(p.attempts - 1, 0) END
FROM claimed c
WHERE p.ctid = c.plan_tid AND c.held
  AND EXISTS (SELECT 1 FROM sync_history s WHERE s.id = CAST(:syncId AS uuid) AND s.status = 'in_progress')`;

/**
 * Gives claimed nodes back (they will be retried), in one statement. `reachedAdo: false` (throttled:
 * nothing was created) also takes back the attempt, so the retry does not go looking for a work item.
 * Only while the sync runs: on a closed sync the claim stays until it goes stale and the sweep sends
 * the node to be reconciled. (A release racing the close can still leave a pending node on a closed
 * sync; the sweep sends those too, and a claim takes them.)
 */
export async function releaseItems(
  db: Queryable,
  syncId: string,
  ardoqIds: readonly string[],
  reachedAdo: boolean,
): Promise<void> {
  if (ardoqIds.length === 0) return;
  await db.query(RELEASE_ITEMS, { syncId: sqlUuid(syncId), ardoqIds: sqlJson([...ardoqIds]), reachedAdo });
}

export const releaseItem = (db: Queryable, syncId: string, ardoqId: string, reachedAdo: boolean) =>
  releaseItems(db, syncId, [ardoqId], reachedAdo);

/** Epics of a sync (what `prepare` enqueues). */
export async function listRootItems(db: Queryable, syncId: string): Promise<string[]> {
  const { rows } = await db.query<{ ardoq_id: string }>(
    `SELECT ardoq_id FROM sync_plan_items
     WHERE sync_history_id = CAST(:syncId AS uuid) AND parent_ardoq_id IS NULL AND state <> 'done'
     ORDER BY position`,
    { syncId: sqlUuid(syncId) },
  );
  return rows.map((r) => r.ardoq_id);
}

export interface SweepFindings {
  /** Running syncs whose every node has its outcome. */
  toFinalize: string[];
  /** Open syncs past their deadline. */
  pastDeadline: string[];
  /** Pending syncs whose prepare message seems lost. */
  toPrepare: string[];
  /** Nodes to enqueue again: pending under a created parent for too long, or stale claims. */
  stranded: Array<{ syncId: string; ardoqId: string }>;
  /** Nodes that were not created but still have pending descendants (a crash between two writes). */
  unskippedParents: Array<{ syncId: string; ardoqId: string }>;
}

/** What the periodic sweep must repair (DESIGN.md §2); `staleSeconds` = how long counts as stuck. */
export async function findSweepWork(
  db: Queryable,
  staleSeconds: number,
  limit = 500,
): Promise<SweepFindings> {
  const params = { staleSeconds, limit };
  const ids = async (sql: string) => (await db.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
  const toFinalize = await ids(
    `SELECT id FROM sync_history WHERE status = 'in_progress'
       AND items_created + items_failed + items_skipped = total_items LIMIT :limit`,
  );
  const pastDeadline = await ids(
    `SELECT id FROM sync_history WHERE status IN ('pending', 'in_progress') AND deadline_at < now() LIMIT :limit`,
  );
  const toPrepare = await ids(
    `SELECT id FROM sync_history WHERE status = 'pending' AND deadline_at >= now()
       AND updated_at < now() - make_interval(secs => :staleSeconds) LIMIT :limit`,
  );
  const { rows: stranded } = await db.query<{ sync_history_id: string; ardoq_id: string }>(
    `SELECT p.sync_history_id, p.ardoq_id
     FROM sync_history s
     JOIN sync_plan_items p ON p.sync_history_id = s.id
     LEFT JOIN sync_plan_items parent
       ON parent.sync_history_id = p.sync_history_id AND parent.ardoq_id = p.parent_ardoq_id
     WHERE s.status IN ('in_progress', 'cancelled', 'failed') AND p.state <> 'done'
       AND (
         (p.state = 'processing' AND p.claimed_at < now() - make_interval(secs => :staleSeconds))
         -- left pending by the close (an uncertain attempt), or released by a processor racing the close
         OR (s.status IN ('cancelled', 'failed') AND p.state = 'pending')
         OR (s.status = 'in_progress' AND p.state = 'pending' AND (
           (p.parent_ardoq_id IS NULL AND s.updated_at < now() - make_interval(secs => :staleSeconds))
           OR (parent.state = 'done' AND parent.azure_devops_id IS NOT NULL
               AND parent.updated_at < now() - make_interval(secs => :staleSeconds)))))
     LIMIT :limit`,
    params,
  );
  const { rows: unskipped } = await db.query<{ sync_history_id: string; ardoq_id: string }>(
    `SELECT DISTINCT parent.sync_history_id, parent.ardoq_id
     FROM sync_history s
     JOIN sync_plan_items parent ON parent.sync_history_id = s.id
     JOIN sync_plan_items child
       ON child.sync_history_id = parent.sync_history_id AND child.parent_ardoq_id = parent.ardoq_id
     WHERE s.status = 'in_progress' AND parent.state = 'done' AND parent.azure_devops_id IS NULL
       AND child.state = 'pending'
     LIMIT :limit`,
    params,
  );
  const pair = (r: { sync_history_id: string; ardoq_id: string }) => ({
    syncId: r.sync_history_id,
    ardoqId: r.ardoq_id,
  });
  return {
    toFinalize,
    pastDeadline,
    toPrepare,
    stranded: stranded.map(pair),
    unskippedParents: unskipped.map(pair),
  };
}

/** Syncs that a restarted local runtime must resume: everything still open. */
export async function listOpenSyncs(db: Queryable): Promise<Array<{ id: string; status: SyncStatus }>> {
  const { rows } = await db.query<{ id: string; status: SyncStatus }>(
    `SELECT id, status FROM sync_history WHERE status IN ('pending', 'in_progress')
     UNION
     SELECT DISTINCT s.id, s.status FROM sync_history s JOIN sync_plan_items p ON p.sync_history_id = s.id
     WHERE s.status IN ('cancelled', 'failed') AND p.state IN ('processing', 'pending')`,
  );
  return rows;
}
