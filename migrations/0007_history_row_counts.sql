-- Exact row counts kept by triggers, so the history and audit pages (CONTRACT.md §4) report their
-- exact total without counting 100,000s of rows on every page: the unfiltered lists, and the lists
-- filtered by one counted column, read a handful of counter rows instead (lambdas/core/history).
--
-- One row per (counter, value, shard): `counter` names what is counted ('sync_history' for the whole
-- table, 'sync_history.status' for one status, ...), `value` the column value ('' for the whole table).
-- Writers add to the shard of their backend (pg_backend_pid() % 16), so concurrent transactions rarely
-- wait for each other's counter rows; readers sum the shards. The counts are transactional like the
-- rows they count: a reader's snapshot sees a row and its count together or not at all.
CREATE TABLE history_row_counts (
  counter text NOT NULL,
  value   text NOT NULL,
  shard   smallint NOT NULL,
  n       bigint NOT NULL,
  PRIMARY KEY (counter, value, shard),
  CONSTRAINT history_row_counts_shard_range CHECK (shard BETWEEN 0 AND 15)
) WITH (fillfactor = 50); -- room for HOT updates: n is not indexed, the rows are rewritten constantly

-- Adds deltas to the caller's shard. A transaction only ever touches ONE shard (its backend's), and
-- takes that shard's advisory lock before any counter row of it, so two writers can never deadlock
-- on counter rows, whatever order their statements fire the triggers in.
CREATE FUNCTION history_row_counts_add(counters text[], vals text[], deltas bigint[]) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  my_shard smallint := pg_backend_pid() % 16;
BEGIN
  PERFORM pg_advisory_xact_lock(4242018, my_shard);
  INSERT INTO history_row_counts AS c (counter, value, shard, n)
  SELECT d.counter, d.value, my_shard, sum(d.delta)
  FROM unnest(counters, vals, deltas) AS d(counter, value, delta)
  GROUP BY d.counter, d.value
  HAVING sum(d.delta) <> 0
  ORDER BY d.counter, d.value
  ON CONFLICT (counter, value, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
END;
$$;

-- Rows inserted into or deleted from sync_history, once per statement (a transition table holds them):
-- the table, and by status and by project name.
CREATE FUNCTION sync_history_count_rows() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  direction bigint := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  -- A statement that wrote no row (a conditional INSERT ... SELECT) takes no lock.
  IF NOT EXISTS (SELECT FROM changed) THEN
    RETURN NULL;
  END IF;
  PERFORM history_row_counts_add(array_agg(x.counter), array_agg(x.value), array_agg(direction * x.n))
  FROM (
    SELECT 'sync_history', '', count(*) FROM changed
    UNION ALL
    SELECT 'sync_history.status', status, count(*) FROM changed GROUP BY status
    UNION ALL
    SELECT 'sync_history.project_name', project_name, count(*) FROM changed GROUP BY project_name
  ) AS x(counter, value, n);
  RETURN NULL;
END;
$$;

CREATE TRIGGER sync_history_count_inserts AFTER INSERT ON sync_history
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sync_history_count_rows();
CREATE TRIGGER sync_history_count_deletes AFTER DELETE ON sync_history
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sync_history_count_rows();

-- A row that changes status or project name moves between counters. Row-level and limited to those
-- columns, so the pipeline's frequent counter updates of sync_history never fire it.
CREATE FUNCTION sync_history_count_moves() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM history_row_counts_add(
    ARRAY['sync_history.status', 'sync_history.status', 'sync_history.project_name',
          'sync_history.project_name'],
    ARRAY[OLD.status, NEW.status, OLD.project_name, NEW.project_name],
    ARRAY[-1, 1, -1, 1]::bigint[]);
  RETURN NULL;
END;
$$;

CREATE TRIGGER sync_history_count_moves AFTER UPDATE OF status, project_name ON sync_history
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.project_name IS DISTINCT FROM NEW.project_name)
  EXECUTE FUNCTION sync_history_count_moves();

-- audit_logs is append-only (0003): inserts are all there is to count.
CREATE FUNCTION audit_logs_count_rows() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM changed) THEN
    RETURN NULL;
  END IF;
  PERFORM history_row_counts_add(array_agg(x.counter), array_agg(x.value), array_agg(x.n))
  FROM (
    SELECT 'audit_logs', '', count(*) FROM changed
    UNION ALL
    SELECT 'audit_logs.action_type', action_type, count(*) FROM changed GROUP BY action_type
    UNION ALL
    SELECT 'audit_logs.entity_type', entity_type, count(*) FROM changed GROUP BY entity_type
  ) AS x(counter, value, n);
  RETURN NULL;
END;
$$;

CREATE TRIGGER audit_logs_count_inserts AFTER INSERT ON audit_logs
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_count_rows();

-- TRUNCATE fires no DELETE trigger: the table's counters go with its rows. (TRUNCATE holds an
-- ACCESS EXCLUSIVE lock, so no writer of the table is adding to them meanwhile.)
CREATE FUNCTION history_row_counts_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  DELETE FROM history_row_counts WHERE counter = TG_TABLE_NAME OR counter LIKE TG_TABLE_NAME || '.%';
  RETURN NULL;
END;
$$;

CREATE TRIGGER sync_history_count_truncate AFTER TRUNCATE ON sync_history
  FOR EACH STATEMENT EXECUTE FUNCTION history_row_counts_truncate();

-- Counting must not stop when a session sets session_replication_role = replica (bulk loads, tests
-- that backdate rows): those triggers fire ALWAYS.
ALTER TABLE sync_history ENABLE ALWAYS TRIGGER sync_history_count_inserts;
ALTER TABLE sync_history ENABLE ALWAYS TRIGGER sync_history_count_deletes;
ALTER TABLE sync_history ENABLE ALWAYS TRIGGER sync_history_count_moves;
ALTER TABLE sync_history ENABLE ALWAYS TRIGGER sync_history_count_truncate;
ALTER TABLE audit_logs ENABLE ALWAYS TRIGGER audit_logs_count_inserts;

-- The rows that exist already. CREATE TRIGGER above locked both tables against writers until this
-- migration commits, so no row is counted twice or missed.
INSERT INTO history_row_counts (counter, value, shard, n)
SELECT x.counter, x.value, 0, x.n
FROM (
  SELECT 'sync_history', '', count(*) FROM sync_history
  UNION ALL
  SELECT 'sync_history.status', status, count(*) FROM sync_history GROUP BY status
  UNION ALL
  SELECT 'sync_history.project_name', project_name, count(*) FROM sync_history GROUP BY project_name
  UNION ALL
  SELECT 'audit_logs', '', count(*) FROM audit_logs
  UNION ALL
  SELECT 'audit_logs.action_type', action_type, count(*) FROM audit_logs GROUP BY action_type
  UNION ALL
  SELECT 'audit_logs.entity_type', entity_type, count(*) FROM audit_logs GROUP BY entity_type
) AS x(counter, value, n)
WHERE x.n > 0;

-- Item pages sort one sync's outcomes by (created_at, id): with id in the filtered indexes too, a page
-- deep into a big sync is read from the index alone, in order, without sorting. The other filter
-- column rides along (INCLUDE) so status + item_type is index-only as well.
DROP INDEX sync_history_items_sync_status_idx;
CREATE INDEX sync_history_items_sync_status_idx
  ON sync_history_items (sync_history_id, status, created_at, id) INCLUDE (item_type);
DROP INDEX sync_history_items_sync_type_idx;
CREATE INDEX sync_history_items_sync_type_idx
  ON sync_history_items (sync_history_id, item_type, created_at, id) INCLUDE (status);

-- The same for the sync list filtered by status, newest first.
DROP INDEX sync_history_status_created_at_idx;
CREATE INDEX sync_history_status_created_at_idx ON sync_history (status, created_at DESC, id DESC);
