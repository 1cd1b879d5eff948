-- Shared helpers used by the tables of later migrations.

-- ISO-8601 UTC text with milliseconds, the timestamp format of every event payload (CONTRACT.md §1).
CREATE FUNCTION iso_utc(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Keeps updated_at true without trusting every UPDATE statement to set it.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

-- Substring search on project names ("%x%") needs a trigram index to stay fast at scale.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
