/**
 * The statements behind SqlSyncStore (the SyncStore port). Each state change is ONE statement (data-modifying
 * CTEs) that also writes its audit log and its event, so nothing can be half-written and every adapter,
 * the Data API included, runs it in one call. Event numbers come from `sync_history.last_event_seq`,
 * bumped under the row lock of the same statement (DESIGN.md §3).
 */

import { addCounts, COUNT_OUTCOMES } from './counters.ts';

const SYNC_ID = 'CAST(:syncId AS uuid)';

/**
 * The sync id as a parameter the planner cannot look up in its statistics. A sync created after the
 * last ANALYZE is not among them, so `sync_history_id = <constant>` is estimated at 1 row; with that
 * estimate any index on sync_history_id looks as good as the primary key, and a lookup of one node may
 * walk all of the sync's plan rows. With this parameter the sync's rows are estimated at their average
 * count, and the primary key (sync_history_id, ardoq_id) wins for lookups by node.
 */
const SYNC_PARAM = `(SELECT ${SYNC_ID})`;

/**
 * The plan rows of the nodes `keys` lists (a query of rows with an `ardoq_id` column, whose columns
 * come along): one primary-key probe per node, whatever the statistics say about this sync, locked in
 * ardoq_id order so that overlapping batches cannot deadlock. Each row brings its row id `plan_tid`,
 * valid while the statement holds the lock: the statement updates the rows by it. A condition on their
 * state belongs in `columns` (a flag computed from `q`), not in the update's WHERE: there it would let
 * the planner choose the unfinished-rows index, which the statistics of a table of finished syncs show
 * as empty, and scan the whole sync through it. The statement then reads this one list; joining two
 * CTEs instead is a nested loop when the planner guesses them small (10,000 × 10,000 rows for a sync
 * of 10,000 pending nodes cancelled).
 */
export const lockPlanRows = (keys: string, columns: string) => `
  SELECT k.*, p.* FROM (${keys} ORDER BY ardoq_id) k
  CROSS JOIN LATERAL (
    SELECT q.ctid AS plan_tid, q.sync_history_id${columns}
    FROM sync_plan_items q
    WHERE q.sync_history_id = ${SYNC_PARAM} AND q.ardoq_id = k.ardoq_id
    FOR UPDATE OF q
  ) p`;

/** The distinct node ids of the JSON array parameter `:ardoqIds`, as keys for lockPlanRows. */
export const ARDOQ_ID_KEYS = `SELECT DISTINCT value AS ardoq_id FROM jsonb_array_elements_text(CAST(:ardoqIds AS jsonb))`;

/** The `sync:complete` summary (CONTRACT.md §3): `failed` counts every node not created. */
const summary = (h: string) => `jsonb_build_object(
  'total', ${h}.total_items, 'created', ${h}.items_created,
  'failed', ${h}.total_items - ${h}.items_created, 'skipped', ${h}.items_skipped,
  'epics', jsonb_build_object('total', ${h}.epics_total, 'created', ${h}.epics_created,
    'failed', ${h}.epics_total - ${h}.epics_created),
  'features', jsonb_build_object('total', ${h}.features_total, 'created', ${h}.features_created,
    'failed', ${h}.features_total - ${h}.features_created),
  'userStories', jsonb_build_object('total', ${h}.user_stories_total, 'created', ${h}.user_stories_created,
    'failed', ${h}.user_stories_total - ${h}.user_stories_created))`;

const DURATION = `(extract(epoch FROM now() - started_at) * 1000)::bigint`;

/**
 * `throttled_ms` of the sync row `alias` plus `waitedMs`, but never above the time the sync has been
 * processing (nor below what it was): waits of items held back together overlap, so their sum would
 * read longer than the sync itself. Processing starts at `in_progress_at`, or `started_at` for a sync
 * that went in_progress before that column existed (as `processingStart` in core/domain/sync-progress.ts). The number is the time the sync was held back by Azure DevOps'
 * throttling, counted by batch (a batch's items wait together: its longest wait counts).
 */
export const addThrottled = (alias: string, waitedMs: string) =>
  `least(${alias}.throttled_ms + ${waitedMs}, greatest(${alias}.throttled_ms,
    (extract(epoch FROM now() - coalesce(${alias}.in_progress_at, ${alias}.started_at)) * 1000)::bigint))`;

/**
 * The plan rows of one `:plan` parameter: a JSON array of `[ardoqId, parentArdoqId, depth, name, payload?]`
 * (compact: no key names repeated 10,000 times), numbered from `:firstPosition`. The stored payload gets
 * the node's `_id` back (the field mapping reads it) without the request carrying it twice.
 */
const planRows = (syncId: string, from: string) => `
  SELECT ${syncId}, r->>0, r->>1,
    (ARRAY['epic', 'feature', 'user_story'])[(r->>2)::int + 1], (r->>2)::smallint,
    CAST(:firstPosition AS integer) + (n - 1)::int, r->>3,
    jsonb_build_object('_id', r->>0) || coalesce(r->4, '{}'::jsonb)
  FROM ${from}jsonb_array_elements(CAST(:plan AS jsonb)) WITH ORDINALITY AS e(r, n)`;

const INSERT_PLAN = `INSERT INTO sync_plan_items (sync_history_id, ardoq_id, parent_ardoq_id, item_type, depth, position,
    name, payload)`;

/**
 * The pending sync row with its totals, the `sync_started` audit log, the `sync:accepted` event and the
 * plan rows of `:plan` (the whole plan, or its first chunk when the plan is too large for one request).
 */
export const CREATE_SYNC = `
WITH h AS (
  INSERT INTO sync_history (project_name, source_config_id, target_config_id, overwrite_mode, total_items,
    epics_total, features_total, user_stories_total, user_id, options, deadline_at, last_event_seq, field_mapping)
  VALUES (CAST(:projectName AS text), CAST(:sourceConfigId AS text), CAST(:targetConfigId AS text),
    CAST(:overwriteMode AS boolean), CAST(:totalItems AS integer), CAST(:epicsTotal AS integer),
    CAST(:featuresTotal AS integer), CAST(:userStoriesTotal AS integer), CAST(:userId AS text),
    CAST(:options AS jsonb), CAST(:deadlineAt AS timestamptz), 1, CAST(:fieldMapping AS jsonb))
  RETURNING *
),
mapping AS (
  INSERT INTO sync_field_mappings (sync_history_id, snapshot)
  SELECT h.id, CAST(:mappingSnapshot AS jsonb) FROM h WHERE CAST(:mappingSnapshot AS jsonb) IS NOT NULL
  RETURNING 1
),
plan_rows AS (
  ${INSERT_PLAN}
  ${planRows('h.id', 'h, ')}
  RETURNING 1
),
audit AS (
  INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details)
  SELECT 'sync_started', 'sync', h.id::text, h.user_id, CAST(:sourceIp AS text), CAST(:userAgent AS text),
    jsonb_build_object('source_type', h.source_type, 'target_type', h.target_type,
      'project_name', h.project_name, 'overwrite_mode', h.overwrite_mode, 'total_items', h.total_items,
      -- WORKFLOW §6.5: the mapping's source; "default" alone when the prepare step will pick the
      -- template of the project's process (the history row names it then).
      'field_mapping', coalesce(h.field_mapping, jsonb_build_object('kind', 'default')))
  FROM h
  RETURNING 1
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, 1, 'sync:accepted',
    jsonb_build_object('syncHistoryId', h.id, 'totalItems', h.total_items, 'timestamp', iso_utc(h.created_at))
  FROM h
  RETURNING 1
)
SELECT h.*, (SELECT count(*) FROM plan_rows)::int AS plan_rows FROM h`;

/**
 * The mapping the prepare step chose for a sync accepted without one (the template of the project's
 * process), and the project's GUID: each written once, never changed afterwards.
 */
export const FILL_MAPPING = `
WITH snapshot AS (
  INSERT INTO sync_field_mappings (sync_history_id, snapshot)
  SELECT ${SYNC_ID}, CAST(:mappingSnapshot AS jsonb) WHERE CAST(:mappingSnapshot AS jsonb) IS NOT NULL
  ON CONFLICT (sync_history_id) DO NOTHING
  RETURNING 1
)
UPDATE sync_history SET field_mapping = coalesce(field_mapping, CAST(:fieldMapping AS jsonb)),
  project_id = coalesce(project_id, CAST(:projectId AS text))
WHERE id = ${SYNC_ID}
RETURNING id`;

/** The next chunk of a large plan, in the transaction that created the sync (see createSync). */
export const INSERT_PLAN_CHUNK = `
WITH plan_rows AS (
  ${INSERT_PLAN}
  ${planRows(SYNC_ID, '')}
  RETURNING 1
)
SELECT count(*)::int AS plan_rows FROM plan_rows`;

/** pending → in_progress, with its `sync:started` event; `in_progress_at` is when processing started. */
export const MARK_IN_PROGRESS = `
WITH h AS (
  UPDATE sync_history SET status = 'in_progress', in_progress_at = now(), last_event_seq = last_event_seq + 1,
    work_item_types = coalesce(CAST(:workItemTypes AS jsonb), work_item_types), prepare_claimed_at = NULL,
    prepare_next_at = NULL
  WHERE id = ${SYNC_ID} AND status = 'pending' AND close_requested IS NULL
  RETURNING *
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, 'sync:started', jsonb_build_object('timestamp', iso_utc(now())) FROM h
)
SELECT * FROM h`;

/**
 * The terminal transition, once every node has its outcome (so nothing about the sync can change any
 * more): the status a close request asked for (cancelled, or failed with its reason), else completed, or
 * failed when no item was created (DESIGN.md §4.6). From in_progress; from pending only for a close
 * request, and not while a prepare step still holds a fresh claim (it may be deleting in overwrite mode).
 * Writes the audit log (a cancel's with the user who asked) and the final event, both with the final
 * numbers.
 */
export const FINALIZE = `
WITH h AS (
  UPDATE sync_history SET
    status = CASE WHEN close_requested IS NOT NULL THEN close_requested
      WHEN items_created = 0 THEN 'failed' ELSE 'completed' END,
    error_message = CASE WHEN close_requested = 'failed' THEN close_reason
      WHEN close_requested IS NULL AND items_created = 0
        THEN format('No work item was created: %s failed, %s skipped', items_failed, items_skipped)
      ELSE error_message END,
    completed_at = now(), duration_ms = ${DURATION}, last_event_seq = last_event_seq + 1,
    prepare_claimed_at = NULL, prepare_next_at = NULL
  WHERE id = ${SYNC_ID} AND items_created + items_failed + items_skipped = total_items
    AND (status = 'in_progress'
      OR (status = 'pending' AND close_requested IS NOT NULL
        AND (prepare_claimed_at IS NULL OR prepare_claimed_at < now() - make_interval(secs => :staleSeconds))))
  RETURNING *
),
audit AS (
  INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details)
  SELECT CASE h.status WHEN 'completed' THEN 'sync_completed' WHEN 'cancelled' THEN 'sync_cancelled'
      ELSE 'sync_failed' END,
    'sync', h.id::text, coalesce(h.close_actor->>'userId', h.user_id), h.close_actor->>'sourceIp',
    h.close_actor->>'userAgent',
    CASE h.status
      WHEN 'completed' THEN jsonb_build_object('total_items', h.total_items, 'items_created', h.items_created,
        'items_failed', h.items_failed, 'items_skipped', h.items_skipped)
      WHEN 'cancelled' THEN jsonb_build_object('items_created', h.items_created, 'items_failed', h.items_failed,
        'items_skipped', h.items_skipped)
      ELSE jsonb_build_object('error', h.error_message, 'items_created', h.items_created,
        'items_failed', h.items_failed, 'items_skipped', h.items_skipped) END
  FROM h
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq,
    CASE h.status WHEN 'completed' THEN 'sync:complete' WHEN 'cancelled' THEN 'sync:cancelled' ELSE 'sync:error' END,
    CASE h.status
      WHEN 'completed' THEN jsonb_build_object('summary', ${summary('h')}, 'timestamp', iso_utc(h.completed_at))
      WHEN 'cancelled' THEN jsonb_build_object('message', h.close_reason, 'summary', ${summary('h')},
        'timestamp', iso_utc(h.completed_at))
      ELSE jsonb_build_object('error', h.error_message, 'summary', ${summary('h')},
        'timestamp', iso_utc(h.completed_at)) END
  FROM h
)
SELECT * FROM h`;

/**
 * Records outcomes from a source CTE named `src` (columns ardoq_id, status, azure_devops_id,
 * azure_devops_url, error_message, changed_by_user). A row counts only if it was really inserted
 * (ON CONFLICT DO NOTHING RETURNING), so a duplicate delivery changes nothing. Rows are inserted in
 * ardoq_id order so two overlapping batches cannot deadlock on the unique index.
 * `requestClose` also records, on an open sync, that it is closing (to :to, for :reason, asked by
 * :actor); the first request wins and the sync stays open until FINALIZE.
 */
function outcomesStatement(
  sourceCtes: string,
  { requestClose = false, throttled = false }: { requestClose?: boolean; throttled?: boolean } = {},
): string {
  const closing = requestClose
    ? `, close_requested = coalesce(s.close_requested, CAST(:to AS text)),
         close_requested_at = coalesce(s.close_requested_at, now()),
         close_reason = coalesce(s.close_reason, CAST(:reason AS text)),
         close_actor = coalesce(s.close_actor, CAST(:actor AS jsonb))`
    : '';
  return `
WITH RECURSIVE ${sourceCtes},
-- Each outcome with its node's plan row (see lockPlanRows).
nodes AS (${lockPlanRows('SELECT * FROM src', `, q.name, q.item_type, q.position, q.state <> 'done' AS open`)}
),
-- A terminal sync is final: no outcome, counter or event changes after its terminal status.
open_sync AS (SELECT id FROM sync_history WHERE id = ${SYNC_ID} AND status IN ('pending', 'in_progress')),
ins AS (
  INSERT INTO sync_history_items (sync_history_id, ardoq_id, item_name, item_type, status, azure_devops_id,
    azure_devops_url, error_message, changed_by_user, position)
  SELECT n.sync_history_id, n.ardoq_id, n.name, n.item_type, n.status, n.azure_devops_id, n.azure_devops_url,
    n.error_message, n.changed_by_user, n.position
  FROM nodes n
  WHERE n.open AND EXISTS (SELECT 1 FROM open_sync)
  ORDER BY n.ardoq_id
  ON CONFLICT (sync_history_id, ardoq_id) DO NOTHING
  RETURNING ardoq_id, item_name, item_type, status, azure_devops_id, azure_devops_url, error_message, created_at,
    position
),
counts AS (
  SELECT count(*)::int AS n,
    ${COUNT_OUTCOMES}${
      throttled
        ? `,
    -- The longest wait for Azure DevOps' throttling among the inserted outcomes' creates (they waited together).
    (SELECT coalesce(max(src.throttled_ms), 0) FROM ins JOIN src USING (ardoq_id))::bigint AS throttled_ms`
        : ''
    }
  FROM ins
),
h AS (
  UPDATE sync_history s SET
    ${addCounts('s', 'c')},
    last_event_seq = s.last_event_seq + c.n${throttled ? `, throttled_ms = ${addThrottled('s', 'c.throttled_ms')}` : ''}
    ${closing}
  FROM counts c
  -- Nothing inserted (a duplicate delivery): the row is left alone, and read below instead.
  WHERE s.id = ${SYNC_ID} AND s.status IN ('pending', 'in_progress') ${requestClose ? '' : 'AND c.n > 0'}
  RETURNING s.*, c.n AS inserted, c.items_created AS inserted_created
),
item_events AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq - h.inserted
      + (row_number() OVER (ORDER BY CASE i.item_type WHEN 'epic' THEN 0 WHEN 'feature' THEN 1 ELSE 2 END,
        i.position))::int,
    replace(i.item_type, '_', '') || CASE WHEN i.status = 'created' THEN ':created' ELSE ':failed' END,
    CASE WHEN i.status = 'created'
      THEN jsonb_build_object('ardoqId', i.ardoq_id, 'name', i.item_name, 'azureDevOpsId', i.azure_devops_id,
        'azureDevOpsUrl', i.azure_devops_url, 'timestamp', iso_utc(i.created_at))
      ELSE jsonb_build_object('ardoqId', i.ardoq_id, 'name', i.item_name, 'error', i.error_message,
        'timestamp', iso_utc(i.created_at)) END
  FROM h CROSS JOIN ins i
),
done AS (
  UPDATE sync_plan_items p SET state = 'done', azure_devops_id = coalesce(p.azure_devops_id, n.azure_devops_id)
  FROM nodes n
  WHERE p.ctid = n.plan_tid AND n.open AND EXISTS (SELECT 1 FROM open_sync)
)
SELECT h.* FROM h
UNION ALL
SELECT s.*, 0 AS inserted, 0 AS inserted_created FROM sync_history s
WHERE s.id = ${SYNC_ID} AND NOT EXISTS (SELECT 1 FROM h)`;
}

const OUTCOMES_SOURCE = `src AS (
  SELECT o.ardoq_id, o.status, o.azure_devops_id, o.azure_devops_url, o.error_message, o.changed_by_user,
    greatest(coalesce(o.throttled_ms, 0), 0) AS throttled_ms
  FROM jsonb_to_recordset(CAST(:outcomes AS jsonb))
    AS o(ardoq_id text, status text, azure_devops_id integer, azure_devops_url text, error_message text,
         changed_by_user jsonb, throttled_ms bigint)
)`;

/** Outcomes, with the time their creates waited for throttling added to the sync's `throttled_ms` (see addThrottled). */
export const RECORD_OUTCOMES = outcomesStatement(OUTCOMES_SOURCE, { throttled: true });

/** Every descendant of :rootArdoqId is skipped, each naming its own parent. */
export const SKIP_SUBTREE = outcomesStatement(`descendants AS (
  SELECT c.ardoq_id, c.name, root.name AS parent_name
  FROM sync_plan_items c
  JOIN sync_plan_items root ON root.sync_history_id = c.sync_history_id AND root.ardoq_id = c.parent_ardoq_id
  WHERE c.sync_history_id = ${SYNC_PARAM} AND c.parent_ardoq_id = CAST(:rootArdoqId AS text)
  UNION ALL
  -- One children-index probe per node found (OFFSET 0 keeps the planner from hashing the whole sync).
  SELECT c.ardoq_id, c.name, d.name
  FROM descendants d CROSS JOIN LATERAL (
    SELECT c.ardoq_id, c.name FROM sync_plan_items c
    WHERE c.sync_history_id = ${SYNC_PARAM} AND c.parent_ardoq_id = d.ardoq_id
    OFFSET 0
  ) c
),
src AS (
  SELECT d.ardoq_id, 'skipped'::text AS status, NULL::integer AS azure_devops_id, NULL::text AS azure_devops_url,
    format('Not created: its parent "%s" was not created', d.parent_name) AS error_message,
    NULL::jsonb AS changed_by_user
  FROM descendants d
)`);

/**
 * Items not started yet when a close is requested: skipped with :skipReason. A pending item with an
 * attempt behind it (released after an uncertain create: its work item may exist) has started: it stays
 * pending, and its retry reconciles it (adopted, or skipped once Azure DevOps shows nothing). Nothing is
 * skipped when the sync is closing for another reason already (a cancel of a failing sync).
 */
export const REQUEST_CLOSE = outcomesStatement(
  `src AS (
  SELECT p.ardoq_id, 'skipped'::text AS status, NULL::integer AS azure_devops_id, NULL::text AS azure_devops_url,
    CAST(:skipReason AS text) AS error_message, NULL::jsonb AS changed_by_user
  FROM sync_plan_items p
  WHERE p.sync_history_id = ${SYNC_ID} AND p.state = 'pending' AND p.attempts = 0
    AND EXISTS (SELECT 1 FROM sync_history s WHERE s.id = ${SYNC_ID} AND s.status IN ('pending', 'in_progress')
      AND (s.close_requested IS NULL OR s.close_requested = CAST(:to AS text)))
  -- Locks the rows (in ardoq_id order, as claims do), so a processor cannot claim an item between this
  -- read and its skip.
  ORDER BY p.ardoq_id
  FOR UPDATE OF p
)`,
  { requestClose: true },
);

/** Adds to deletion_count and writes the chunk's event in one statement. */
export const RECORD_DELETIONS = `
WITH h AS (
  UPDATE sync_history SET deletion_count = deletion_count + CAST(:deleted AS integer), last_event_seq = last_event_seq + 1,
    -- a long overwrite keeps its prepare claim fresh, so no second prepare starts deleting too
    prepare_claimed_at = CASE WHEN prepare_claimed_at IS NULL THEN NULL ELSE now() END
  WHERE id = ${SYNC_ID} AND status = 'pending'
  RETURNING id, deletion_count, last_event_seq, close_requested
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text), CAST(:data AS jsonb) || jsonb_build_object('timestamp', iso_utc(now()))
  FROM h
)
SELECT * FROM h`;

/** One event of an open sync (a terminal sync's events are final); `:overwriteTotal` is kept when given. */
export const APPEND_EVENT = `
WITH h AS (
  UPDATE sync_history SET last_event_seq = last_event_seq + 1,
    overwrite_total = coalesce(CAST(:overwriteTotal AS integer), overwrite_total)
  WHERE id = ${SYNC_ID} AND status IN ('pending', 'in_progress')
  RETURNING id, last_event_seq
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text), CAST(:data AS jsonb) || jsonb_build_object('timestamp', iso_utc(now()))
  FROM h
)
SELECT last_event_seq AS seq FROM h`;

/**
 * A failed prepare attempt waits for its retry: the attempt is counted, the retry window opens on the
 * first failure (:budgetMinutes long), the next attempt is due after :delaySeconds or at the end of the
 * window, whichever comes first, and the claim is given back; with :event (overwrite mode), its
 * `overwrite:retrying` event (attempt, reason, next try in s). Nothing happens (no row) when the window
 * is over: the step has run out of time. Only for a pending sync that is not closing.
 */
export const POSTPONE_PREPARE = `
WITH cur AS (
  SELECT id, coalesce(prepare_retry_until, now() + make_interval(mins => CAST(:budgetMinutes AS integer))) AS until
  FROM sync_history
  WHERE id = ${SYNC_ID} AND status = 'pending' AND close_requested IS NULL
),
wait AS (
  SELECT id, until,
    ceil(least(CAST(:delaySeconds AS float8), extract(epoch FROM until - now())))::int AS seconds
  FROM cur
),
h AS (
  UPDATE sync_history s SET prepare_attempts = s.prepare_attempts + 1, prepare_retry_until = w.until,
    prepare_next_at = now() + make_interval(secs => w.seconds), prepare_claimed_at = NULL,
    last_event_seq = s.last_event_seq + CASE WHEN CAST(:event AS text) IS NULL THEN 0 ELSE 1 END
  FROM wait w
  WHERE s.id = w.id AND w.seconds >= 1
  RETURNING s.*, w.seconds AS delay_seconds
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text),
    CAST(:data AS jsonb) || jsonb_build_object('attempt', h.prepare_attempts, 'nextTryInSeconds', h.delay_seconds,
      'message', format('Azure DevOps did not complete the request (attempt %s); trying again in %s s',
        h.prepare_attempts, h.delay_seconds),
      'timestamp', iso_utc(now()))
  FROM h WHERE CAST(:event AS text) IS NOT NULL
)
SELECT * FROM h`;
