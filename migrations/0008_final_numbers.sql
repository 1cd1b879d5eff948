-- Every number final (issue 14).
--
-- 1. A sync is closed (cancelled, or failed while running) in two steps. The request records what the
--    sync is closing to and skips every node that had not started; the sync stays open while creates
--    already sent to Azure DevOps finish and record their outcomes, and moves to its terminal status
--    only when the last one is in (the finalize statement). So nothing about a terminal sync changes
--    afterwards, and its audit entry and final event carry the final numbers.
ALTER TABLE sync_history
  ADD COLUMN close_requested text,
  ADD COLUMN close_requested_at timestamptz,
  ADD COLUMN close_reason text,
  -- Who asked (cancel: the user), written to the audit entry when the sync closes.
  ADD COLUMN close_actor jsonb,
  ADD CONSTRAINT sync_history_close_requested_valid
    CHECK (close_requested IS NULL OR close_requested IN ('cancelled', 'failed')),
  ADD CONSTRAINT sync_history_close_request_complete
    CHECK ((close_requested IS NULL) = (close_requested_at IS NULL)
      AND (close_requested IS NULL OR close_reason IS NOT NULL));

-- 2. The prepare step retries Azure DevOps trouble for a bounded time (OVERWRITE_RETRY_MINUTES): the
--    attempts so far, the end of the retry window, when the next attempt is due (the sweep does not
--    resend a prepare that is only waiting), and how many work items overwrite mode found to delete
--    (so a retry reports progress against the same total instead of starting over).
ALTER TABLE sync_history
  ADD COLUMN prepare_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN prepare_retry_until timestamptz,
  ADD COLUMN prepare_next_at timestamptz,
  ADD COLUMN overwrite_total integer,
  -- Time the sync's work waited because Azure DevOps throttled it (the delays it asked for).
  ADD COLUMN throttled_ms bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT sync_history_prepare_attempts_non_negative CHECK (prepare_attempts >= 0),
  ADD CONSTRAINT sync_history_overwrite_total_non_negative CHECK (overwrite_total IS NULL OR overwrite_total >= 0),
  ADD CONSTRAINT sync_history_throttled_ms_non_negative CHECK (throttled_ms >= 0);

ALTER TABLE sync_events DROP CONSTRAINT sync_events_event_valid;
ALTER TABLE sync_events ADD CONSTRAINT sync_events_event_valid CHECK (event IN (
  'sync:accepted', 'sync:started', 'sync:complete', 'sync:error', 'sync:cancelled',
  'overwrite:started', 'overwrite:no-items', 'overwrite:deleting', 'overwrite:progress',
  'overwrite:deleted', 'overwrite:error', 'overwrite:retrying',
  'epic:created', 'feature:created', 'userstory:created',
  'epic:failed', 'feature:failed', 'userstory:failed'));

-- 3. Item pages list a sync's outcomes in plan order (the request tree's order, parents before
--    children): each outcome keeps its node's position in the plan, unique within the sync.
ALTER TABLE sync_history_items ADD COLUMN position integer;
UPDATE sync_history_items i SET position = p.position
FROM sync_plan_items p
WHERE p.sync_history_id = i.sync_history_id AND p.ardoq_id = i.ardoq_id;
-- An outcome without a plan row cannot exist (the outcome statements read the plan row); should one
-- exist anyway, it goes after the plan, in its old order.
UPDATE sync_history_items i SET position = 1000000000 + x.n
FROM (SELECT id, row_number() OVER (PARTITION BY sync_history_id ORDER BY created_at, id)::int AS n
      FROM sync_history_items WHERE position IS NULL) x
WHERE i.id = x.id;
ALTER TABLE sync_history_items ALTER COLUMN position SET NOT NULL;

DROP INDEX sync_history_items_sync_created_at_idx;
CREATE UNIQUE INDEX sync_history_items_sync_position_idx ON sync_history_items (sync_history_id, position);
DROP INDEX sync_history_items_sync_status_idx;
CREATE INDEX sync_history_items_sync_status_idx
  ON sync_history_items (sync_history_id, status, position) INCLUDE (item_type);
DROP INDEX sync_history_items_sync_type_idx;
CREATE INDEX sync_history_items_sync_type_idx
  ON sync_history_items (sync_history_id, item_type, position) INCLUDE (status);

-- 4. A refused attempt (a plain user trying a configuration write) is audited too.
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_action_type_valid;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_action_type_valid CHECK (action_type IN (
  'sync_started', 'sync_completed', 'sync_failed', 'sync_cancelled',
  'config_created', 'config_updated', 'config_deleted', 'config_activated', 'connection_tested',
  'access_denied'));
