-- The prepare step (type discovery, overwrite deletion) runs once at a time per sync: a duplicate
-- prepare message must not delete or count a second time while the first is still working.
ALTER TABLE sync_history ADD COLUMN prepare_claimed_at timestamptz;
