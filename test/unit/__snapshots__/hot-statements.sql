-- CREATE_SYNC
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
  INSERT INTO sync_plan_items (sync_history_id, ardoq_id, parent_ardoq_id, item_type, depth, position,
    name, payload)
  
  SELECT h.id, r->>0, r->>1,
    (ARRAY['epic', 'feature', 'user_story'])[(r->>2)::int + 1], (r->>2)::smallint,
    CAST(:firstPosition AS integer) + (n - 1)::int, r->>3,
    jsonb_build_object('_id', r->>0) || coalesce(r->4, '{}'::jsonb)
  FROM h, jsonb_array_elements(CAST(:plan AS jsonb)) WITH ORDINALITY AS e(r, n)
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
SELECT h.*, (SELECT count(*) FROM plan_rows)::int AS plan_rows FROM h;

-- INSERT_PLAN_CHUNK
WITH plan_rows AS (
  INSERT INTO sync_plan_items (sync_history_id, ardoq_id, parent_ardoq_id, item_type, depth, position,
    name, payload)
  
  SELECT CAST(:syncId AS uuid), r->>0, r->>1,
    (ARRAY['epic', 'feature', 'user_story'])[(r->>2)::int + 1], (r->>2)::smallint,
    CAST(:firstPosition AS integer) + (n - 1)::int, r->>3,
    jsonb_build_object('_id', r->>0) || coalesce(r->4, '{}'::jsonb)
  FROM jsonb_array_elements(CAST(:plan AS jsonb)) WITH ORDINALITY AS e(r, n)
  RETURNING 1
)
SELECT count(*)::int AS plan_rows FROM plan_rows;

-- MARK_IN_PROGRESS
WITH h AS (
  UPDATE sync_history SET status = 'in_progress', in_progress_at = now(), last_event_seq = last_event_seq + 1,
    work_item_types = coalesce(CAST(:workItemTypes AS jsonb), work_item_types), prepare_claimed_at = NULL,
    prepare_next_at = NULL
  WHERE id = CAST(:syncId AS uuid) AND status = 'pending' AND close_requested IS NULL
  RETURNING *
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, 'sync:started', jsonb_build_object('timestamp', iso_utc(now())) FROM h
)
SELECT * FROM h;

-- CLAIM_ITEMS
WITH wanted AS (
  SELECT k.*, p.* FROM (SELECT DISTINCT value AS ardoq_id FROM jsonb_array_elements_text(CAST(:ardoqIds AS jsonb)) ORDER BY ardoq_id) k
  CROSS JOIN LATERAL (
    SELECT q.ctid AS plan_tid, q.sync_history_id, q.state = 'pending' AS pending,
    q.state = 'processing' AND q.claimed_at < now() - make_interval(secs => :staleSeconds) AS stale
    FROM sync_plan_items q
    WHERE q.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND q.ardoq_id = k.ardoq_id
    FOR UPDATE OF q
  ) p
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
ORDER BY c.ardoq_id;

-- RECORD_OUTCOMES
WITH RECURSIVE src AS (
  SELECT o.ardoq_id, o.status, o.azure_devops_id, o.azure_devops_url, o.error_message, o.changed_by_user,
    greatest(coalesce(o.throttled_ms, 0), 0) AS throttled_ms
  FROM jsonb_to_recordset(CAST(:outcomes AS jsonb))
    AS o(ardoq_id text, status text, azure_devops_id integer, azure_devops_url text, error_message text,
         changed_by_user jsonb, throttled_ms bigint)
),
-- Each outcome with its node's plan row (see lockPlanRows).
nodes AS (
  SELECT k.*, p.* FROM (SELECT * FROM src ORDER BY ardoq_id) k
  CROSS JOIN LATERAL (
    SELECT q.ctid AS plan_tid, q.sync_history_id, q.name, q.item_type, q.position, q.state <> 'done' AS open
    FROM sync_plan_items q
    WHERE q.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND q.ardoq_id = k.ardoq_id
    FOR UPDATE OF q
  ) p
),
-- A terminal sync is final: no outcome, counter or event changes after its terminal status.
open_sync AS (SELECT id FROM sync_history WHERE id = CAST(:syncId AS uuid) AND status IN ('pending', 'in_progress')),
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
    (count(*) FILTER (WHERE status = 'created'))::int AS items_created,
    (count(*) FILTER (WHERE status = 'failed'))::int AS items_failed,
    (count(*) FILTER (WHERE status = 'skipped'))::int AS items_skipped,
    (count(*) FILTER (WHERE item_type = 'epic' AND status = 'created'))::int AS epics_created,
    (count(*) FILTER (WHERE item_type = 'epic' AND status = 'failed'))::int AS epics_failed,
    (count(*) FILTER (WHERE item_type = 'epic' AND status = 'skipped'))::int AS epics_skipped,
    (count(*) FILTER (WHERE item_type = 'feature' AND status = 'created'))::int AS features_created,
    (count(*) FILTER (WHERE item_type = 'feature' AND status = 'failed'))::int AS features_failed,
    (count(*) FILTER (WHERE item_type = 'feature' AND status = 'skipped'))::int AS features_skipped,
    (count(*) FILTER (WHERE item_type = 'user_story' AND status = 'created'))::int AS user_stories_created,
    (count(*) FILTER (WHERE item_type = 'user_story' AND status = 'failed'))::int AS user_stories_failed,
    (count(*) FILTER (WHERE item_type = 'user_story' AND status = 'skipped'))::int AS user_stories_skipped,
    -- The longest wait for Azure DevOps' throttling among the inserted outcomes' creates (they waited together).
    (SELECT coalesce(max(src.throttled_ms), 0) FROM ins JOIN src USING (ardoq_id))::bigint AS throttled_ms
  FROM ins
),
h AS (
  UPDATE sync_history s SET
    items_created = s.items_created + c.items_created,
    items_failed = s.items_failed + c.items_failed,
    items_skipped = s.items_skipped + c.items_skipped,
    epics_created = s.epics_created + c.epics_created,
    epics_failed = s.epics_failed + c.epics_failed,
    epics_skipped = s.epics_skipped + c.epics_skipped,
    features_created = s.features_created + c.features_created,
    features_failed = s.features_failed + c.features_failed,
    features_skipped = s.features_skipped + c.features_skipped,
    user_stories_created = s.user_stories_created + c.user_stories_created,
    user_stories_failed = s.user_stories_failed + c.user_stories_failed,
    user_stories_skipped = s.user_stories_skipped + c.user_stories_skipped,
    last_event_seq = s.last_event_seq + c.n, throttled_ms = least(s.throttled_ms + c.throttled_ms, greatest(s.throttled_ms,
    (extract(epoch FROM now() - coalesce(s.in_progress_at, s.started_at)) * 1000)::bigint))
    
  FROM counts c
  -- Nothing inserted (a duplicate delivery): the row is left alone, and read below instead.
  WHERE s.id = CAST(:syncId AS uuid) AND s.status IN ('pending', 'in_progress') AND c.n > 0
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
WHERE s.id = CAST(:syncId AS uuid) AND NOT EXISTS (SELECT 1 FROM h);

-- SKIP_SUBTREE
WITH RECURSIVE descendants AS (
  SELECT c.ardoq_id, c.name, root.name AS parent_name
  FROM sync_plan_items c
  JOIN sync_plan_items root ON root.sync_history_id = c.sync_history_id AND root.ardoq_id = c.parent_ardoq_id
  WHERE c.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND c.parent_ardoq_id = CAST(:rootArdoqId AS text)
  UNION ALL
  -- One children-index probe per node found (OFFSET 0 keeps the planner from hashing the whole sync).
  SELECT c.ardoq_id, c.name, d.name
  FROM descendants d CROSS JOIN LATERAL (
    SELECT c.ardoq_id, c.name FROM sync_plan_items c
    WHERE c.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND c.parent_ardoq_id = d.ardoq_id
    OFFSET 0
  ) c
),
src AS (
  SELECT d.ardoq_id, 'skipped'::text AS status, NULL::integer AS azure_devops_id, NULL::text AS azure_devops_url,
    format('Not created: its parent "%s" was not created', d.parent_name) AS error_message,
    NULL::jsonb AS changed_by_user
  FROM descendants d
),
-- Each outcome with its node's plan row (see lockPlanRows).
nodes AS (
  SELECT k.*, p.* FROM (SELECT * FROM src ORDER BY ardoq_id) k
  CROSS JOIN LATERAL (
    SELECT q.ctid AS plan_tid, q.sync_history_id, q.name, q.item_type, q.position, q.state <> 'done' AS open
    FROM sync_plan_items q
    WHERE q.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND q.ardoq_id = k.ardoq_id
    FOR UPDATE OF q
  ) p
),
-- A terminal sync is final: no outcome, counter or event changes after its terminal status.
open_sync AS (SELECT id FROM sync_history WHERE id = CAST(:syncId AS uuid) AND status IN ('pending', 'in_progress')),
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
    (count(*) FILTER (WHERE status = 'created'))::int AS items_created,
    (count(*) FILTER (WHERE status = 'failed'))::int AS items_failed,
    (count(*) FILTER (WHERE status = 'skipped'))::int AS items_skipped,
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
    items_created = s.items_created + c.items_created,
    items_failed = s.items_failed + c.items_failed,
    items_skipped = s.items_skipped + c.items_skipped,
    epics_created = s.epics_created + c.epics_created,
    epics_failed = s.epics_failed + c.epics_failed,
    epics_skipped = s.epics_skipped + c.epics_skipped,
    features_created = s.features_created + c.features_created,
    features_failed = s.features_failed + c.features_failed,
    features_skipped = s.features_skipped + c.features_skipped,
    user_stories_created = s.user_stories_created + c.user_stories_created,
    user_stories_failed = s.user_stories_failed + c.user_stories_failed,
    user_stories_skipped = s.user_stories_skipped + c.user_stories_skipped,
    last_event_seq = s.last_event_seq + c.n
    
  FROM counts c
  -- Nothing inserted (a duplicate delivery): the row is left alone, and read below instead.
  WHERE s.id = CAST(:syncId AS uuid) AND s.status IN ('pending', 'in_progress') AND c.n > 0
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
WHERE s.id = CAST(:syncId AS uuid) AND NOT EXISTS (SELECT 1 FROM h);

-- RELEASE_ITEMS
WITH claimed AS (
  SELECT k.*, p.* FROM (SELECT DISTINCT value AS ardoq_id FROM jsonb_array_elements_text(CAST(:ardoqIds AS jsonb)) ORDER BY ardoq_id) k
  CROSS JOIN LATERAL (
    SELECT q.ctid AS plan_tid, q.sync_history_id, q.state = 'processing' AS held
    FROM sync_plan_items q
    WHERE q.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND q.ardoq_id = k.ardoq_id
    FOR UPDATE OF q
  ) p
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
  UPDATE sync_history s SET throttled_ms = least(s.throttled_ms + CAST(:throttledMs AS bigint), greatest(s.throttled_ms,
    (extract(epoch FROM now() - coalesce(s.in_progress_at, s.started_at)) * 1000)::bigint))
  WHERE s.id = CAST(:syncId AS uuid) AND CAST(:throttledMs AS bigint) > 0 AND EXISTS (SELECT 1 FROM released)
)
SELECT ardoq_id FROM released;

-- REQUEST_CLOSE
WITH RECURSIVE src AS (
  SELECT p.ardoq_id, 'skipped'::text AS status, NULL::integer AS azure_devops_id, NULL::text AS azure_devops_url,
    CAST(:skipReason AS text) AS error_message, NULL::jsonb AS changed_by_user
  FROM sync_plan_items p
  WHERE p.sync_history_id = CAST(:syncId AS uuid) AND p.state = 'pending' AND p.attempts = 0
    AND EXISTS (SELECT 1 FROM sync_history s WHERE s.id = CAST(:syncId AS uuid) AND s.status IN ('pending', 'in_progress')
      AND (s.close_requested IS NULL OR s.close_requested = CAST(:to AS text)))
  -- Locks the rows (in ardoq_id order, as claims do), so a processor cannot claim an item between this
  -- read and its skip.
  ORDER BY p.ardoq_id
  FOR UPDATE OF p
),
-- Each outcome with its node's plan row (see lockPlanRows).
nodes AS (
  SELECT k.*, p.* FROM (SELECT * FROM src ORDER BY ardoq_id) k
  CROSS JOIN LATERAL (
    SELECT q.ctid AS plan_tid, q.sync_history_id, q.name, q.item_type, q.position, q.state <> 'done' AS open
    FROM sync_plan_items q
    WHERE q.sync_history_id = (SELECT CAST(:syncId AS uuid)) AND q.ardoq_id = k.ardoq_id
    FOR UPDATE OF q
  ) p
),
-- A terminal sync is final: no outcome, counter or event changes after its terminal status.
open_sync AS (SELECT id FROM sync_history WHERE id = CAST(:syncId AS uuid) AND status IN ('pending', 'in_progress')),
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
    (count(*) FILTER (WHERE status = 'created'))::int AS items_created,
    (count(*) FILTER (WHERE status = 'failed'))::int AS items_failed,
    (count(*) FILTER (WHERE status = 'skipped'))::int AS items_skipped,
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
    items_created = s.items_created + c.items_created,
    items_failed = s.items_failed + c.items_failed,
    items_skipped = s.items_skipped + c.items_skipped,
    epics_created = s.epics_created + c.epics_created,
    epics_failed = s.epics_failed + c.epics_failed,
    epics_skipped = s.epics_skipped + c.epics_skipped,
    features_created = s.features_created + c.features_created,
    features_failed = s.features_failed + c.features_failed,
    features_skipped = s.features_skipped + c.features_skipped,
    user_stories_created = s.user_stories_created + c.user_stories_created,
    user_stories_failed = s.user_stories_failed + c.user_stories_failed,
    user_stories_skipped = s.user_stories_skipped + c.user_stories_skipped,
    last_event_seq = s.last_event_seq + c.n
    , close_requested = coalesce(s.close_requested, CAST(:to AS text)),
         close_requested_at = coalesce(s.close_requested_at, now()),
         close_reason = coalesce(s.close_reason, CAST(:reason AS text)),
         close_actor = coalesce(s.close_actor, CAST(:actor AS jsonb))
  FROM counts c
  -- Nothing inserted (a duplicate delivery): the row is left alone, and read below instead.
  WHERE s.id = CAST(:syncId AS uuid) AND s.status IN ('pending', 'in_progress') 
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
WHERE s.id = CAST(:syncId AS uuid) AND NOT EXISTS (SELECT 1 FROM h);

-- RECORD_DELETIONS
WITH h AS (
  UPDATE sync_history SET deletion_count = deletion_count + CAST(:deleted AS integer), last_event_seq = last_event_seq + 1,
    -- a long overwrite keeps its prepare claim fresh, so no second prepare starts deleting too
    prepare_claimed_at = CASE WHEN prepare_claimed_at IS NULL THEN NULL ELSE now() END
  WHERE id = CAST(:syncId AS uuid) AND status = 'pending'
  RETURNING id, deletion_count, last_event_seq, close_requested
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text), CAST(:data AS jsonb) || jsonb_build_object('timestamp', iso_utc(now()))
  FROM h
)
SELECT * FROM h;

-- APPEND_EVENT
WITH h AS (
  UPDATE sync_history SET last_event_seq = last_event_seq + 1,
    overwrite_total = coalesce(CAST(:overwriteTotal AS integer), overwrite_total)
  WHERE id = CAST(:syncId AS uuid) AND status IN ('pending', 'in_progress')
  RETURNING id, last_event_seq
),
ev AS (
  INSERT INTO sync_events (sync_history_id, seq, event, data)
  SELECT h.id, h.last_event_seq, CAST(:event AS text), CAST(:data AS jsonb) || jsonb_build_object('timestamp', iso_utc(now()))
  FROM h
)
SELECT last_event_seq AS seq FROM h;

-- POSTPONE_PREPARE
WITH cur AS (
  SELECT id, coalesce(prepare_retry_until, now() + make_interval(mins => CAST(:budgetMinutes AS integer))) AS until
  FROM sync_history
  WHERE id = CAST(:syncId AS uuid) AND status = 'pending' AND close_requested IS NULL
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
SELECT * FROM h;

-- FINALIZE
WITH h AS (
  UPDATE sync_history SET
    status = CASE WHEN close_requested IS NOT NULL THEN close_requested
      WHEN items_created = 0 THEN 'failed' ELSE 'completed' END,
    error_message = CASE WHEN close_requested = 'failed' THEN close_reason
      WHEN close_requested IS NULL AND items_created = 0
        THEN format('No work item was created: %s failed, %s skipped', items_failed, items_skipped)
      ELSE error_message END,
    completed_at = now(), duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint, last_event_seq = last_event_seq + 1,
    prepare_claimed_at = NULL, prepare_next_at = NULL
  WHERE id = CAST(:syncId AS uuid) AND items_created + items_failed + items_skipped = total_items
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
      WHEN 'completed' THEN jsonb_build_object('summary', jsonb_build_object(
  'total', h.total_items, 'created', h.items_created,
  'failed', h.total_items - h.items_created, 'skipped', h.items_skipped,
  'epics', jsonb_build_object('total', h.epics_total, 'created', h.epics_created,
    'failed', h.epics_total - h.epics_created),
  'features', jsonb_build_object('total', h.features_total, 'created', h.features_created,
    'failed', h.features_total - h.features_created),
  'userStories', jsonb_build_object('total', h.user_stories_total, 'created', h.user_stories_created,
    'failed', h.user_stories_total - h.user_stories_created)), 'timestamp', iso_utc(h.completed_at))
      WHEN 'cancelled' THEN jsonb_build_object('message', h.close_reason, 'summary', jsonb_build_object(
  'total', h.total_items, 'created', h.items_created,
  'failed', h.total_items - h.items_created, 'skipped', h.items_skipped,
  'epics', jsonb_build_object('total', h.epics_total, 'created', h.epics_created,
    'failed', h.epics_total - h.epics_created),
  'features', jsonb_build_object('total', h.features_total, 'created', h.features_created,
    'failed', h.features_total - h.features_created),
  'userStories', jsonb_build_object('total', h.user_stories_total, 'created', h.user_stories_created,
    'failed', h.user_stories_total - h.user_stories_created)),
        'timestamp', iso_utc(h.completed_at))
      ELSE jsonb_build_object('error', h.error_message, 'summary', jsonb_build_object(
  'total', h.total_items, 'created', h.items_created,
  'failed', h.total_items - h.items_created, 'skipped', h.items_skipped,
  'epics', jsonb_build_object('total', h.epics_total, 'created', h.epics_created,
    'failed', h.epics_total - h.epics_created),
  'features', jsonb_build_object('total', h.features_total, 'created', h.features_created,
    'failed', h.features_total - h.features_created),
  'userStories', jsonb_build_object('total', h.user_stories_total, 'created', h.user_stories_created,
    'failed', h.user_stories_total - h.user_stories_created)),
        'timestamp', iso_utc(h.completed_at)) END
  FROM h
)
SELECT * FROM h;
