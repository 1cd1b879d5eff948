-- Least privilege in the database (issue 15). Migrations run as the schema owner (the cluster's
-- master user sync_admin in AWS, postgres locally); the running functions connect as ardoq_sync_app,
-- which may read and write the rows they use and nothing else: no DDL, no TRUNCATE, no DELETE of
-- history or audit rows, so it can neither drop nor disable the audit trigger, nor empty a table.
--
-- RULE FOR EVERY LATER MIGRATION: a new table or sequence gives ardoq_sync_app nothing by default.
-- The migration that creates it grants exactly what the functions do with it, in the same file, e.g.
--   GRANT SELECT, INSERT, UPDATE ON new_table TO ardoq_sync_app;
--   GRANT USAGE ON SEQUENCE new_table_id_seq TO ardoq_sync_app;   -- serial/identity columns
-- never TRUNCATE, REFERENCES, TRIGGER, nor anything on the schema. A trigger function that writes a
-- table the role cannot write runs as SECURITY DEFINER with a fixed search_path (see below).
-- test/integration/runtime-role.postgres.test.ts lists every table's grants and fails on a new
-- table until it is added there.
--
-- The role is created NOLOGIN: the migrate function gives it LOGIN and the password of its Secrets
-- Manager secret through set_runtime_role_password() (below), so no password is ever in SQL text.

-- A role belongs to the whole cluster, not to one database: every database of the server (parallel
-- test databases included) shares it, and all but the first find it there. When two first runs race,
-- the later CREATE ROLE waits for the earlier one to commit and then fails with unique_violation
-- (duplicate_object when it was already visible): either way the role exists, which is all this needs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ardoq_sync_app') THEN
    CREATE ROLE ardoq_sync_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- A role of that name made by someone else, with more power than this file gives, is refused rather
-- than used: the functions would run with it.
DO $$
BEGIN
  IF EXISTS (
    SELECT FROM pg_roles r
    WHERE r.rolname = 'ardoq_sync_app'
      AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
           OR EXISTS (SELECT FROM pg_auth_members m WHERE m.member = r.oid))
  ) THEN
    RAISE EXCEPTION 'role ardoq_sync_app exists with attributes or memberships beyond DML: fix it by hand'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;

-- What the functions do, table by table (every statement under lambdas/store). USAGE on the schema
-- and CONNECT on the database come from PUBLIC, as for every role; CREATE on the schema does not
-- (PostgreSQL 15+; the cluster runs 16).
-- Syncs and their plans are created and then updated as they run; never deleted at run time.
GRANT SELECT, INSERT, UPDATE ON sync_history, sync_plan_items TO ardoq_sync_app;
-- Outcomes and events are written once (ON CONFLICT DO NOTHING at most) and only read afterwards.
GRANT SELECT, INSERT ON sync_history_items, sync_events TO ardoq_sync_app;
-- Append-only: the trigger of 0003 rejects UPDATE, DELETE and TRUNCATE for every role; this role is
-- not even granted them.
GRANT SELECT, INSERT ON audit_logs TO ardoq_sync_app;
-- Configurations are created, edited, activated and deleted through the API.
GRANT SELECT, INSERT, UPDATE, DELETE ON azure_devops_configurations TO ardoq_sync_app;
-- The history pages read the counters; only the counting triggers write them (below).
GRANT SELECT ON history_row_counts TO ardoq_sync_app;
-- schema_migrations: nothing (only the migrate function, as the owner, reads it). No sequences exist:
-- every key is a uuid default or a counter column.

-- The counting triggers of 0007 write history_row_counts whoever fires them. Rather than letting the
-- runtime role write the counters directly (and so set any total it likes), the trigger functions run
-- as their owner. A trigger function cannot be called outside a trigger, so this adds no entry point;
-- the fixed search_path (this schema, then pg_temp last) keeps a temporary table of the caller from
-- standing in for a real one. EXECUTE goes from PUBLIC so no other trigger (one the role could put on
-- a temporary table of its own) can reach them: firing an existing trigger checks no EXECUTE privilege.
DO $$
DECLARE
  fn text;
BEGIN
  FOREACH fn IN ARRAY ARRAY['sync_history_count_rows()', 'sync_history_count_moves()', 'audit_logs_count_rows()']
  LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', fn, current_schema());
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
  END LOOP;
END
$$;
-- The shared writer they call: the owner's only (it runs inside the functions above, as the owner).
REVOKE EXECUTE ON FUNCTION history_row_counts_add(text[], text[], bigint[]) FROM PUBLIC;

-- Sets the runtime role's password (and lets it log in), called by the migrate function with the
-- password of the role's secret, as a parameter: the password is never part of a statement's text.
-- SECURITY DEFINER so the owner's right to alter the role is used for this one role and nothing else;
-- only the owner may call it. The role name is checked against the secret's username, so a secret of
-- another user cannot silently become this role's password. Returns the role it changed (text rather
-- than void, which not every client maps).
CREATE FUNCTION set_runtime_role_password(role_name text, new_password text) RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF role_name IS DISTINCT FROM 'ardoq_sync_app' THEN
    -- The argument is not echoed: swapped arguments would put the password into the message.
    RAISE EXCEPTION 'set_runtime_role_password sets the password of ardoq_sync_app only'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF new_password IS NULL OR length(new_password) < 16 THEN
    RAISE EXCEPTION 'the password of ardoq_sync_app must have at least 16 characters'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('ALTER ROLE ardoq_sync_app LOGIN PASSWORD %L', new_password);
  RETURN role_name;
END;
$$;

REVOKE EXECUTE ON FUNCTION set_runtime_role_password(text, text) FROM PUBLIC;
