import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import type { AuditActionType, NewAuditLog } from '#core/domain/audit.ts';
import {
  FieldMappingRow,
  MAX_MAPPINGS,
  type NewFieldMappingConfig,
  type Transform,
  type WorkItemLevel,
} from '#core/domain/field-mapping.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import { type Database, DatabaseError, type Row } from '#store/database.ts';
import { SqlFieldMappingStore } from '#store/field-mapping-store.ts';
import { runMigrations } from '#store/migrations.ts';
import { uniqueProject } from './factories.ts';

export interface FieldMappingStoreTarget {
  db: Database;
  teardown: () => Promise<void>;
}

export interface FieldMappingStoreContractOptions {
  /**
   * The adapter runs transactions on several connections at once (node-postgres' pool): the suite
   * then races writes against each other. PGlite is one session, so it has nothing to race.
   */
  concurrentWrites?: boolean;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const GUIDS = {
  Agile: 'adcc42ab-9882-485e-a3ed-7678f01f66bc',
  Scrum: '6b724908-ef14-45cf-84f8-768b5384da45',
  CMMI: '27450541-8e31-4150-9947-dc59f998fc01',
  Basic: 'b8a3a935-7e91-48b8-a94c-606d37c3e9f2',
} as const;
const RISK_ROW = {
  ardoqField: 'risk',
  azureDevOpsField: 'Microsoft.VSTS.Common.Risk',
  workItemType: 'user_story',
  transform: 'risk',
};
/** How many rounds a race runs, so an unlucky interleaving is likely to happen at least once. */
const ROUNDS = 10;

const mapping = (
  ardoqField: string,
  azureDevOpsField: string,
  workItemType: WorkItemLevel,
  transform?: Transform,
): FieldMappingRow => ({ ardoqField, azureDevOpsField, workItemType, ...(transform ? { transform } : {}) });

/** Rows in an order no sort would produce, one with a transform and two without. */
const SAMPLE_ROWS: FieldMappingRow[] = [
  mapping('priority', 'Microsoft.VSTS.Common.Priority', 'user_story', 'priority'),
  mapping('description', 'System.Description', 'epic'),
  mapping('tags', 'System.Tags', 'feature'),
];

interface Project {
  projectId: string;
  /** Absent when Azure DevOps could not resolve the project at save time. */
  projectName?: string;
  projectRef: string;
}

/** A project as Azure DevOps resolved it: a GUID, a unique name, created by its name. */
function newProject(): Required<Project> {
  const name = uniqueProject('Mapping');
  return { projectId: randomUUID(), projectName: name, projectRef: name };
}

function newConfig(project: Project, overrides: Partial<NewFieldMappingConfig> = {}): NewFieldMappingConfig {
  const id = `fmc-${randomUUID()}`;
  return {
    id,
    name: `Mapping ${id.slice(4, 12)}`,
    ...project,
    mappings: SAMPLE_ROWS,
    isDefault: false,
    ...overrides,
  };
}

const audit = (
  entityId: string,
  actionType: AuditActionType = 'config_created',
  details: Record<string, unknown> = {},
): NewAuditLog => ({
  actionType,
  entityType: 'configuration',
  entityId,
  userId: 'user-fm',
  sourceIp: '10.0.0.7',
  userAgent: 'vitest',
  details: { system: 'field-mapping', ...details },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) expect.fail(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/**
 * The `FieldMappingStore` contract over SQL: the same expectations for every `Database` adapter, each
 * read back from the tables themselves, not only from what the store answers.
 */
export function describeFieldMappingStoreContract(
  adapter: string,
  connect: () => Promise<FieldMappingStoreTarget>,
  options: FieldMappingStoreContractOptions = {},
): void {
  describe(`SqlFieldMappingStore on ${adapter}`, () => {
    let target: FieldMappingStoreTarget;
    let db: Database;
    let store: SqlFieldMappingStore;

    beforeAll(async () => {
      target = await connect();
      db = target.db;
      await runMigrations(db, await readMigrations());
      store = new SqlFieldMappingStore(db);
    });
    afterAll(async () => target?.teardown());

    const rawConfig = async (id: string): Promise<Row | undefined> =>
      (await db.query('SELECT * FROM field_mapping_configs WHERE id = :id', { id })).rows[0];

    /** The project's rows as stored (any case of its GUID), oldest first. */
    const rawProject = async (projectId: string) =>
      (
        await db.query<{ id: string; name: string; is_default: boolean }>(
          `SELECT id, name, is_default FROM field_mapping_configs WHERE lower(project_id) = lower(:projectId)
           ORDER BY created_at, id`,
          { projectId },
        )
      ).rows;

    const defaultsOf = async (projectId: string) =>
      (await rawProject(projectId)).filter((r) => r.is_default).map((r) => r.id);

    const auditRows = async (entityId: string) =>
      (
        await db.query(
          `SELECT action_type, entity_type, entity_id, user_id, source_ip, user_agent, details FROM audit_logs
           WHERE entity_type = 'configuration' AND entity_id = :entityId ORDER BY action_type, details::text`,
          { entityId },
        )
      ).rows;

    const create = (project: Project, overrides: Partial<NewFieldMappingConfig> = {}) => {
      const config = newConfig(project, overrides);
      return store.createConfig(config, [audit(config.id)]);
    };

    describe('templates', () => {
      it('are the four seeded processes, by process name, each with its process type id', async () => {
        const templates = await store.templates();
        expect(templates.map((t) => [t.processTemplateName, t.processTemplateTypeId])).toEqual([
          ['Agile', GUIDS.Agile],
          ['Basic', GUIDS.Basic],
          ['CMMI', GUIDS.CMMI],
          ['Scrum', GUIDS.Scrum],
        ]);
        for (const t of templates) {
          expect(t.id).toBe(`template-${t.processTemplateName.toLowerCase()}-default`);
          expect(t.name).toBe(`${t.processTemplateName} default mapping`);
          expect(t.description).toEqual(expect.any(String));
          expect(t.createdAt).toMatch(ISO);
          expect(t.updatedAt).toMatch(ISO);
          expect(t.mappings.length).toBeGreaterThan(0);
          for (const row of t.mappings) expect(FieldMappingRow.strict().parse(row)).toEqual(row);
        }
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM field_mapping_templates',
        );
        expect(rows[0]?.n).toBe(4);
      });

      it('carry the corrected seed: no ChangedBy/ChangedDate, no Custom.Risk, risk through the risk transform', async () => {
        const templates = await store.templates();
        const fields = templates.flatMap((t) => t.mappings.map((m) => m.azureDevOpsField));
        expect(fields).toContain('System.Description');
        for (const forbidden of ['System.ChangedBy', 'System.ChangedDate', 'Custom.Risk']) {
          expect(fields).not.toContain(forbidden);
        }
        const riskRows = Object.fromEntries(
          templates.map((t) => [
            t.processTemplateName,
            t.mappings.filter((m) => m.ardoqField === 'risk' || /Risk/.test(m.azureDevOpsField)),
          ]),
        );
        expect(riskRows).toEqual({ Agile: [RISK_ROW], CMMI: [RISK_ROW], Basic: [], Scrum: [] });
        // The only transformed rows are the risk rows.
        const transformed = templates.flatMap((t) => t.mappings.filter((m) => m.transform !== undefined));
        expect(transformed).toEqual([RISK_ROW, RISK_ROW]);
      });

      it('template() finds a process in any case and answers null for an unknown one', async () => {
        const all = await store.templates();
        const agile = all.find((t) => t.processTemplateName === 'Agile');
        const scrum = all.find((t) => t.processTemplateName === 'Scrum');
        expect(agile).toBeDefined();
        expect(await store.template('agile')).toEqual(agile);
        expect(await store.template('AGILE')).toEqual(agile);
        expect(await store.template('sCrUm')).toEqual(scrum);
        expect((await store.template('cmmi'))?.processTemplateTypeId).toBe(GUIDS.CMMI);
        expect(await store.template('Nope')).toBeNull();
        expect(await store.template('Agile ')).toBeNull();
        expect(await store.template('')).toBeNull();
      });
    });

    describe('createConfig and config', () => {
      it('stores every field and reads the same record back', async () => {
        const project = newProject();
        const input = newConfig(project, {
          description: 'Stories with priorities',
          processTemplateName: 'Agile',
          isDefault: true,
        });
        const before = Date.now();
        const created = await store.createConfig(input, [audit(input.id)]);

        expect(created).toEqual({
          ...input,
          createdAt: expect.stringMatching(ISO),
          updatedAt: created.createdAt,
        });
        expect(Math.abs(Date.parse(created.createdAt) - before)).toBeLessThan(60_000);
        expect(await store.config(input.id)).toEqual(created);

        const raw = await rawConfig(input.id);
        expect(raw).toEqual({
          id: input.id,
          name: input.name,
          description: 'Stories with priorities',
          project_id: project.projectId,
          project_name: project.projectName,
          project_ref: project.projectRef,
          process_template_name: 'Agile',
          mappings: SAMPLE_ROWS,
          is_default: true,
          created_at: new Date(created.createdAt),
          updated_at: new Date(created.updatedAt),
        });
      });

      it('keeps the rows in their order, a transform only where one was given', async () => {
        const rows = [
          mapping('risk', 'Microsoft.VSTS.Common.Risk', 'user_story', 'risk'),
          mapping('acceptanceCriteria', 'Microsoft.VSTS.Common.AcceptanceCriteria', 'user_story'),
          mapping('targetDate', 'Microsoft.VSTS.Scheduling.TargetDate', 'feature', 'date'),
          mapping('description', 'System.Description', 'epic', 'html'),
          mapping('componentKey', 'System.Tags', 'epic'),
        ];
        const created = await create(newProject(), { mappings: rows });
        const read = await store.config(created.id);
        expect(read.mappings).toEqual(rows);
        expect(read.mappings.map((m) => 'transform' in m)).toEqual([true, false, true, true, false]);
        expect((await rawConfig(created.id))?.mappings).toEqual(rows);
      });

      it('leaves out description, projectName and processTemplateName when they are null', async () => {
        const ref = uniqueProject('Unresolved');
        const input: NewFieldMappingConfig = {
          id: `fmc-${randomUUID()}`,
          name: 'Bare',
          projectId: ref,
          projectRef: ref,
          mappings: [],
          isDefault: false,
        };
        const created = await store.createConfig(input, []);
        const read = await store.config(input.id);
        expect(read).toEqual(created);
        expect(Object.keys(read).sort()).toEqual([
          'createdAt',
          'id',
          'isDefault',
          'mappings',
          'name',
          'projectId',
          'projectRef',
          'updatedAt',
        ]);
        expect(read).toMatchObject({ mappings: [], isDefault: false, projectId: ref, projectRef: ref });
        expect(await rawConfig(input.id)).toMatchObject({
          description: null,
          project_name: null,
          process_template_name: null,
          mappings: [],
        });
      });

      it('config() of an unknown id rejects with NotFoundError', async () => {
        const error = await rejectionOf(store.config('fmc-unknown'));
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as Error).message).toContain('fmc-unknown');
      });
    });

    describe('configs(project)', () => {
      it('finds a project by GUID, by name in any case and by what the client sent; default first, then newest', async () => {
        const project = newProject();
        const other = newProject();
        const oldest = await create(project);
        await sleep(5);
        const theDefault = await create(project, { isDefault: true });
        await sleep(5);
        const newest = await create(project);
        await create(other, { isDefault: true });
        const expected = [theDefault, newest, oldest];
        expect(Date.parse(newest.createdAt)).toBeGreaterThan(Date.parse(oldest.createdAt));

        expect(await store.configs(project.projectId)).toEqual(expected);
        expect(await store.configs(project.projectId.toUpperCase())).toEqual(expected);
        expect(await store.configs(project.projectName.toUpperCase())).toEqual(expected);
        expect(await store.configs(project.projectName.toLowerCase())).toEqual(expected);
        expect(await store.configs(`${project.projectName} `)).toEqual([]);
        expect(await store.configs(randomUUID())).toEqual([]);
      });

      it('finds a configuration by projectRef when it differs from the GUID and the name', async () => {
        const ref = uniqueProject('Old Name');
        const project = { projectId: randomUUID(), projectName: uniqueProject('New Name'), projectRef: ref };
        const first = await create(project);
        await sleep(5);
        const second = await create(project);
        await sleep(5);
        const unresolved = await create({ projectId: ref, projectRef: ref });
        expect(unresolved).not.toHaveProperty('projectName');

        // By ref: the resolved project's configurations and the one saved before it was resolved.
        expect(await store.configs(ref.toUpperCase())).toEqual([unresolved, second, first]);
        expect(await store.configs(project.projectId)).toEqual([second, first]);
        expect(await store.configs(project.projectName)).toEqual([second, first]);
      });
    });

    describe('names', () => {
      it('refuses a name taken in the project (any case) with ConflictError, writing nothing', async () => {
        const project = newProject();
        const first = await create(project, { name: 'Sprint Mapping', isDefault: true });
        const auditBefore = await auditRows(first.id);

        const dupe = newConfig(project, { name: 'SPRINT mapping', isDefault: true });
        const error = await rejectionOf(store.createConfig(dupe, [audit(dupe.id)]));
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as Error).message).toContain('SPRINT mapping');

        expect(await rawConfig(dupe.id)).toBeUndefined();
        expect(await auditRows(dupe.id)).toEqual([]);
        // Clearing the old default was rolled back with the insert.
        expect(await store.config(first.id)).toEqual(first);
        expect(await rawProject(project.projectId)).toEqual([
          { id: first.id, name: 'Sprint Mapping', is_default: true },
        ]);
        expect(await auditRows(first.id)).toEqual(auditBefore);
      });

      it('refuses it too when the project GUID differs only in case', async () => {
        const project = newProject();
        await create(project, { name: 'Release' });
        const dupe = newConfig(
          { ...project, projectId: project.projectId.toUpperCase() },
          { name: 'release' },
        );
        expect(await rejectionOf(store.createConfig(dupe, [audit(dupe.id)]))).toBeInstanceOf(ConflictError);
        expect(await rawConfig(dupe.id)).toBeUndefined();
        expect(await auditRows(dupe.id)).toEqual([]);
      });

      it('allows the same name in another project', async () => {
        const a = await create(newProject(), { name: 'Shared Name' });
        const b = await create(newProject(), { name: 'shared name' });
        expect((await store.config(a.id)).name).toBe('Shared Name');
        expect((await store.config(b.id)).name).toBe('shared name');
      });
    });

    describe('one default per project', () => {
      it('creating a second default clears the first; other projects keep theirs', async () => {
        const project = newProject();
        const other = newProject();
        const otherDefault = await create(other, { isDefault: true });
        const first = await create(project, { isDefault: true });
        const plain = await create(project);
        expect(await defaultsOf(project.projectId)).toEqual([first.id]);

        const second = await create(project, { isDefault: true });
        expect(second.isDefault).toBe(true);
        expect(await defaultsOf(project.projectId)).toEqual([second.id]);
        expect((await store.config(first.id)).isDefault).toBe(false);
        expect(await store.config(plain.id)).toEqual(plain);
        expect(await store.config(otherDefault.id)).toEqual(otherDefault);
        expect(await defaultsOf(other.projectId)).toEqual([otherDefault.id]);
      });

      it('a non-default create leaves the default alone', async () => {
        const project = newProject();
        const theDefault = await create(project, { isDefault: true });
        await create(project, { isDefault: false });
        expect(await defaultsOf(project.projectId)).toEqual([theDefault.id]);
      });

      it('the project GUID in another case is the same project', async () => {
        const project = newProject();
        const first = await create(project, { isDefault: true });
        const second = await create(
          { ...project, projectId: project.projectId.toUpperCase() },
          { isDefault: true },
        );
        expect(await defaultsOf(project.projectId)).toEqual([second.id]);
        expect((await store.config(first.id)).isDefault).toBe(false);
      });

      it('updating another configuration to default clears the first; false leaves none', async () => {
        const project = newProject();
        const other = newProject();
        const otherDefault = await create(other, { isDefault: true });
        const a = await create(project, { isDefault: true });
        const b = await create(project);

        const updated = await store.updateConfig(b.id, { isDefault: true }, [audit(b.id, 'config_updated')]);
        expect(updated.isDefault).toBe(true);
        expect(await defaultsOf(project.projectId)).toEqual([b.id]);
        expect((await store.config(a.id)).isDefault).toBe(false);

        // Making the default the default again changes nothing else.
        await store.updateConfig(b.id, { isDefault: true }, []);
        expect(await defaultsOf(project.projectId)).toEqual([b.id]);

        await store.updateConfig(b.id, { isDefault: false }, []);
        expect(await defaultsOf(project.projectId)).toEqual([]);
        expect(await store.config(otherDefault.id)).toEqual(otherDefault);
      });

      it('the database itself refuses a second default row', async () => {
        const project = newProject();
        const a = await create(project, { isDefault: true });
        const b = await create(project);
        const error = await rejectionOf(
          db.query('UPDATE field_mapping_configs SET is_default = true WHERE id = :id', { id: b.id }),
        );
        expect(error).toMatchObject({ sqlState: '23505', constraint: 'field_mapping_configs_one_default' });
        expect(await defaultsOf(project.projectId)).toEqual([a.id]);
      });
    });

    describe('updateConfig', () => {
      it('changes only what it is given', async () => {
        const project = newProject();
        const original = await create(project, { description: 'First', processTemplateName: 'Scrum' });
        await sleep(5);

        const renamed = await store.updateConfig(original.id, { name: 'Renamed' }, []);
        expect(renamed).toEqual({ ...original, name: 'Renamed', updatedAt: expect.stringMatching(ISO) });
        expect(renamed.updatedAt > original.updatedAt).toBe(true);
        expect(await store.config(original.id)).toEqual(renamed);

        const moved = await store.updateConfig(
          original.id,
          { projectName: 'Renamed Project', processTemplateName: 'Agile', description: 'Second' },
          [],
        );
        expect(moved).toEqual({
          ...renamed,
          projectName: 'Renamed Project',
          processTemplateName: 'Agile',
          description: 'Second',
          updatedAt: expect.stringMatching(ISO),
        });
        // The GUID and the client's reference never change.
        expect(await rawConfig(original.id)).toMatchObject({
          project_id: project.projectId,
          project_ref: project.projectRef,
          name: 'Renamed',
          description: 'Second',
          project_name: 'Renamed Project',
          process_template_name: 'Agile',
          mappings: SAMPLE_ROWS,
          is_default: false,
          created_at: new Date(original.createdAt),
        });

        const unchanged = await store.updateConfig(original.id, {}, []);
        expect({ ...unchanged, updatedAt: moved.updatedAt }).toEqual(moved);
      });

      it('keeps the description for undefined, replaces it for a value, stores an empty one as empty', async () => {
        const created = await create(newProject(), { description: 'Keep me' });
        const kept = await store.updateConfig(created.id, { description: undefined, name: 'Other' }, []);
        expect(kept.description).toBe('Keep me');
        expect((await rawConfig(created.id))?.description).toBe('Keep me');

        const replaced = await store.updateConfig(created.id, { description: 'New text' }, []);
        expect(replaced.description).toBe('New text');

        // There is no way to clear it to NULL through the store: '' is stored as ''.
        const emptied = await store.updateConfig(created.id, { description: '' }, []);
        expect(emptied.description).toBe('');
        expect((await rawConfig(created.id))?.description).toBe('');
      });

      it('replaces all the rows when given mappings', async () => {
        const created = await create(newProject());
        const next = [mapping('risk', 'Microsoft.VSTS.Common.Risk', 'user_story', 'risk')];
        const updated = await store.updateConfig(created.id, { mappings: next }, []);
        expect(updated.mappings).toEqual(next);
        expect((await rawConfig(created.id))?.mappings).toEqual(next);

        const emptied = await store.updateConfig(created.id, { mappings: [] }, []);
        expect(emptied.mappings).toEqual([]);
        expect((await rawConfig(created.id))?.mappings).toEqual([]);
        expect(emptied).toMatchObject({ name: created.name, projectId: created.projectId });
      });

      it('an unknown id rejects with NotFoundError and audits nothing', async () => {
        const id = `fmc-${randomUUID()}`;
        const error = await rejectionOf(
          store.updateConfig(id, { name: 'x', isDefault: true }, [audit(id, 'config_updated')]),
        );
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as Error).message).toContain(id);
        expect(await auditRows(id)).toEqual([]);
        expect(await rawConfig(id)).toBeUndefined();
      });

      it('renaming onto a taken name (any case) is a ConflictError and changes nothing', async () => {
        const project = newProject();
        const taken = await create(project, { name: 'Taken', isDefault: true });
        const mine = await create(project, { name: 'Mine' });
        const rawBefore = await rawConfig(mine.id);
        const auditBefore = await auditRows(mine.id);

        const error = await rejectionOf(
          store.updateConfig(mine.id, { name: 'TAKEN', isDefault: true, description: 'lost' }, [
            audit(mine.id, 'config_updated'),
          ]),
        );
        expect(error).toBeInstanceOf(ConflictError);
        expect(await rawConfig(mine.id)).toEqual(rawBefore);
        expect(await store.config(taken.id)).toEqual(taken);
        expect(await auditRows(mine.id)).toEqual(auditBefore);
        expect(await defaultsOf(project.projectId)).toEqual([taken.id]);
      });

      it('renaming to its own name in another case is allowed', async () => {
        const created = await create(newProject(), { name: 'Case Name' });
        const updated = await store.updateConfig(created.id, { name: 'CASE NAME' }, []);
        expect(updated.name).toBe('CASE NAME');
        expect((await rawConfig(created.id))?.name).toBe('CASE NAME');
      });
    });

    describe('removeConfig', () => {
      it('answers the removed record; the configuration is gone', async () => {
        const project = newProject();
        const keep = await create(project);
        const created = await create(project, { isDefault: true, description: 'Bye' });
        const removed = await store.removeConfig(created.id, [audit(created.id, 'config_deleted')]);
        expect(removed).toEqual(created);

        expect(await rejectionOf(store.config(created.id))).toBeInstanceOf(NotFoundError);
        expect(await rawConfig(created.id)).toBeUndefined();
        expect(await store.configs(project.projectId)).toEqual([keep]);
        expect((await auditRows(created.id)).map((r) => r.action_type)).toEqual([
          'config_created',
          'config_deleted',
        ]);
        // Removing twice: the second is not found and audits nothing more.
        expect(
          await rejectionOf(store.removeConfig(created.id, [audit(created.id, 'config_deleted')])),
        ).toBeInstanceOf(NotFoundError);
        expect(await auditRows(created.id)).toHaveLength(2);
      });

      it('an unknown id rejects with NotFoundError and audits nothing', async () => {
        const id = `fmc-${randomUUID()}`;
        const error = await rejectionOf(store.removeConfig(id, [audit(id, 'config_deleted')]));
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as Error).message).toContain(id);
        expect(await auditRows(id)).toEqual([]);
      });
    });

    describe('audit entries', () => {
      it('every write appends exactly the entries it is given', async () => {
        const input = newConfig(newProject());
        await store.createConfig(input, [
          audit(input.id, 'config_created', { seq: 1 }),
          { actionType: 'config_activated', entityType: 'configuration', entityId: input.id },
        ]);
        expect(await auditRows(input.id)).toEqual([
          {
            action_type: 'config_activated',
            entity_type: 'configuration',
            entity_id: input.id,
            user_id: null,
            source_ip: null,
            user_agent: null,
            details: null,
          },
          {
            action_type: 'config_created',
            entity_type: 'configuration',
            entity_id: input.id,
            user_id: 'user-fm',
            source_ip: '10.0.0.7',
            user_agent: 'vitest',
            details: { system: 'field-mapping', seq: 1 },
          },
        ]);

        await store.updateConfig(input.id, { name: 'Audited' }, [
          audit(input.id, 'config_updated', { seq: 2 }),
        ]);
        await store.updateConfig(input.id, { name: 'Not audited' }, []);
        await store.removeConfig(input.id, [audit(input.id, 'config_deleted', { seq: 3 })]);
        const rows = await auditRows(input.id);
        expect(rows.map((r) => [r.action_type, r.details])).toEqual([
          ['config_activated', null],
          ['config_created', { system: 'field-mapping', seq: 1 }],
          ['config_deleted', { system: 'field-mapping', seq: 3 }],
          ['config_updated', { system: 'field-mapping', seq: 2 }],
        ]);
      });

      it('an audit entry the database refuses undoes the write it came with', async () => {
        const project = newProject();
        const theDefault = await create(project, { isDefault: true });
        const badAudit = (id: string): NewAuditLog => ({ ...audit(id), userId: 'u'.repeat(256) });

        const input = newConfig(project, { isDefault: true });
        const error = await rejectionOf(store.createConfig(input, [audit(input.id), badAudit(input.id)]));
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).toMatchObject({ sqlState: '23514', constraint: 'audit_logs_user_id_length' });
        expect(await rawConfig(input.id)).toBeUndefined();
        expect(await auditRows(input.id)).toEqual([]);
        expect(await defaultsOf(project.projectId)).toEqual([theDefault.id]);

        const rawBefore = await rawConfig(theDefault.id);
        await rejectionOf(store.updateConfig(theDefault.id, { name: 'Never' }, [badAudit(theDefault.id)]));
        expect(await rawConfig(theDefault.id)).toEqual(rawBefore);

        await rejectionOf(store.removeConfig(theDefault.id, [badAudit(theDefault.id)]));
        expect(await rawConfig(theDefault.id)).toEqual(rawBefore);
        expect(await auditRows(theDefault.id)).toHaveLength(1);
      });
    });

    describe('the mappings check', () => {
      const rows = (n: number) =>
        Array.from({ length: n }, (_, i) => mapping(`field${i}`, `Custom.Field${i}`, 'user_story'));

      it(`stores ${MAX_MAPPINGS} rows`, async () => {
        const created = await create(newProject(), { mappings: rows(MAX_MAPPINGS) });
        expect((await store.config(created.id)).mappings).toEqual(rows(MAX_MAPPINGS));
      });

      it(`refuses ${MAX_MAPPINGS + 1} rows on create with a DatabaseError, writing nothing`, async () => {
        const project = newProject();
        const theDefault = await create(project, { isDefault: true });
        const input = newConfig(project, { mappings: rows(MAX_MAPPINGS + 1), isDefault: true });
        const error = await rejectionOf(store.createConfig(input, [audit(input.id)]));
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).not.toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({
          sqlState: '23514',
          constraint: 'field_mapping_configs_mappings_array',
        });
        expect(await rawConfig(input.id)).toBeUndefined();
        expect(await auditRows(input.id)).toEqual([]);
        expect(await defaultsOf(project.projectId)).toEqual([theDefault.id]);
      });

      it(`refuses ${MAX_MAPPINGS + 1} rows on update, leaving the row and the audit as they were`, async () => {
        const created = await create(newProject());
        const rawBefore = await rawConfig(created.id);
        const error = await rejectionOf(
          store.updateConfig(created.id, { mappings: rows(MAX_MAPPINGS + 1), name: 'Too many' }, [
            audit(created.id, 'config_updated'),
          ]),
        );
        expect(error).toMatchObject({
          sqlState: '23514',
          constraint: 'field_mapping_configs_mappings_array',
        });
        expect(await rawConfig(created.id)).toEqual(rawBefore);
        expect((await auditRows(created.id)).map((r) => r.action_type)).toEqual(['config_created']);
      });
    });

    if (options.concurrentWrites) {
      describe('concurrent writes', () => {
        it(`two concurrent default creates both succeed, one default remains (${ROUNDS} rounds)`, async () => {
          for (let round = 0; round < ROUNDS; round++) {
            const project = newProject();
            const old = await create(project, { isDefault: true });
            const a = newConfig(project, { isDefault: true });
            const b = newConfig(project, { isDefault: true });
            const results = await Promise.allSettled([
              store.createConfig(a, [audit(a.id)]),
              store.createConfig(b, [audit(b.id)]),
            ]);
            expect(
              results.map((r) => r.status),
              `round ${round}`,
            ).toEqual(['fulfilled', 'fulfilled']);
            const defaults = await defaultsOf(project.projectId);
            expect(defaults).toHaveLength(1);
            expect([a.id, b.id]).toContain(defaults[0]);
            expect((await store.config(old.id)).isDefault).toBe(false);
            expect(await auditRows(a.id)).toHaveLength(1);
            expect(await auditRows(b.id)).toHaveLength(1);
          }
        });

        it(`two concurrent updates to default both succeed, one default remains (${ROUNDS} rounds)`, async () => {
          for (let round = 0; round < ROUNDS; round++) {
            const project = newProject();
            const old = await create(project, { isDefault: true });
            const x = await create(project);
            const y = await create(project);
            const results = await Promise.allSettled([
              store.updateConfig(x.id, { isDefault: true }, [audit(x.id, 'config_updated')]),
              store.updateConfig(y.id, { isDefault: true }, [audit(y.id, 'config_updated')]),
            ]);
            expect(
              results.map((r) => r.status),
              `round ${round}`,
            ).toEqual(['fulfilled', 'fulfilled']);
            const defaults = await defaultsOf(project.projectId);
            expect(defaults).toHaveLength(1);
            expect([x.id, y.id]).toContain(defaults[0]);
            expect((await store.config(old.id)).isDefault).toBe(false);
            expect(await auditRows(x.id)).toHaveLength(2);
            expect(await auditRows(y.id)).toHaveLength(2);
          }
        });

        it(`two concurrent creates of one name: one succeeds, one ConflictError (${ROUNDS} rounds)`, async () => {
          for (let round = 0; round < ROUNDS; round++) {
            const project = newProject();
            const a = newConfig(project, { name: 'Race', isDefault: true });
            const b = newConfig(project, { name: 'RACE' });
            const results = await Promise.allSettled([
              store.createConfig(a, [audit(a.id)]),
              store.createConfig(b, [audit(b.id)]),
            ]);
            const won = results.filter((r) => r.status === 'fulfilled');
            const lost = results.filter((r) => r.status === 'rejected');
            expect(won, `round ${round}`).toHaveLength(1);
            expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
            const stored = await rawProject(project.projectId);
            expect(stored).toHaveLength(1);
            const winner = stored[0]?.id === a.id ? a : b;
            const loser = winner === a ? b : a;
            expect(await auditRows(winner.id)).toHaveLength(1);
            expect(await auditRows(loser.id)).toEqual([]);
          }
        });

        /**
         * A client re-saving the default (isDefault: true) while another configuration of the project
         * is made the default: with the project's lock taken after the row lock, each waited for the
         * other and PostgreSQL aborted one (40P01). This pins that interleaving (a third transaction
         * holds the project's lock until both writes wait for it, the one on the non-default row first).
         */
        it('re-saving the default while another config becomes default: both succeed, the later wins', async () => {
          const project = newProject();
          const x = await create(project, { isDefault: true });
          const y = await create(project);
          const outcome = await withProjectLockHeld(project.projectId, async (waitForWaiters) => {
            const makeY = store.updateConfig(y.id, { isDefault: true }, [audit(y.id, 'config_updated')]);
            makeY.catch(() => undefined);
            await waitForWaiters(1);
            const keepX = store.updateConfig(x.id, { isDefault: true }, [audit(x.id, 'config_updated')]);
            keepX.catch(() => undefined);
            await waitForWaiters(2);
            return () => Promise.allSettled([makeY, keepX]);
          });
          const results = await outcome();
          expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual([
            'fulfilled',
            'fulfilled',
          ]);
          expect(await defaultsOf(project.projectId)).toHaveLength(1);
        });
      });
    }

    /**
     * Holds the advisory lock the store takes for `projectId`'s default in a transaction of its own
     * while `start` queues writes behind it (`waitForWaiters(n)` resolves once n sessions wait for an
     * advisory lock in this database); then releases it and answers what `start` answered.
     */
    async function withProjectLockHeld<R>(
      projectId: string,
      start: (waitForWaiters: (n: number) => Promise<void>) => Promise<R>,
    ): Promise<R> {
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked: () => void = () => undefined;
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holder = db.transaction(async (tx) => {
        await tx.query(
          "SELECT true AS locked FROM pg_advisory_xact_lock(hashtext('field_mapping_configs:' || lower(:projectId)))",
          { projectId },
        );
        locked();
        await released;
      });
      const waitForWaiters = async (n: number) => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          );
          if ((rows[0]?.n ?? 0) >= n) return;
          if (Date.now() > deadline) throw new Error(`never saw ${n} sessions waiting for the advisory lock`);
          await sleep(20);
        }
      };
      try {
        await Promise.race([isLocked, holder]);
        return await start(waitForWaiters);
      } finally {
        release();
        await holder;
      }
    }
  });
}
