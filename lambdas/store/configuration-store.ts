import * as z from 'zod';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { Queryable, Row } from '#store/database.ts';

/** A stored Azure DevOps connection; the PAT itself stays in the secret store (`secretRef`). */
export interface ConfigurationRecord {
  id: string;
  name: string;
  organization: string;
  secretRef: string;
  isActive: boolean;
  isTested: boolean;
  testPassed: boolean;
  testError?: string;
  createdAt: string;
  updatedAt: string;
}

export const NewConfiguration = z.object({
  id: z.string().min(1).max(255),
  name: z.string().trim().min(1).max(255),
  organization: z.string().trim().min(1).max(1000),
  secretRef: z.string().min(1).max(2048),
  isActive: z.boolean().default(false),
  isTested: z.boolean().default(false),
  testPassed: z.boolean().default(false),
  testError: z.string().max(10_000).optional(),
});
export type NewConfiguration = z.input<typeof NewConfiguration>;

function toRecord(row: Row): ConfigurationRecord {
  const record: ConfigurationRecord = {
    id: row.id as string,
    name: row.name as string,
    organization: row.organization as string,
    secretRef: row.secret_ref as string,
    isActive: row.is_active as boolean,
    isTested: row.is_tested as boolean,
    testPassed: row.test_passed as boolean,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
  if (typeof row.test_error === 'string') record.testError = row.test_error;
  return record;
}

export async function insertConfiguration(
  db: Queryable,
  input: NewConfiguration,
): Promise<ConfigurationRecord> {
  const parsed = NewConfiguration.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`Invalid configuration: ${issue?.path.join('.')} ${issue?.message}`);
  }
  const c = parsed.data;
  const { rows } = await db.query(
    `INSERT INTO azure_devops_configurations
       (id, name, organization, secret_ref, is_active, is_tested, test_passed, test_error)
     VALUES (:id, :name, :organization, :secretRef, :isActive, :isTested, :testPassed, :testError)
     RETURNING *`,
    { ...c, testError: c.testError ?? null },
  );
  return toRecord(rows[0] ?? {});
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

export interface ConfigurationChanges {
  name?: string;
  organization?: string;
  secretRef?: string;
  isTested?: boolean;
  testPassed?: boolean;
  testError?: string | null;
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
  return toRecord(rows[0] ?? {});
}

export async function deleteConfiguration(db: Queryable, id: string): Promise<ConfigurationRecord> {
  const { rows } = await db.query('DELETE FROM azure_devops_configurations WHERE id = :id RETURNING *', {
    id,
  });
  if (!rows[0]) throw new NotFoundError(`Configuration ${id} not found`);
  return toRecord(rows[0]);
}
