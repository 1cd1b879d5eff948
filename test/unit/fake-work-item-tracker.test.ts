import { describe, expect, it } from 'vitest';
import {
  AdoAuthError,
  AdoRejectedError,
  AdoThrottledError,
  AdoTransientError,
  type NewWorkItem,
} from '#core/ports/work-item-tracker.ts';
import { FakeWorkItemTracker, fakeTrackerFactory } from '#test/support/fake-work-item-tracker.ts';
import { describeTrackerContract } from '#test/support/tracker-contract.ts';

const PAT = 'fake-pat';

describeTrackerContract('FakeWorkItemTracker', async () => {
  const fake = new FakeWorkItemTracker({ baseUrl: 'https://dev.azure.com/contract-org' });
  fake.projectCreateSteps = 2; // an operation in progress, as Azure DevOps reports it
  const factory = fakeTrackerFactory(fake, { pat: PAT });
  return {
    tracker: factory({ organization: 'contract-org', pat: PAT }),
    wrongPat: factory({ organization: 'contract-org', pat: 'not-the-pat' }),
    baseUrl: fake.baseUrl,
    seedProject: (name, process) => fake.addProject(name, process),
  };
});

const epic = (title: string): NewWorkItem => ({ type: 'Epic', fields: { 'System.Title': title } });

describe('FakeWorkItemTracker test controls', () => {
  it('failNext fails the next N calls of one method only, with a fresh error each time', async () => {
    const fake = new FakeWorkItemTracker();
    fake.failNext('createWorkItem', () => new AdoThrottledError('slow down', 3500, 429), 2);

    const first = await fake.createWorkItem('Agile Project', epic('a')).catch((e: unknown) => e);
    const second = await fake.createWorkItem('Agile Project', epic('a')).catch((e: unknown) => e);
    const types = await fake.listWorkItemTypes('Agile Project');
    const third = await fake.createWorkItem('Agile Project', epic('a'));

    expect(first).toBeInstanceOf(AdoThrottledError);
    expect(second).toBeInstanceOf(AdoThrottledError);
    expect(second).not.toBe(first);
    expect(types.map((type) => type.name)).toContain('Epic');
    expect(third.id).toBe(1);
    expect(fake.workItems()).toHaveLength(1);
    expect(fake.calls).toMatchObject({ createWorkItem: 3, listWorkItemTypes: 1 });
  });

  it("failNext('any') fails whichever method comes next, then nothing", async () => {
    const fake = new FakeWorkItemTracker();
    const error = new AdoTransientError('503');
    fake.failNext('any', error);

    await expect(fake.searchWorkItems('Agile Project', { tag: 'x' })).rejects.toBe(error);
    await expect(fake.listProjects()).resolves.toHaveLength(4);
  });

  it('dropNextCreate creates the work item, then throws AdoTransientError (the answer was lost)', async () => {
    const fake = new FakeWorkItemTracker();
    fake.dropNextCreate();

    const error = await fake.createWorkItem('Agile Project', epic('lost')).catch((e: unknown) => e);
    const next = await fake.createWorkItem('Agile Project', epic('kept'));

    expect(error).toBeInstanceOf(AdoTransientError);
    expect(fake.workItems().map((w) => w.title)).toEqual(['lost', 'kept']);
    expect(next.id).toBe(2);
  });

  it('holdNextCreate keeps a create waiting until released', async () => {
    const fake = new FakeWorkItemTracker();
    const hold = fake.holdNextCreate();

    const pending = fake.createWorkItem('Agile Project', epic('held'));
    await hold.started;
    expect(fake.workItems()).toEqual([]);
    hold.release();

    await expect(pending).resolves.toMatchObject({ id: 1 });
  });

  it('seeded work items are found by search but not counted as calls', async () => {
    const fake = new FakeWorkItemTracker();
    const id = fake.seedWorkItem('Agile Project', 'user story', { title: 'by hand', tags: ['ardoq-sync'] });

    expect(await fake.searchWorkItems('Agile Project', { tag: 'ardoq-sync', types: ['User Story'] })).toEqual(
      [id],
    );
    expect(fake.calls.createWorkItem).toBe(0);
  });

  it('deleteWorkItems records each call and moves the items to the recycle bin', async () => {
    const fake = new FakeWorkItemTracker();
    const ids = [1, 2, 3].map((i) => fake.seedWorkItem('Basic Project', 'Task', { title: `t${i}` }));

    await fake.deleteWorkItems('Basic Project', ids.slice(0, 2));

    expect(fake.deleteLog).toEqual([ids.slice(0, 2)]);
    expect(fake.recycleBin().map((w) => w.id)).toEqual(ids.slice(0, 2));
    expect(fake.workItems().map((w) => w.id)).toEqual(ids.slice(2));
  });

  it('the factory refuses a wrong PAT from every method, and a PAT revoked mid-way', async () => {
    const fake = new FakeWorkItemTracker();
    const access = { pat: PAT };
    const factory = fakeTrackerFactory(fake, access);
    const good = factory({ organization: 'org', pat: PAT });

    await expect(good.createWorkItem('Agile Project', epic('ok'))).resolves.toMatchObject({ id: 1 });
    access.pat = 'rotated';
    await expect(good.createWorkItem('Agile Project', epic('no'))).rejects.toBeInstanceOf(AdoAuthError);

    expect(fake.calls.createWorkItem).toBe(1);
    expect(fake.authFailures).toBe(1);
    expect(() => factory({ organization: 'org', pat: '' })).toThrow(/PAT/);
  });

  it('a create names its project in the web link as the caller spelled it and logs its parent', async () => {
    const fake = new FakeWorkItemTracker({ baseUrl: 'https://example.test/org/' });
    fake.addProject('Team A/B', 'Scrum');
    const parent = await fake.createWorkItem('Team A/B', epic('p'));

    const child = await fake.createWorkItem('Team A/B', {
      type: 'Feature',
      fields: { 'System.Title': 'c' },
      parentId: parent.id,
    });

    expect(child.webUrl).toBe(`https://example.test/org/Team%20A%2FB/_workitems/edit/${child.id}`);
    expect(fake.createLog.map((c) => c.parentId)).toEqual([undefined, parent.id]);
    await expect(
      fake.createWorkItem('Team A/B', {
        type: 'Epic',
        fields: { 'System.Title': 't', 'System.TeamProject': 'x' },
      }),
    ).rejects.toBeInstanceOf(AdoRejectedError);
  });
});
