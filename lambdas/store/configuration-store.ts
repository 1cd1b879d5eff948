import type {
  AdoTarget,
  ArdoqTarget,
  ConfigurationChanges,
  ConfigurationRecord,
  NewConfiguration,
} from '#core/domain/configuration.ts';
import { ConfigurationTable, SqlConfigurationStore } from './configuration-table.ts';
import type { Database, Queryable } from './database.ts';

/** `azure_devops_configurations`: the PAT goes to `organization`. */
export const ADO_CONFIGURATIONS = new ConfigurationTable<AdoTarget>({
  table: 'azure_devops_configurations',
  label: 'Configuration',
  target: { organization: { column: 'organization', nullable: false } },
});

/** `ardoq_configurations`: the API token goes to `api_host`, with `X-org: org_label` when set. */
export const ARDOQ_CONFIGURATIONS = new ConfigurationTable<ArdoqTarget>({
  table: 'ardoq_configurations',
  label: 'Ardoq configuration',
  target: {
    apiHost: { column: 'api_host', nullable: false },
    orgLabel: { column: 'org_label', nullable: true },
  },
});

/** The Azure DevOps configurations (`ConfigurationStore`). */
export const adoConfigurationStore = (db: Database) => new SqlConfigurationStore(db, ADO_CONFIGURATIONS);
/** The Ardoq configurations (`ConfigurationStore<ArdoqTarget>`). */
export const ardoqConfigurationStore = (db: Database) => new SqlConfigurationStore(db, ARDOQ_CONFIGURATIONS);

// The Azure DevOps table's statements one by one (tests and the local runtime's checks).
export const insertConfiguration = (db: Queryable, c: NewConfiguration): Promise<ConfigurationRecord> =>
  ADO_CONFIGURATIONS.insert(db, c);
export const getConfiguration = (db: Queryable, id: string): Promise<ConfigurationRecord> =>
  ADO_CONFIGURATIONS.get(db, id);
export const getActiveConfiguration = (db: Queryable): Promise<ConfigurationRecord | null> =>
  ADO_CONFIGURATIONS.active(db);
export const listConfigurations = (db: Queryable): Promise<ConfigurationRecord[]> =>
  ADO_CONFIGURATIONS.list(db);
export const updateConfiguration = (
  db: Queryable,
  id: string,
  changes: ConfigurationChanges,
): Promise<ConfigurationRecord> => ADO_CONFIGURATIONS.update(db, id, changes);
export const activateConfiguration = (db: Queryable, id: string): Promise<ConfigurationRecord> =>
  ADO_CONFIGURATIONS.activate(db, id);
export const deleteConfiguration = (db: Queryable, id: string): Promise<ConfigurationRecord> =>
  ADO_CONFIGURATIONS.remove(db, id);
