-- The per-row foreign key from a plan item to its parent cost ~9 µs per row on PostgreSQL (90 ms of a
-- 10,000-item create) and, on PGlite before any ANALYZE, a scan per row (9 s). Every parent is
-- checked before the insert instead: the request is a tree (a node's parent is the node it is nested
-- in, types fixed per level) and createSync validates the flattened plan (NewSync: each parent in the
-- plan, of the level above). The plan is written once and never changed structurally afterwards.
-- Kept: the key and the indexes every pipeline query uses (children lookups, unfinished items), the
-- cascade from sync_history and the per-row CHECKs (cheap).
ALTER TABLE sync_plan_items DROP CONSTRAINT sync_plan_items_parent_in_plan;
