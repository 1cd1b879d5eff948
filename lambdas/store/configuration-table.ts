import * as z from 'zod';
import type { NewAuditLog } from '#core/domain/audit.ts';
import type {
  ConfigurationChanges,
  ConfigurationRecord,
  NewConfiguration,
} from '#core/domain/configuration.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import { writeAudited } from './audit-log-store.ts';
import { type Database, DatabaseError, type Queryable, type Row } from './database.ts';
import { col, parseRow } from './rows.ts';

/** One text column of a configuration table that says where the credential goes. */
interface TargetColumn {
  column: string;
  /** NULL allowed (the record's property is then absent). */
  nullable: boolean;
}

/**
 * A table of stored connections: the columns every such table has (id, name, secret_ref, is_active,
 * the test result, timestamps) plus the target columns of its system, one list from which every
 * statement is generated.
 */
export interface ConfigurationTableSpec<T extends object> {
  table: string;
  /** Names the thing in errors, e.g. `Configuration`, `Ardoq configuration`. */
  label: string;
  target: { [K in keyof T & string]-?: TargetColumn };
}

const BASE = {
  id: col.text,
  name: col.text,
  secret_ref: col.text,
  is_active: col.bool,
  is_tested: col.bool,
  test_passed: col.bool,
  test_error: col.nullableText,
  created_at: col.time,
  updated_at: col.time,
};

/** The statements and the row schema of one configuration table, built once from its spec. */
export class ConfigurationTable<T extends object> {
  private readonly row: z.ZodObject;
  private readonly targets: Array<[keyof T & string, TargetColumn]>;
  private readonly sql: { insert: string; update: string };

  constructor(readonly spec: ConfigurationTableSpec<T>) {
    this.targets = Object.entries(spec.target) as Array<[keyof T & string, TargetColumn]>;
    this.row = z.object({
      ...BASE,
      ...Object.fromEntries(
        this.targets.map(([, c]) => [c.column, c.nullable ? col.nullableText : col.text]),
      ),
    });
    const columns = this.targets.map(([, c]) => c.column);
    this.sql = {
      insert: `INSERT INTO ${spec.table}
       (id, name, secret_ref, is_active, is_tested, test_passed, test_error, ${columns.join(', ')})
     VALUES (:id, :name, :secretRef, :isActive, :isTested, :testPassed, :testError, ${this.targets
       .map(([key]) => `CAST(:${key} AS text)`)
       .join(', ')})
     RETURNING *`,
      // Each column keeps its value unless the change names it (`set_<key>`): null then clears it.
      update: `UPDATE ${spec.table} SET
       name = coalesce(CAST(:name AS text), name),
       secret_ref = coalesce(CAST(:secretRef AS text), secret_ref),
       is_tested = coalesce(CAST(:isTested AS boolean), is_tested),
       test_passed = coalesce(CAST(:testPassed AS boolean), test_passed),
       test_error = CASE WHEN CAST(:set_testError AS boolean) THEN CAST(:testError AS text) ELSE test_error END,
       ${this.targets
         .map(
           ([key, c]) =>
             `${c.column} = CASE WHEN CAST(:set_${key} AS boolean) THEN CAST(:${key} AS text) ELSE ${c.column} END`,
         )
         .join(',\n       ')}
     WHERE id = :id RETURNING *`,
    };
  }

  private toRecord(input: Row | undefined): ConfigurationRecord<T> {
    const row = parseRow(this.row, input, this.spec.table) as Record<string, unknown> &
      z.output<z.ZodObject<typeof BASE>>;
    const target: Record<string, string> = {};
    for (const [key, c] of this.targets) {
      const value = row[c.column];
      if (typeof value === 'string') target[key] = value;
    }
    return {
      id: row.id,
      name: row.name,
      secretRef: row.secret_ref,
      isActive: row.is_active,
      isTested: row.is_tested,
      testPassed: row.test_passed,
      ...(row.test_error !== null ? { testError: row.test_error } : {}),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      ...target,
    } as ConfigurationRecord<T>;
  }

  private notFound(id: string): NotFoundError {
    return new NotFoundError(`${this.spec.label} ${id} not found`);
  }

  async insert(db: Queryable, c: NewConfiguration<T>): Promise<ConfigurationRecord<T>> {
    const values = c as Record<string, unknown>;
    try {
      const { rows } = await db.query(this.sql.insert, {
        id: c.id,
        name: c.name,
        secretRef: c.secretRef,
        isActive: c.isActive ?? false,
        isTested: c.isTested ?? false,
        testPassed: c.testPassed ?? false,
        testError: c.testError ?? null,
        ...Object.fromEntries(
          this.targets.map(([key]) => [key, (values[key] as string | undefined) ?? null]),
        ),
      });
      return this.toRecord(rows[0]);
    } catch (error) {
      throw nameTaken(error, c.name);
    }
  }

  async get(db: Queryable, id: string): Promise<ConfigurationRecord<T>> {
    const { rows } = await db.query(`SELECT * FROM ${this.spec.table} WHERE id = :id`, { id });
    if (!rows[0]) throw this.notFound(id);
    return this.toRecord(rows[0]);
  }

  /** The active configuration, or null when none is active. */
  async active(db: Queryable): Promise<ConfigurationRecord<T> | null> {
    const { rows } = await db.query(`SELECT * FROM ${this.spec.table} WHERE is_active`);
    return rows[0] ? this.toRecord(rows[0]) : null;
  }

  async list(db: Queryable): Promise<ConfigurationRecord<T>[]> {
    const { rows } = await db.query(`SELECT * FROM ${this.spec.table} ORDER BY created_at DESC, id`);
    return rows.map((row) => this.toRecord(row));
  }

  /** Updates the given columns; unknown id → NotFoundError. */
  async update(db: Queryable, id: string, changes: ConfigurationChanges<T>): Promise<ConfigurationRecord<T>> {
    const values = changes as Record<string, unknown>;
    try {
      const { rows } = await db.query(this.sql.update, {
        id,
        name: changes.name ?? null,
        secretRef: changes.secretRef ?? null,
        isTested: changes.isTested ?? null,
        testPassed: changes.testPassed ?? null,
        set_testError: changes.testError !== undefined,
        testError: changes.testError ?? null,
        ...Object.fromEntries(
          this.targets.flatMap(([key]) => [
            [`set_${key}`, values[key] !== undefined],
            [key, (values[key] as string | null | undefined) ?? null],
          ]),
        ),
      });
      if (!rows[0]) throw this.notFound(id);
      return this.toRecord(rows[0]);
    } catch (error) {
      throw nameTaken(error, changes.name);
    }
  }

  /**
   * Makes one configuration the only active one. Run it inside a transaction: the partial unique
   * index (at most one active) is checked row by row, so the others are switched off first.
   */
  async activate(db: Queryable, id: string): Promise<ConfigurationRecord<T>> {
    await this.get(db, id);
    await db.query(`UPDATE ${this.spec.table} SET is_active = false WHERE is_active AND id <> :id`, { id });
    const { rows } = await db.query(
      `UPDATE ${this.spec.table} SET is_active = true WHERE id = :id RETURNING *`,
      {
        id,
      },
    );
    return this.toRecord(rows[0]);
  }

  async deactivate(db: Queryable, id: string): Promise<ConfigurationRecord<T>> {
    const { rows } = await db.query(
      `UPDATE ${this.spec.table} SET is_active = false WHERE id = :id RETURNING *`,
      {
        id,
      },
    );
    if (!rows[0]) throw this.notFound(id);
    return this.toRecord(rows[0]);
  }

  async remove(db: Queryable, id: string): Promise<ConfigurationRecord<T>> {
    const { rows } = await db.query(`DELETE FROM ${this.spec.table} WHERE id = :id RETURNING *`, { id });
    if (!rows[0]) throw this.notFound(id);
    return this.toRecord(rows[0]);
  }
}

/** A unique-name violation as a 409 naming the name; any other error as it is. */
function nameTaken(error: unknown, name: string | undefined): unknown {
  if (
    error instanceof DatabaseError &&
    error.sqlState === '23505' &&
    /name/.test(error.constraint ?? error.message)
  ) {
    return new ConflictError(`A configuration named "${name}" already exists`);
  }
  return error;
}

/** `ConfigurationStore` over one configuration table: each write and its audit entries in one transaction. */
export class SqlConfigurationStore<T extends object> implements ConfigurationStore<T> {
  constructor(
    private readonly db: Database,
    private readonly table: ConfigurationTable<T>,
  ) {}

  list(): Promise<ConfigurationRecord<T>[]> {
    return this.table.list(this.db);
  }

  get(id: string): Promise<ConfigurationRecord<T>> {
    return this.table.get(this.db, id);
  }

  active(): Promise<ConfigurationRecord<T> | null> {
    return this.table.active(this.db);
  }

  create(
    configuration: NewConfiguration<T>,
    options: { activate: boolean; audit: readonly NewAuditLog[] },
  ): Promise<ConfigurationRecord<T>> {
    return this.write(options.audit, async (tx) => {
      const record = await this.table.insert(tx, configuration);
      return options.activate ? this.table.activate(tx, record.id) : record;
    });
  }

  update(
    id: string,
    changes: ConfigurationChanges<T>,
    audit: readonly NewAuditLog[],
  ): Promise<ConfigurationRecord<T>> {
    return this.write(audit, (tx) => this.table.update(tx, id, changes));
  }

  activate(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord<T>> {
    return this.write(audit, (tx) => this.table.activate(tx, id));
  }

  deactivate(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord<T>> {
    return this.write(audit, (tx) => this.table.deactivate(tx, id));
  }

  remove(id: string, audit: readonly NewAuditLog[]): Promise<ConfigurationRecord<T>> {
    return this.write(audit, (tx) => this.table.remove(tx, id));
  }

  private write<R>(audit: readonly NewAuditLog[], change: (tx: Queryable) => Promise<R>): Promise<R> {
    return writeAudited(this.db, audit, change);
  }
}
