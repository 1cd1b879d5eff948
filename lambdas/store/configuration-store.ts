import * as z from 'zod';
import type { NewAuditLog } from '#core/domain/audit.ts';
import type {
  ConfigurationChanges,
  ConfigurationRecord,
  NewConfiguration,
} from '#core/domain/configuration.ts';
import { NotFoundError } from '#core/errors.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import { appendAuditLog } from './audit-log-store.ts';
import type { Database, Queryable, Row } from './database.ts';
import { col, parseRow } from './rows.ts';

/** An `azure_devops_configurations` row. */
const ConfigurationRow = z.object({
  id: col.text,
  name: col.text,
  organization: col.text,
  secret_ref: col.text,
  is_active: col.bool,
  is_tested: col.bool,
  test_passed: col.bool,
  test_error: col.nullableText,
  created_at: col.time,
  updated_at: col.time,
});

function toRecord(input: Row | undefined): ConfigurationRecord {
  const row = parseRow(ConfigurationRow, input, 'azure_devops_configurations');
  return {
    id: row.id,
    name: row.name,
    organization: row.organization,
    secretRef: row.secret_ref,
    isActive: row.is_active,
    isTested: row.is_tested,
    testPassed: row.test_passed,
    ...(row.test_error !== null ? { testError: row.test_error } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function insertConfiguration(db: Queryable, c: NewConfiguration): Promise<ConfigurationRecord> {
  const { rows } = await db.query(
    `INSERT INTO azure_devops_configurations
       (id, name, organization, secret_ref, is_active, is_tested, test_passed, test_error)
     VALUES (:id, :name, :organization, :secretRef, :isActive, :isTested, :testPassed, :testError)
     RETURNING *`,
    {
      id: c.id,
      name: c.name,
      organization: c.organization,
      secretRef: c.secretRef,
      isActive: c.isActive ?? false,
      isTested: c.isTested ?? false,
      testPassed: c.testPassed ?? false,
      testError: c.testError ?? null,
    },
  );
  return toRecord(rows[0]);
}

export async function getConfiguration(db: Queryable, id: string): Promise<ConfigurationRecord> {
  const { rows } = await db.query('SELECT * FROM azure_devops_configurations WHERE id = :id', { id });
  if (!rows[0]) throw new NotFoundError(`Configuration ${id} not found`);
  return toRecord(rows[0]);
}

/** The active configuration, or null when none is active. */
export async function getActiveConfiguration(db: Queryable): Promise<ConfigurationRecord | null> {
  const { rows } = await db.query('SELECT * FROM azure_devops_configurations WHERE is_active');
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listConfigurations(db: Queryable): Promise<ConfigurationRecord[]> {
  const { rows } = await db.query('SELECT * FROM azure_devops_configurations ORDER BY created_at DESC, id');
  return rows.map(toRecord);
}

/** Updates the given columns; unknown id → NotFoundError. */
export async function updateConfiguration(
  db: Queryable,
  id: string,
  changes: ConfigurationChanges,
): Promise<ConfigurationRecord> {
  const { rows } = await db.query(
    `UPDATE azure_devops_configurations SET
       name = coalesce(CAST(:name AS text), name),
       organization = coalesce(CAST(:organization AS text), organization),
       secret_ref = coalesce(CAST(:secretRef AS text), secret_ref),
       is_tested = coalesce(CAST(:isTested AS boolean), is_tested),
       test_passed = coalesce(CAST(:testPassed AS boolean), test_passed),
       test_error = CASE WHEN CAST(:setTestError AS boolean) THEN CAST(:testError AS text) ELSE test_error END
     WHERE id = :id RETURNING *`,
    {
      id,
      name: changes.name ?? null,
      organization: changes.organization ?? null,
      secretRef: changes.secretRef ?? null,
      isTested: changes.isTested ?? null,
      testPassed: changes.testPassed ?? null,
      setTestError: changes.testError !== undefined,
      testError: changes.testError ?? null,
    },
  );
  if (!rows[0]) throw new NotFoundError(`Configuration ${id} not found`);
  return toRecord(rows[0]);
}

/**
 * Makes one configuration the only active one. Run it inside a transaction: the partial unique
 * index (at most one active) is checked row by row, so the others are switched off first.
 */
export async function activateConfiguration(db: Queryable, id: string): Promise<ConfigurationRecord> {
  await getConfiguration(db, id);
  await db.query('UPDATE azure_devops_configurations SET is_active = false WHERE is_active AND id <> :id', {
    id,
  });
  const { rows } = await db.query(
    'UPDATE azure_devops_configurations SET is_active = true WHERE id = :id RETURNING *',
    {
      id,
    },
  );
  return toRecord(rows[0]);
}

export async function deleteConfiguration(db: Queryable, id: string): Promise<ConfigurationRecord> {
  const { rows } = await db.query('DELETE FROM azure_devops_configurations WHERE id = :id RETURNING *', {
    id,
  });
  if (!rows[0]) throw new NotFoundError(`Configuration ${id} not found`);
  return toRecord(rows[0]);
}

/** `ConfigurationStore` over SQL: each write and its audit entries in one transaction. */
export class SqlConfigurationStore implements ConfigurationStore {
  constructor(private readonly db: Database) {}

  list(): Promise<ConfigurationRecord[]> {
    return listConfigurations(this.db);
  }

  get(id: string): Promise<ConfigurationRecord> {
    return getConfiguration(this.db, id);
  }

  active(): Promise<ConfigurationRecord | null> {
    return getActiveConfiguration(this.db);
  }

  create(
    configuration: NewConfiguration,
    options: { activate: boolean; audit: readonly NewAuditLog[] },
  ): Promise<ConfigurationRecord> {
    return this.db.transaction(async (tx) => {
      let record = await insertConfiguration(tx, configuration);
      if (options.activate) record = await activateConfiguration(tx, record.id);
      await audit(tx, options.audit);
      return record;
    });
  }

  update(
    id: string,
    changes: ConfigurationChanges,
    entries: readonly NewAuditLog[],
  ): Promise<ConfigurationRecord> {
    return this.db.transaction(async (tx) => {
      const record = await updateConfiguration(tx, id, changes);
      await audit(tx, entries);
      return record;
    });
  }

  activate(id: string, entries: readonly NewAuditLog[]): Promise<ConfigurationRecord> {
    return this.db.transaction(async (tx) => {
      const record = await activateConfiguration(tx, id);
      await audit(tx, entries);
      return record;
    });
  }

  remove(id: string, entries: readonly NewAuditLog[]): Promise<ConfigurationRecord> {
    return this.db.transaction(async (tx) => {
      const record = await deleteConfiguration(tx, id);
      await audit(tx, entries);
      return record;
    });
  }
}

async function audit(tx: Queryable, entries: readonly NewAuditLog[]): Promise<void> {
  for (const entry of entries) await appendAuditLog(tx, entry);
}
