-- The audit log (CONTRACT.md §4). entity_id is text: configuration ids are not UUIDs (old defect 9).
CREATE TABLE audit_logs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  action_type text NOT NULL,
  entity_type text NOT NULL,
  entity_id   text,
  user_id     text,
  source_ip   text,
  user_agent  text,
  details     jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT audit_logs_action_type_valid CHECK (action_type IN (
    'sync_started', 'sync_completed', 'sync_failed', 'sync_cancelled',
    'config_created', 'config_updated', 'config_deleted', 'config_activated', 'connection_tested')),
  CONSTRAINT audit_logs_entity_type_valid CHECK (entity_type IN ('sync', 'configuration')),
  CONSTRAINT audit_logs_entity_id_length CHECK (entity_id IS NULL OR char_length(entity_id) BETWEEN 1 AND 255),
  CONSTRAINT audit_logs_user_id_length CHECK (user_id IS NULL OR char_length(user_id) BETWEEN 1 AND 255),
  CONSTRAINT audit_logs_source_ip_length CHECK (source_ip IS NULL OR char_length(source_ip) <= 64),
  CONSTRAINT audit_logs_user_agent_length CHECK (user_agent IS NULL OR char_length(user_agent) <= 1024)
);

CREATE INDEX audit_logs_created_at_idx ON audit_logs (created_at DESC, id DESC);
CREATE INDEX audit_logs_action_type_created_at_idx ON audit_logs (action_type, created_at DESC);
CREATE INDEX audit_logs_entity_idx ON audit_logs (entity_type, entity_id, created_at DESC);

-- Append-only for every role, the schema owner included: a trigger, not a GRANT.
CREATE FUNCTION audit_logs_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();
