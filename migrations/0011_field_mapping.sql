-- Field mapping (WORKFLOW.md §6): read-only templates, one per process, and the mapping configurations
-- users save per Azure DevOps project. A configuration's rows are one jsonb array, written whole, so
-- an update can never leave half of them (old defect 26).

CREATE TABLE field_mapping_templates (
  id                       text PRIMARY KEY,
  process_template_name    text NOT NULL UNIQUE,
  process_template_type_id text NOT NULL,
  name                     text NOT NULL,
  description              text,
  mappings                 jsonb NOT NULL,
  is_system_default        boolean NOT NULL DEFAULT true,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT field_mapping_templates_process CHECK (process_template_name IN ('Agile', 'Scrum', 'CMMI', 'Basic')),
  CONSTRAINT field_mapping_templates_mappings_array CHECK (jsonb_typeof(mappings) = 'array')
);

-- The corrected seed (§6.2): no ChangedBy/ChangedDate rows (Azure DevOps sets them), risk into the stock
-- Microsoft.VSTS.Common.Risk through the risk transform (not Custom.Risk), no Category row, Basic with
-- its own process type id, and the component key merged into the tags.
INSERT INTO field_mapping_templates (id, process_template_name, process_template_type_id, name, description, mappings)
VALUES
  ('template-agile-default', 'Agile', 'adcc42ab-9882-485e-a3ed-7678f01f66bc', 'Agile default mapping', 'Epic, Feature and User Story: description, priority, tags (Ardoq tags and component key), acceptance criteria and risk on user stories',
   '[{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"epic"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"epic"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"feature"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"feature"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"user_story"},{"ardoqField":"acceptanceCriteria","azureDevOpsField":"Microsoft.VSTS.Common.AcceptanceCriteria","workItemType":"user_story"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"user_story"},{"ardoqField":"risk","azureDevOpsField":"Microsoft.VSTS.Common.Risk","workItemType":"user_story","transform":"risk"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"user_story"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"user_story"}]'::jsonb),
  ('template-scrum-default', 'Scrum', '6b724908-ef14-45cf-84f8-768b5384da45', 'Scrum default mapping', 'Epic, Feature and Product Backlog Item: description, priority, tags (Ardoq tags and component key), acceptance criteria on backlog items',
   '[{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"epic"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"epic"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"feature"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"feature"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"user_story"},{"ardoqField":"acceptanceCriteria","azureDevOpsField":"Microsoft.VSTS.Common.AcceptanceCriteria","workItemType":"user_story"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"user_story"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"user_story"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"user_story"}]'::jsonb),
  ('template-cmmi-default', 'CMMI', '27450541-8e31-4150-9947-dc59f998fc01', 'CMMI default mapping', 'Epic, Feature and Requirement: description, priority, tags (Ardoq tags and component key), acceptance criteria and risk on requirements',
   '[{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"epic"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"epic"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"feature"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"feature"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"user_story"},{"ardoqField":"acceptanceCriteria","azureDevOpsField":"Microsoft.VSTS.Common.AcceptanceCriteria","workItemType":"user_story"},{"ardoqField":"priority","azureDevOpsField":"Microsoft.VSTS.Common.Priority","workItemType":"user_story"},{"ardoqField":"risk","azureDevOpsField":"Microsoft.VSTS.Common.Risk","workItemType":"user_story","transform":"risk"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"user_story"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"user_story"}]'::jsonb),
  ('template-basic-default', 'Basic', 'b8a3a935-7e91-48b8-a94c-606d37c3e9f2', 'Basic default mapping', 'Epic, Issue and Task: description and tags (Ardoq tags and component key)',
   '[{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"epic"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"epic"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"feature"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"feature"},{"ardoqField":"description","azureDevOpsField":"System.Description","workItemType":"user_story"},{"ardoqField":"tags","azureDevOpsField":"System.Tags","workItemType":"user_story"},{"ardoqField":"componentKey","azureDevOpsField":"System.Tags","workItemType":"user_story"}]'::jsonb);

CREATE TABLE field_mapping_configs (
  id                    text PRIMARY KEY,
  name                  text NOT NULL,
  description           text,
  -- The project as resolved through Azure DevOps: its GUID and its name (§6.3). When Azure DevOps could
  -- not be asked at save time, project_id is what the client sent and project_name is NULL.
  project_id            text NOT NULL,
  project_name          text,
  -- The project as the client named it on create (GUID or name): answers carry it back (§6.3).
  project_ref           text NOT NULL,
  process_template_name text,
  mappings              jsonb NOT NULL,
  is_default            boolean NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT field_mapping_configs_id_length CHECK (char_length(id) BETWEEN 1 AND 255),
  CONSTRAINT field_mapping_configs_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
  CONSTRAINT field_mapping_configs_description_length CHECK (description IS NULL OR char_length(description) <= 2000),
  CONSTRAINT field_mapping_configs_project_id_length CHECK (char_length(project_id) BETWEEN 1 AND 255),
  CONSTRAINT field_mapping_configs_project_name_length CHECK (project_name IS NULL OR char_length(project_name) BETWEEN 1 AND 255),
  CONSTRAINT field_mapping_configs_project_ref_length CHECK (char_length(project_ref) BETWEEN 1 AND 255),
  CONSTRAINT field_mapping_configs_mappings_array CHECK (
    jsonb_typeof(mappings) = 'array' AND jsonb_array_length(mappings) <= 300)
);

-- A name once per project, whatever its case; at most one default per project, in the database (not
-- two separate updates, old defect 26).
CREATE UNIQUE INDEX field_mapping_configs_name_unique ON field_mapping_configs (lower(project_id), lower(name));
CREATE UNIQUE INDEX field_mapping_configs_one_default ON field_mapping_configs (lower(project_id)) WHERE is_default;
CREATE INDEX field_mapping_configs_project_name_idx ON field_mapping_configs (lower(project_name));

CREATE TRIGGER field_mapping_templates_set_updated_at BEFORE UPDATE ON field_mapping_templates
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER field_mapping_configs_set_updated_at BEFORE UPDATE ON field_mapping_configs
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The mapping a sync applies, frozen when it is accepted (§6.5): later edits or deletes of the
-- configuration change nothing of a past or running sync. The whole rows in their own table (read once
-- per sync by a processor, never by the history pages); on the sync, what the history shows of it.
CREATE TABLE sync_field_mappings (
  sync_history_id uuid PRIMARY KEY REFERENCES sync_history (id),
  snapshot        jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE sync_history ADD COLUMN field_mapping jsonb;
-- The project's GUID, once the prepare step asked Azure DevOps (§6.3: a GUID finds the sync too).
ALTER TABLE sync_history ADD COLUMN project_id text;
CREATE INDEX sync_history_project_id_idx ON sync_history (project_id) WHERE project_id IS NOT NULL;

-- The runtime role (0009): templates are read only; configurations are managed through the API; a
-- snapshot is written once (with its sync, or by the prepare step for the project's template) and read.
GRANT SELECT ON field_mapping_templates TO ardoq_sync_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON field_mapping_configs TO ardoq_sync_app;
GRANT SELECT, INSERT ON sync_field_mappings TO ardoq_sync_app;
