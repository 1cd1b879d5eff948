import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHierarchyTypes } from '#core/mapping/work-item-types.ts';
import {
  AdoAuthError,
  AdoRejectedError,
  type NewWorkItem,
  type WorkItemTracker,
} from '#core/ports/work-item-tracker.ts';

export type ContractProcess = 'Agile' | 'Scrum' | 'CMMI' | 'Basic';

export interface TrackerContractTarget {
  tracker: WorkItemTracker;
  /** A tracker for the same organization whose PAT is wrong. */
  wrongPat: WorkItemTracker;
  /** Organization base URL the web links start with. */
  baseUrl: string;
  /** Adds a project; without it, tests use the default projects ("Agile Project", ...). */
  seedProject?(name: string, process: ContractProcess): void | Promise<void>;
  teardown?(): Promise<void>;
}

const TITLE = 'System.Title';
const DESCRIPTION = 'System.Description';
const TAGS = 'System.Tags';
const PRIORITY = 'Microsoft.VSTS.Common.Priority';
const ACCEPTANCE = 'Microsoft.VSTS.Common.AcceptanceCriteria';

/** The three levels of the Ardoq tree in each process (DESIGN.md §5). */
const LEVELS: Record<ContractProcess, [epic: string, feature: string, story: string]> = {
  Agile: ['Epic', 'Feature', 'User Story'],
  Scrum: ['Epic', 'Feature', 'Product Backlog Item'],
  CMMI: ['Epic', 'Feature', 'Requirement'],
  Basic: ['Epic', 'Issue', 'Task'],
};
const PROCESSES = Object.keys(LEVELS) as ContractProcess[];

/**
 * What the pipeline relies on from Azure DevOps, run against every `WorkItemTracker`: the REST adapter
 * over the simulator and the in-memory fake. The fake is trusted in unit tests because it passes this.
 */
export function describeTrackerContract(label: string, connect: () => Promise<TrackerContractTarget>): void {
  describe(`WorkItemTracker contract: ${label}`, () => {
    let target: TrackerContractTarget;
    let tracker: WorkItemTracker;

    beforeAll(async () => {
      target = await connect();
      tracker = target.tracker;
    });
    afterAll(async () => {
      await target?.teardown?.();
    });

    const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
    /** A fresh project when the target can add one, else the default project of that process. */
    async function projectFor(process: ContractProcess): Promise<string> {
      if (!target.seedProject) return `${process} Project`;
      const name = `${process} ${randomUUID().slice(0, 8)}`;
      await target.seedProject(name, process);
      return name;
    }
    const item = (type: string, title: string, tags: string[], more: Partial<NewWorkItem> = {}) => ({
      type,
      fields: { [TITLE]: title, [TAGS]: tags.join('; ') },
      ...more,
    });

    it('lists the projects of the organization, added ones included', async () => {
      const added = await projectFor('Scrum');

      const names = (await tracker.listProjects()).map((p) => p.name);

      expect(names).toEqual(
        expect.arrayContaining(['Agile Project', 'Scrum Project', 'Basic Project', added]),
      );
      for (const project of await tracker.listProjects()) expect(project.id).toEqual(expect.any(String));
    });

    it.each(PROCESSES)(
      'lists the work item types of a %s project, which resolve to its levels',
      async (process) => {
        const project = await projectFor(process);

        const types = (await tracker.listWorkItemTypes(project)).map((type) => type.name);

        expect(types).toEqual(expect.arrayContaining([...LEVELS[process], 'Task']));
        const resolved = resolveHierarchyTypes(types);
        expect([resolved.process, resolved.epic, resolved.feature, resolved.userStory]).toEqual([
          process,
          ...LEVELS[process],
        ]);
      },
    );

    it('Basic has no Feature and Scrum no User Story', async () => {
      const names = async (process: ContractProcess) =>
        (await tracker.listWorkItemTypes(await projectFor(process))).map((type) => type.name);
      expect(await names('Basic')).not.toContain('Feature');
      expect(await names('Scrum')).not.toContain('User Story');
    });

    it.each(PROCESSES)(
      'the %s types list carries each hierarchy type with the fields listFields gives',
      async (process) => {
        const project = await projectFor(process);
        const listed = await tracker.listWorkItemTypes(project);

        for (const name of LEVELS[process]) {
          const type = listed.find((t) => t.name === name);
          expect(type?.fields).not.toBeNull();
          expect([...(type?.fields ?? [])].sort()).toEqual(
            [...(await tracker.listFields(project, name))].sort(),
          );
        }
      },
    );

    it.each(PROCESSES)('lists the fields of the %s hierarchy types', async (process) => {
      const project = await projectFor(process);
      const [epic, feature, story] = LEVELS[process];

      const fields = await Promise.all(
        [epic, feature, story].map((type) => tracker.listFields(project, type)),
      );

      for (const list of fields)
        expect(list).toEqual(expect.arrayContaining([TITLE, DESCRIPTION, TAGS, PRIORITY]));
      if (process === 'Basic') {
        expect(fields.flat()).not.toContain(ACCEPTANCE);
      } else {
        expect(fields[2]).toContain(ACCEPTANCE);
      }
    });

    it.each(PROCESSES)(
      'lists the fields of a %s project with their types; identity fields flagged, read-only ones marked',
      async (process) => {
        const project = await projectFor(process);

        const fields = await tracker.listFieldDefinitions(project);
        const byName = new Map(fields.map((f) => [f.referenceName, f]));

        expect(byName.get(TITLE)).toMatchObject({ type: 'string', readOnly: false, isIdentity: false });
        expect(byName.get(DESCRIPTION)).toMatchObject({ type: 'html', readOnly: false });
        expect(byName.get(PRIORITY)).toMatchObject({ type: 'integer', readOnly: false });
        expect(byName.get(TAGS)?.type).toBe('plainText');
        expect(byName.get('System.AssignedTo')).toMatchObject({ isIdentity: true });
        expect(byName.get('System.ChangedDate')).toMatchObject({ type: 'dateTime', readOnly: true });
        expect(byName.get('System.Id')).toMatchObject({ type: 'integer', readOnly: true });
        // Every field of the hierarchy types is defined.
        for (const type of LEVELS[process])
          for (const name of await tracker.listFields(project, type))
            expect(byName.has(name), name).toBe(true);
      },
    );

    it.each(PROCESSES)('lists the %s process types with their fields, without a project', async (process) => {
      const typeId = (await tracker.listProcesses()).find((p) => p.name === process)?.typeId ?? '';

      const types = await tracker.listProcessTypes(typeId);

      for (const name of LEVELS[process]) {
        const type = types.find((t) => t.name === name);
        expect(type, name).toMatchObject({ isDisabled: false, referenceName: expect.any(String) });
        const refs = type?.fields.map((f) => f.referenceName) ?? [];
        expect(refs).toEqual(expect.arrayContaining([TITLE, DESCRIPTION, TAGS, PRIORITY]));
        // Fields - List carries no allowed values (only Fields - Get with $expand does).
        expect(type?.fields.find((f) => f.referenceName === PRIORITY)).toMatchObject({
          type: 'integer',
          readOnly: false,
        });
        expect(type?.fields.find((f) => f.referenceName === PRIORITY)?.allowedValues).toBeUndefined();
      }
    });

    it('listing the fields of an unknown type is rejected (not as a missing project)', async () => {
      const project = await projectFor('Agile');

      const error = await tracker.listFields(project, 'No Such Type').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AdoRejectedError);
      expect((error as AdoRejectedError).projectMissing).toBe(false);
    });

    it('creates a child under its parent with a hyperlink and tags, returns the web link, reads it back', async () => {
      const project = await projectFor('Agile');
      const tag = unique('tag');
      const epic = await tracker.createWorkItem(project, item('Epic', unique('Epic'), ['ardoq-sync', tag]));
      const title = unique('Story');
      const link = {
        url: `https://acme.ardoq.test/app/view/component/${unique('c')}`,
        comment: unique('marker'),
      };

      const story = await tracker.createWorkItem(project, {
        type: 'User Story',
        fields: {
          [TITLE]: title,
          [TAGS]: `ardoq-sync; ${tag}; KEY-1`,
          [PRIORITY]: 2,
          [DESCRIPTION]: '<p>x</p>',
        },
        parentId: epic.id,
        hyperlink: link,
      });

      expect(story.id).toBeGreaterThan(epic.id);
      expect(story.webUrl).toBe(
        `${target.baseUrl}/${encodeURIComponent(project)}/_workitems/edit/${story.id}`,
      );
      const [read, ...others] = await tracker.getWorkItems([story.id]);
      expect(others).toEqual([]);
      expect(read).toMatchObject({ id: story.id, type: 'User Story', title, parentId: epic.id });
      expect(read?.tags.map((t) => t.toLowerCase()).sort()).toEqual(['ardoq-sync', 'key-1', tag].sort());
      expect(read?.hyperlinks).toEqual([link]);
      expect(read?.webUrl).toBe(story.webUrl);
      const [parent] = await tracker.getWorkItems([epic.id]);
      expect(parent?.parentId).toBeUndefined();
    });

    it('reads any number of ids and omits missing ones', async () => {
      const project = await projectFor('Basic');
      const tag = unique('tag');
      const created = [];
      for (let i = 0; i < 3; i++)
        created.push(await tracker.createWorkItem(project, item('Task', `t${i}`, [tag])));
      const ids = created.map((c) => c.id);

      const read = await tracker.getWorkItems([ids[0] ?? 0, 99_999_999, ids[2] ?? 0]);

      expect(read.map((r) => r.id)).toEqual([ids[0], ids[2]]);
      expect(await tracker.getWorkItems([])).toEqual([]);
    });

    it('searches by tag, type, title and creation time, in id order', async () => {
      const project = await projectFor('Scrum');
      const tag = unique('tag');
      const first = await tracker.createWorkItem(project, item('Epic', 'Alpha', [tag]));
      const second = await tracker.createWorkItem(project, item('Feature', "It's Beta", [tag, 'other']));
      await sleep(30);
      const between = new Date();
      await sleep(30);
      const third = await tracker.createWorkItem(project, item('Product Backlog Item', 'Alpha', [tag]));
      await tracker.createWorkItem(project, item('Epic', 'Alpha', [unique('untagged')]));

      expect(await tracker.searchWorkItems(project, { tag })).toEqual([first.id, second.id, third.id]);
      expect(await tracker.searchWorkItems(project, { tag: tag.toUpperCase() })).toEqual([
        first.id,
        second.id,
        third.id,
      ]);
      expect(await tracker.searchWorkItems(project, { tag, types: ['Epic', 'Feature'] })).toEqual([
        first.id,
        second.id,
      ]);
      expect(await tracker.searchWorkItems(project, { tag, title: 'Alpha' })).toEqual([first.id, third.id]);
      expect(await tracker.searchWorkItems(project, { tag, title: "It's Beta" })).toEqual([second.id]);
      expect(await tracker.searchWorkItems(project, { tag, createdSince: between })).toEqual([third.id]);
      expect(
        await tracker.searchWorkItems(project, { tag, createdSince: new Date(Date.now() + 60_000) }),
      ).toEqual([]);
    });

    it('deletes to the recycle bin: gone from search and reads; deleting again is harmless', async () => {
      const project = await projectFor('Agile');
      const tag = unique('tag');
      const keep = await tracker.createWorkItem(project, item('Epic', 'keep', [tag]));
      const drop = await tracker.createWorkItem(project, item('Epic', 'drop', [tag]));

      await tracker.deleteWorkItems(project, [drop.id]);

      expect(await tracker.searchWorkItems(project, { tag })).toEqual([keep.id]);
      expect((await tracker.getWorkItems([keep.id, drop.id])).map((w) => w.id)).toEqual([keep.id]);
      await expect(tracker.deleteWorkItems(project, [drop.id])).resolves.toBeUndefined();
    });

    it('refuses to delete more than 200 ids in one call', async () => {
      const ids = Array.from({ length: 201 }, (_, i) => i + 1);

      const error = await tracker.deleteWorkItems('Agile Project', ids).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(AdoRejectedError);
    });

    it('a create whose beforeSend guard throws fails with that error and creates nothing', async () => {
      const project = await projectFor('Agile');
      const tag = unique('guarded');
      const refusal = new Error('the sync was cancelled');
      let calls = 0;

      const error = await tracker
        .createWorkItem(project, item('Epic', unique('Guarded'), [tag]), {
          beforeSend: async () => {
            calls += 1;
            throw refusal;
          },
        })
        .catch((e: unknown) => e);

      expect(error).toBe(refusal);
      expect(calls).toBe(1);
      expect(await tracker.searchWorkItems(project, { tag })).toEqual([]);
    });

    it('a create whose beforeSend guard resolves goes through, the guard awaited once first', async () => {
      const project = await projectFor('Agile');
      const tag = unique('guarded');
      const order: string[] = [];

      const created = await tracker.createWorkItem(project, item('Epic', unique('Guarded'), [tag]), {
        beforeSend: async () => {
          await sleep(5);
          order.push('guard');
        },
      });
      order.push('created');

      expect(order).toEqual(['guard', 'created']);
      expect(await tracker.searchWorkItems(project, { tag })).toEqual([created.id]);
    });

    describe('projects and processes', () => {
      const AGILE = 'adcc42ab-9882-485e-a3ed-7678f01f66bc';
      const SCRUM = '6b724908-ef14-45cf-84f8-768b5384da45';
      /** Follows a creation's operation to its end (the simulator finishes within about 100 ms here). */
      async function settle(id: string) {
        for (let i = 0; i < 100; i++) {
          const operation = await tracker.getOperation(id);
          if (['succeeded', 'failed', 'cancelled'].includes(operation.status)) return operation;
          await sleep(20);
        }
        throw new Error(`operation ${id} did not end`);
      }

      it('lists the four system processes with the type ids Azure DevOps gives them everywhere', async () => {
        const processes = await tracker.listProcesses();
        const byName = new Map(processes.map((p) => [p.name, p]));
        expect(byName.get('Agile')?.typeId).toBe(AGILE);
        expect(byName.get('Scrum')?.typeId).toBe(SCRUM);
        expect(byName.get('CMMI')?.typeId).toBe('27450541-8e31-4150-9947-dc59f998fc01');
        expect(byName.get('Basic')?.typeId).toBe('b8a3a935-7e91-48b8-a94c-606d37c3e9f2');
        for (const p of processes)
          expect(p).toMatchObject({ isEnabled: expect.any(Boolean), description: expect.any(String) });
      });

      it('lists projects with their reference keys and finds one by name (any case) or id, with its process', async () => {
        const listed = (await tracker.listProjects()).find((p) => p.name === 'Scrum Project');
        expect(listed).toMatchObject({ id: expect.any(String), name: 'Scrum Project', state: 'wellFormed' });
        const byName = await tracker.getProject('scrum project');
        expect(byName).toMatchObject({ id: listed?.id, name: 'Scrum Project', processTypeId: SCRUM });
        expect(await tracker.getProject(listed?.id ?? '')).toMatchObject({ name: 'Scrum Project' });
        expect(await tracker.getProject(`No such ${randomUUID()}`)).toBeNull();
      });

      it('creates a project through an operation: usable once it succeeded, a second of that name is a 409', async () => {
        const name = unique('Created');
        const queued = await tracker.createProject({
          name,
          visibility: 'private',
          processTypeId: SCRUM,
          sourceControl: 'Git',
        });
        expect(queued.id).toEqual(expect.any(String));
        expect(['queued', 'inProgress', 'succeeded']).toContain(queued.status);
        expect((await settle(queued.id)).status).toBe('succeeded');

        expect((await tracker.listProjects()).map((p) => p.name)).toContain(name);
        expect(await tracker.getProject(name)).toMatchObject({ name, processTypeId: SCRUM });
        const types = (await tracker.listWorkItemTypes(name)).map((t) => t.name);
        expect(types).toEqual(expect.arrayContaining(LEVELS.Scrum));
        const duplicate = await tracker
          .createProject({
            name: name.toUpperCase(),
            visibility: 'private',
            processTypeId: AGILE,
            sourceControl: 'Git',
          })
          .catch((e: unknown) => e);
        expect(duplicate).toBeInstanceOf(AdoRejectedError);
        expect(duplicate).toMatchObject({ status: 409, code: 'TF200019' });
      });
    });

    it('a wrong PAT is refused with AdoAuthError by every method', async () => {
      const bad = target.wrongPat;
      const attempts: Array<() => Promise<unknown>> = [
        () => bad.listProjects(),
        () => bad.getProject('Agile Project'),
        () => bad.listProcesses(),
        () =>
          bad.createProject({
            name: 'never',
            visibility: 'private',
            processTypeId: 'adcc42ab-9882-485e-a3ed-7678f01f66bc',
            sourceControl: 'Git',
          }),
        () => bad.getOperation('00000000-0000-4000-8000-000000000000'),
        () => bad.listWorkItemTypes('Agile Project'),
        () => bad.listFields('Agile Project', 'Epic'),
        () => bad.createWorkItem('Agile Project', item('Epic', 'never', ['x'])),
        () => bad.searchWorkItems('Agile Project', { tag: 'ardoq-sync' }),
        () => bad.getWorkItems([1]),
        () => bad.deleteWorkItems('Agile Project', [1]),
      ];

      for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(AdoAuthError);
    });

    it('rejects a field the type does not have (TF51535), a title over 255 characters, a missing parent', async () => {
      const project = await projectFor('Basic');

      const unknownField = await tracker
        .createWorkItem(project, { type: 'Task', fields: { [TITLE]: 't', [ACCEPTANCE]: '<p>no</p>' } })
        .catch((e: unknown) => e);
      const longTitle = await tracker
        .createWorkItem(project, { type: 'Task', fields: { [TITLE]: 'x'.repeat(256) } })
        .catch((e: unknown) => e);
      const orphan = await tracker
        .createWorkItem(project, { type: 'Task', fields: { [TITLE]: 't' }, parentId: 99_999_999 })
        .catch((e: unknown) => e);

      expect(unknownField).toBeInstanceOf(AdoRejectedError);
      expect(unknownField).toMatchObject({ code: 'TF51535', projectMissing: false });
      expect(longTitle).toBeInstanceOf(AdoRejectedError);
      expect(orphan).toBeInstanceOf(AdoRejectedError);
      expect(orphan).toMatchObject({ projectMissing: false });
    });

    it('rejects a priority outside 1..4 and accepts a 255-character title', async () => {
      const project = await projectFor('Agile');

      const error = await tracker
        .createWorkItem(project, { type: 'Epic', fields: { [TITLE]: 'p', [PRIORITY]: 7 } })
        .catch((e: unknown) => e);
      const created = await tracker.createWorkItem(project, {
        type: 'Epic',
        fields: { [TITLE]: 'y'.repeat(255) },
      });

      expect(error).toBeInstanceOf(AdoRejectedError);
      expect((await tracker.getWorkItems([created.id]))[0]?.title).toBe('y'.repeat(255));
    });

    it('an unknown project is rejected with projectMissing', async () => {
      const missing = unique('No Such Project');
      const attempts: Array<() => Promise<unknown>> = [
        () => tracker.listWorkItemTypes(missing),
        () => tracker.createWorkItem(missing, item('Epic', 'never', ['x'])),
        () => tracker.searchWorkItems(missing, { tag: 'ardoq-sync' }),
      ];

      for (const attempt of attempts) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AdoRejectedError);
        expect((error as AdoRejectedError).projectMissing).toBe(true);
      }
    });
  });
}
