-- Azure DevOps connections. The PAT itself lives in a secret store; secret_ref points to it.
CREATE TABLE azure_devops_configurations (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  organization text NOT NULL,
  secret_ref   text NOT NULL,
  is_active    boolean NOT NULL DEFAULT false,
  is_tested    boolean NOT NULL DEFAULT false,
  test_passed  boolean NOT NULL DEFAULT false,
  test_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT azure_devops_configurations_id_length CHECK (char_length(id) BETWEEN 1 AND 255),
  CONSTRAINT azure_devops_configurations_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
  CONSTRAINT azure_devops_configurations_organization_length
    CHECK (char_length(organization) BETWEEN 1 AND 1000),
  CONSTRAINT azure_devops_configurations_secret_ref_length CHECK (char_length(secret_ref) BETWEEN 1 AND 2048),
  CONSTRAINT azure_devops_configurations_passed_means_tested CHECK (NOT test_passed OR is_tested)
);

-- At most one active configuration (CONTRACT.md §6).
CREATE UNIQUE INDEX azure_devops_configurations_one_active ON azure_devops_configurations (is_active)
  WHERE is_active;

CREATE TRIGGER azure_devops_configurations_set_updated_at BEFORE UPDATE ON azure_devops_configurations
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
