-- When a sync's items started being processed: the statement that moves it from pending to
-- in_progress (MARK_IN_PROGRESS) sets it, in the same UPDATE. The estimate of the time left
-- (`eta_seconds`) and the final rate of the `sync finished` log line measure from it, so the prepare
-- step (type discovery, overwrite deletion) does not count as processing time. NULL for a sync that
-- never reached in_progress, and for one that did before this migration (the estimate then measures
-- from started_at).
ALTER TABLE sync_history ADD COLUMN in_progress_at timestamptz;
