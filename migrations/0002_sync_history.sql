-- One row per sync run: what the history pages show (CONTRACT.md §4) plus internal bookkeeping
-- (per-type totals and skips for the summary, the event sequence, the deadline, request options).
CREATE TABLE sync_history (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source_type          text NOT NULL DEFAULT 'ardoq',
  source_config_id     text,
  target_type          text NOT NULL DEFAULT 'azure-devops',
  target_config_id     text,
  project_name         text NOT NULL,
  status               text NOT NULL DEFAULT 'pending',
  overwrite_mode       boolean NOT NULL DEFAULT false,
  total_items          integer NOT NULL,
  items_created        integer NOT NULL DEFAULT 0,
  items_failed         integer NOT NULL DEFAULT 0,
  items_skipped        integer NOT NULL DEFAULT 0,
  epics_total          integer NOT NULL DEFAULT 0,
  epics_created        integer NOT NULL DEFAULT 0,
  epics_failed         integer NOT NULL DEFAULT 0,
  epics_skipped        integer NOT NULL DEFAULT 0,
  features_total       integer NOT NULL DEFAULT 0,
  features_created     integer NOT NULL DEFAULT 0,
  features_failed      integer NOT NULL DEFAULT 0,
  features_skipped     integer NOT NULL DEFAULT 0,
  user_stories_total   integer NOT NULL DEFAULT 0,
  user_stories_created integer NOT NULL DEFAULT 0,
  user_stories_failed  integer NOT NULL DEFAULT 0,
  user_stories_skipped integer NOT NULL DEFAULT 0,
  deletion_count       integer NOT NULL DEFAULT 0,
  started_at           timestamptz NOT NULL DEFAULT now(),
  completed_at         timestamptz,
  duration_ms          bigint,
  error_message        text,
  user_id              text,
  options              jsonb NOT NULL DEFAULT '{}'::jsonb,
  work_item_types      jsonb,
  deadline_at          timestamptz NOT NULL,
  last_event_seq       integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sync_history_source_type_valid CHECK (source_type IN ('ardoq')),
  CONSTRAINT sync_history_target_type_valid CHECK (target_type IN ('azure-devops')),
  CONSTRAINT sync_history_status_valid
    CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')),
  CONSTRAINT sync_history_project_name_length CHECK (char_length(project_name) BETWEEN 1 AND 64),
  CONSTRAINT sync_history_source_config_id_length
    CHECK (source_config_id IS NULL OR char_length(source_config_id) BETWEEN 1 AND 255),
  CONSTRAINT sync_history_target_config_id_length
    CHECK (target_config_id IS NULL OR char_length(target_config_id) BETWEEN 1 AND 255),
  CONSTRAINT sync_history_user_id_length CHECK (user_id IS NULL OR char_length(user_id) BETWEEN 1 AND 255),
  CONSTRAINT sync_history_counters_non_negative CHECK (
    total_items >= 0 AND items_created >= 0 AND items_failed >= 0 AND items_skipped >= 0
    AND epics_total >= 0 AND epics_created >= 0 AND epics_failed >= 0 AND epics_skipped >= 0
    AND features_total >= 0 AND features_created >= 0 AND features_failed >= 0 AND features_skipped >= 0
    AND user_stories_total >= 0 AND user_stories_created >= 0 AND user_stories_failed >= 0
    AND user_stories_skipped >= 0 AND deletion_count >= 0 AND last_event_seq >= 0),
  CONSTRAINT sync_history_totals_add_up
    CHECK (epics_total + features_total + user_stories_total = total_items),
  -- An outcome is counted once: the counters can never pass the number of requested nodes.
  CONSTRAINT sync_history_outcomes_within_total
    CHECK (items_created + items_failed + items_skipped <= total_items),
  CONSTRAINT sync_history_outcomes_by_type CHECK (
    items_created = epics_created + features_created + user_stories_created
    AND items_failed = epics_failed + features_failed + user_stories_failed
    AND items_skipped = epics_skipped + features_skipped + user_stories_skipped),
  CONSTRAINT sync_history_completed_at_when_terminal
    CHECK ((status IN ('completed', 'failed', 'cancelled')) = (completed_at IS NOT NULL))
);

CREATE INDEX sync_history_created_at_idx ON sync_history (created_at DESC, id DESC);
CREATE INDEX sync_history_status_created_at_idx ON sync_history (status, created_at DESC);
CREATE INDEX sync_history_target_config_created_at_idx ON sync_history (target_config_id, created_at DESC);
CREATE INDEX sync_history_project_name_trgm_idx ON sync_history USING gin (lower(project_name) gin_trgm_ops);
-- The sweep looks for open syncs only.
CREATE INDEX sync_history_open_idx ON sync_history (deadline_at) WHERE status IN ('pending', 'in_progress');

CREATE TRIGGER sync_history_set_updated_at BEFORE UPDATE ON sync_history
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Status only moves forward (DESIGN.md §4.3): a bug elsewhere cannot reopen or rewrite a finished sync.
CREATE FUNCTION sync_history_status_forward_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'pending' AND NEW.status IN ('in_progress', 'failed', 'cancelled'))
    OR (OLD.status = 'in_progress' AND NEW.status IN ('completed', 'failed', 'cancelled'))
  ) THEN
    RAISE EXCEPTION 'sync % cannot move from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'sync_history_status_forward_only';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER sync_history_status_forward_only BEFORE UPDATE OF status ON sync_history
  FOR EACH ROW EXECUTE FUNCTION sync_history_status_forward_only();

-- The outcome of each requested node: exactly one row per (sync, node), enforced by the unique key.
CREATE TABLE sync_history_items (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sync_history_id  uuid NOT NULL REFERENCES sync_history (id) ON DELETE CASCADE,
  ardoq_id         text NOT NULL,
  item_name        text NOT NULL,
  item_type        text NOT NULL,
  status           text NOT NULL,
  azure_devops_id  integer,
  azure_devops_url text,
  error_message    text,
  changed_by_user  jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sync_history_items_one_outcome_per_node UNIQUE (sync_history_id, ardoq_id),
  CONSTRAINT sync_history_items_item_type_valid CHECK (item_type IN ('epic', 'feature', 'user_story')),
  CONSTRAINT sync_history_items_status_valid CHECK (status IN ('created', 'failed', 'skipped')),
  CONSTRAINT sync_history_items_created_has_work_item
    CHECK (status <> 'created' OR (azure_devops_id IS NOT NULL AND azure_devops_url IS NOT NULL)),
  CONSTRAINT sync_history_items_not_created_has_reason CHECK (status = 'created' OR error_message IS NOT NULL),
  CONSTRAINT sync_history_items_ardoq_id_length CHECK (char_length(ardoq_id) BETWEEN 1 AND 255),
  CONSTRAINT sync_history_items_item_name_length CHECK (char_length(item_name) BETWEEN 1 AND 1000)
);

CREATE INDEX sync_history_items_sync_created_at_idx ON sync_history_items (sync_history_id, created_at, id);
CREATE INDEX sync_history_items_sync_status_idx ON sync_history_items (sync_history_id, status, created_at);
CREATE INDEX sync_history_items_sync_type_idx ON sync_history_items (sync_history_id, item_type, created_at);

-- Internal work state: the whole requested tree, one row per node, written with the history row.
CREATE TABLE sync_plan_items (
  sync_history_id uuid NOT NULL REFERENCES sync_history (id) ON DELETE CASCADE,
  ardoq_id        text NOT NULL,
  parent_ardoq_id text,
  item_type       text NOT NULL,
  depth           smallint NOT NULL,
  position        integer NOT NULL,
  name            text NOT NULL,
  payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
  state           text NOT NULL DEFAULT 'pending',
  attempts        integer NOT NULL DEFAULT 0,
  azure_devops_id integer,
  claimed_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sync_history_id, ardoq_id),
  CONSTRAINT sync_plan_items_parent_in_plan FOREIGN KEY (sync_history_id, parent_ardoq_id)
    REFERENCES sync_plan_items (sync_history_id, ardoq_id) ON DELETE CASCADE,
  CONSTRAINT sync_plan_items_item_type_valid CHECK (item_type IN ('epic', 'feature', 'user_story')),
  CONSTRAINT sync_plan_items_state_valid CHECK (state IN ('pending', 'processing', 'done')),
  CONSTRAINT sync_plan_items_level_fits_type CHECK (
       (item_type = 'epic' AND depth = 0 AND parent_ardoq_id IS NULL)
    OR (item_type = 'feature' AND depth = 1 AND parent_ardoq_id IS NOT NULL)
    OR (item_type = 'user_story' AND depth = 2 AND parent_ardoq_id IS NOT NULL)),
  CONSTRAINT sync_plan_items_ardoq_id_length CHECK (char_length(ardoq_id) BETWEEN 1 AND 255),
  CONSTRAINT sync_plan_items_name_length CHECK (char_length(name) BETWEEN 1 AND 1000),
  CONSTRAINT sync_plan_items_attempts_non_negative CHECK (attempts >= 0)
);

CREATE INDEX sync_plan_items_children_idx ON sync_plan_items (sync_history_id, parent_ardoq_id, position);
CREATE INDEX sync_plan_items_unfinished_idx ON sync_plan_items (sync_history_id, state) WHERE state <> 'done';

CREATE TRIGGER sync_plan_items_set_updated_at BEFORE UPDATE ON sync_plan_items
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Append-only progress log behind the SSE streams. seq comes from sync_history.last_event_seq,
-- bumped in the statement that writes the event, so one sync's events are numbered in commit order.
CREATE TABLE sync_events (
  sync_history_id uuid NOT NULL REFERENCES sync_history (id) ON DELETE CASCADE,
  seq             integer NOT NULL,
  event           text NOT NULL,
  data            jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sync_history_id, seq),
  CONSTRAINT sync_events_seq_positive CHECK (seq > 0),
  CONSTRAINT sync_events_event_valid CHECK (event IN (
    'sync:accepted', 'sync:started', 'sync:complete', 'sync:error', 'sync:cancelled',
    'overwrite:started', 'overwrite:no-items', 'overwrite:deleting', 'overwrite:progress',
    'overwrite:deleted', 'overwrite:error',
    'epic:created', 'feature:created', 'userstory:created',
    'epic:failed', 'feature:failed', 'userstory:failed'))
);
