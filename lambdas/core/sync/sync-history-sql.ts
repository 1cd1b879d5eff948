/**
 * The statements behind the sync-history repository. Each state change is ONE statement (data-modifying
 * CTEs) that also writes its audit log and its event, so nothing can be half-written and every adapter,
 * the Data API included, runs it in one call. Event numbers come from `sync_history.last_event_seq`,
 * bumped under the row lock of the same statement (DESIGN.md §3).
 */

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
    epics_total, features_total, user_stories_total, user_id, options, deadline_at, last_event_seq)
  VALUES (CAST(:projectName AS text), CAST(:sourceConfigId AS text), CAST(:targetConfigId AS text),
    CAST(:overwriteMode AS boolean), CAST(:totalItems AS integer), CAST(:epicsTotal AS integer),
    CAST(:featuresTotal AS integer), CAST(:userStoriesTotal AS integer), CAST(:userId AS text),
    CAST(:options AS jsonb), CAST(:deadlineAt AS timestamptz), 1)
  RETURNING *
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
      'project_name', h.project_name, 'overwrite_mode', h.overwrite_mode, 'total_items', h.total_items)
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

/** The next chunk of a large plan, in the transaction that created the sync (see createSync). */
export const INSERT_PLAN_CHUNK = `
WITH plan_rows AS (
  ${INSERT_PLAN}
  ${planRows(SYNC_ID, '')}
  RETURNING 1
)
SELECT count(*)::int AS plan_rows FROM plan_rows`;

export const MARK_IN_PROGRESS = `
WITH h AS (
  UPDATE sync_history SET status = 'in_progress', last_event_seq = last_event_seq + 1,
    work_item_types = coalesce(CAST(:workItemTypes AS jsonb), work_item_types)
  WHERE id = ${SYNC_ID} AND status = 'pending'
  RETURNING *
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, 'sync:started', jsonb_build_object('timestamp', iso_utc(now())) FROM h
)
SELECT * FROM h`;

/** in_progress → completed, or failed when no item was created (DESIGN.md §4.6); only once all are in. */
export const FINALIZE = `
WITH h AS (
  UPDATE sync_history SET
    status = CASE WHEN items_created = 0 THEN 'failed' ELSE 'completed' END,
    error_message = CASE WHEN items_created = 0
      THEN format('No work item was created: %s failed, %s skipped', items_failed, items_skipped)
      ELSE error_message END,
    completed_at = now(), duration_ms = ${DURATION}, last_event_seq = last_event_seq + 1
  WHERE id = ${SYNC_ID} AND status = 'in_progress'
    AND items_created + items_failed + items_skipped = total_items
  RETURNING *
),
audit AS (
  INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, details)
  SELECT CASE WHEN h.status = 'completed' THEN 'sync_completed' ELSE 'sync_failed' END, 'sync', h.id::text,
    h.user_id,
    CASE WHEN h.status = 'completed'
      THEN jsonb_build_object('total_items', h.total_items, 'items_created', h.items_created,
        'items_failed', h.items_failed, 'items_skipped', h.items_skipped)
      ELSE jsonb_build_object('error', h.error_message) END
  FROM h
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq,
    CASE WHEN h.status = 'completed' THEN 'sync:complete' ELSE 'sync:error' END,
    CASE WHEN h.status = 'completed'
      THEN jsonb_build_object('summary', ${summary('h')}, 'timestamp', iso_utc(h.completed_at))
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
 * `close` also moves the sync to a terminal status in the same statement, with its audit log and
 * final event numbered after the item events.
 */
function outcomesStatement(sourceCtes: string, close?: { to: 'cancelled' | 'failed'; from: string }): string {
  const closing = close
    ? `, status = '${close.to}', completed_at = now(), duration_ms = ${DURATION},
         error_message = CASE WHEN '${close.to}' = 'failed' THEN CAST(:reason AS text) ELSE s.error_message END`
    : '';
  const terminalEvents = close ? 1 : 0;
  return `
WITH RECURSIVE ${sourceCtes},
-- Each outcome with its node's plan row (see lockPlanRows).
nodes AS (${lockPlanRows('SELECT * FROM src', `, q.name, q.item_type, q.position, q.state <> 'done' AS open`)}
),
ins AS (
  INSERT INTO sync_history_items (sync_history_id, ardoq_id, item_name, item_type, status, azure_devops_id,
    azure_devops_url, error_message, changed_by_user, position)
  SELECT n.sync_history_id, n.ardoq_id, n.name, n.item_type, n.status, n.azure_devops_id, n.azure_devops_url,
    n.error_message, n.changed_by_user, n.position
  FROM nodes n
  ORDER BY n.ardoq_id
  ON CONFLICT (sync_history_id, ardoq_id) DO NOTHING
  RETURNING ardoq_id, item_name, item_type, status, azure_devops_id, azure_devops_url, error_message, created_at
),
counts AS (
  SELECT count(*)::int AS n,
    (count(*) FILTER (WHERE status = 'created'))::int AS created,
    (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
    (count(*) FILTER (WHERE status = 'skipped'))::int AS skipped,
    (count(*) FILTER (WHERE item_type = 'epic' AND status = 'created'))::int AS epics_created,
    (count(*) FILTER (WHERE item_type = 'epic' AND status = 'failed'))::int AS epics_failed,
    (count(*) FILTER (WHERE item_type = 'epic' AND status = 'skipped'))::int AS epics_skipped,
    (count(*) FILTER (WHERE item_type = 'feature' AND status = 'created'))::int AS features_created,
    (count(*) FILTER (WHERE item_type = 'feature' AND status = 'failed'))::int AS features_failed,
    (count(*) FILTER (WHERE item_type = 'feature' AND status = 'skipped'))::int AS features_skipped,
    (count(*) FILTER (WHERE item_type = 'user_story' AND status = 'created'))::int AS user_stories_created,
    (count(*) FILTER (WHERE item_type = 'user_story' AND status = 'failed'))::int AS user_stories_failed,
    (count(*) FILTER (WHERE item_type = 'user_story' AND status = 'skipped'))::int AS user_stories_skipped
  FROM ins
),
h AS (
  UPDATE sync_history s SET
    items_created = s.items_created + c.created,
    items_failed = s.items_failed + c.failed,
    items_skipped = s.items_skipped + c.skipped,
    epics_created = s.epics_created + c.epics_created,
    epics_failed = s.epics_failed + c.epics_failed,
    epics_skipped = s.epics_skipped + c.epics_skipped,
    features_created = s.features_created + c.features_created,
    features_failed = s.features_failed + c.features_failed,
    features_skipped = s.features_skipped + c.features_skipped,
    user_stories_created = s.user_stories_created + c.user_stories_created,
    user_stories_failed = s.user_stories_failed + c.user_stories_failed,
    user_stories_skipped = s.user_stories_skipped + c.user_stories_skipped,
    last_event_seq = s.last_event_seq + c.n + ${terminalEvents}
    ${closing}
  FROM counts c
  WHERE s.id = ${SYNC_ID} ${close ? `AND s.status IN (${close.from})` : ''}
  RETURNING s.*, c.n AS inserted, c.created AS inserted_created
),
item_events AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq - ${terminalEvents} - h.inserted
      + (row_number() OVER (ORDER BY p.depth, p.position, i.ardoq_id))::int,
    replace(i.item_type, '_', '') || CASE WHEN i.status = 'created' THEN ':created' ELSE ':failed' END,
    CASE WHEN i.status = 'created'
      THEN jsonb_build_object('ardoqId', i.ardoq_id, 'name', i.item_name, 'azureDevOpsId', i.azure_devops_id,
        'azureDevOpsUrl', i.azure_devops_url, 'timestamp', iso_utc(i.created_at))
      ELSE jsonb_build_object('ardoqId', i.ardoq_id, 'name', i.item_name, 'error', i.error_message,
        'timestamp', iso_utc(i.created_at)) END
  FROM h CROSS JOIN ins i
  CROSS JOIN LATERAL (
    SELECT q.depth, q.position FROM sync_plan_items q
    WHERE q.sync_history_id = h.id AND q.ardoq_id = i.ardoq_id
    OFFSET 0
  ) p
),
done AS (
  UPDATE sync_plan_items p SET state = 'done', azure_devops_id = coalesce(p.azure_devops_id, n.azure_devops_id)
  FROM nodes n, h
  WHERE p.ctid = n.plan_tid AND n.open
)${close ? closingCtes(close.to) : ''}
SELECT h.* FROM h`;
}

function closingCtes(to: 'cancelled' | 'failed'): string {
  const details =
    to === 'cancelled'
      ? `jsonb_build_object('items_created', h.items_created, 'items_failed', h.items_failed,
           'items_skipped', h.items_skipped)`
      : `jsonb_build_object('error', h.error_message)`;
  const event =
    to === 'cancelled'
      ? `'sync:cancelled', jsonb_build_object('message', CAST(:reason AS text), 'timestamp', iso_utc(h.completed_at))`
      : `'sync:error', jsonb_build_object('error', h.error_message, 'summary', ${summary('h')},
           'timestamp', iso_utc(h.completed_at))`;
  return `,
audit AS (
  INSERT INTO audit_logs (action_type, entity_type, entity_id, user_id, source_ip, user_agent, details)
  SELECT 'sync_${to === 'cancelled' ? 'cancelled' : 'failed'}', 'sync', h.id::text,
    coalesce(CAST(:actorUserId AS text), h.user_id), CAST(:actorSourceIp AS text),
    CAST(:actorUserAgent AS text), ${details}
  FROM h
),
terminal_event AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, ${event} FROM h
)`;
}

const OUTCOMES_SOURCE = `src AS (
  SELECT o.ardoq_id, o.status, o.azure_devops_id, o.azure_devops_url, o.error_message, o.changed_by_user
  FROM jsonb_to_recordset(CAST(:outcomes AS jsonb))
    AS o(ardoq_id text, status text, azure_devops_id integer, azure_devops_url text, error_message text,
         changed_by_user jsonb)
)`;

export const RECORD_OUTCOMES = outcomesStatement(OUTCOMES_SOURCE);

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
 * Items not started yet when the sync closes: skipped with :reason. A pending item with an attempt behind
 * it (released after an uncertain create: its work item may exist) has started: it stays pending, and the
 * sweep sends it to be reconciled (adopted, or skipped once Azure DevOps shows nothing).
 */
const unstartedSource = (from: string) => `src AS (
  SELECT p.ardoq_id, 'skipped'::text AS status, NULL::integer AS azure_devops_id, NULL::text AS azure_devops_url,
    CAST(:skipReason AS text) AS error_message, NULL::jsonb AS changed_by_user
  FROM sync_plan_items p
  WHERE p.sync_history_id = ${SYNC_ID} AND p.state = 'pending' AND p.attempts = 0
    AND EXISTS (SELECT 1 FROM sync_history s WHERE s.id = ${SYNC_ID} AND s.status IN (${from}))
  -- Locks the rows (in ardoq_id order, as claims do), so a processor cannot claim an item between this
  -- read and its skip.
  ORDER BY p.ardoq_id
  FOR UPDATE OF p
)`;

export const CANCEL = outcomesStatement(unstartedSource(`'pending', 'in_progress'`), {
  to: 'cancelled',
  from: `'pending', 'in_progress'`,
});

export const FAIL = outcomesStatement(unstartedSource(`'pending', 'in_progress'`), {
  to: 'failed',
  from: `'pending', 'in_progress'`,
});

/** Adds to deletion_count and writes the chunk's event in one statement. */
export const RECORD_DELETIONS = `
WITH h AS (
  UPDATE sync_history SET deletion_count = deletion_count + CAST(:deleted AS integer), last_event_seq = last_event_seq + 1,
    -- a long overwrite keeps its prepare claim fresh, so no second prepare starts deleting too
    prepare_claimed_at = CASE WHEN prepare_claimed_at IS NULL THEN NULL ELSE now() END
  WHERE id = ${SYNC_ID}
  RETURNING id, deletion_count, last_event_seq
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text), CAST(:data AS jsonb) || jsonb_build_object('timestamp', iso_utc(now()))
  FROM h
)
SELECT * FROM h`;

export const APPEND_EVENT = `
WITH h AS (
  UPDATE sync_history SET last_event_seq = last_event_seq + 1
  WHERE id = ${SYNC_ID}
  RETURNING id, last_event_seq
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text), CAST(:data AS jsonb) || jsonb_build_object('timestamp', iso_utc(now()))
  FROM h
)
SELECT last_event_seq AS seq FROM h`;
