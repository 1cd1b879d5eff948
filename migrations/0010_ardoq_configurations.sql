-- Ardoq connections (WORKFLOW.md §3). The API token lives in the secret store; secret_ref points to it.
-- Same shape and rules as azure_devops_configurations: at most one active, passed means tested.
CREATE TABLE ardoq_configurations (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  api_host    text NOT NULL,
  org_label   text,
  secret_ref  text NOT NULL,
  is_active   boolean NOT NULL DEFAULT false,
  is_tested   boolean NOT NULL DEFAULT false,
  test_passed boolean NOT NULL DEFAULT false,
  test_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ardoq_configurations_id_length CHECK (char_length(id) BETWEEN 1 AND 255),
  CONSTRAINT ardoq_configurations_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
  CONSTRAINT ardoq_configurations_api_host_length CHECK (char_length(api_host) BETWEEN 1 AND 1000),
  CONSTRAINT ardoq_configurations_org_label_length CHECK (org_label IS NULL OR char_length(org_label) BETWEEN 1 AND 255),
  CONSTRAINT ardoq_configurations_secret_ref_length CHECK (char_length(secret_ref) BETWEEN 1 AND 2048),
  CONSTRAINT ardoq_configurations_passed_means_tested CHECK (NOT test_passed OR is_tested)
);

CREATE UNIQUE INDEX ardoq_configurations_one_active ON ardoq_configurations (is_active) WHERE is_active;
-- Names are unique whatever their case (a duplicate is a 409, not two rows the user cannot tell apart).
CREATE UNIQUE INDEX ardoq_configurations_name_unique ON ardoq_configurations (lower(name));

CREATE TRIGGER ardoq_configurations_set_updated_at BEFORE UPDATE ON ardoq_configurations
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The runtime role (0009): configurations are created, edited, activated and deleted through the API.
GRANT SELECT, INSERT, UPDATE, DELETE ON ardoq_configurations TO ardoq_sync_app;
