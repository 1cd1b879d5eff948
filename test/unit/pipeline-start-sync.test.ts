import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import { sqlUuid } from '#store/database.ts';
import { getSync } from '#store/sync/sync-rows.ts';
import { uniqueProject } from '#test/support/factories.ts';
import { expectSyncInvariants } from '#test/support/invariants.ts';
import {
  ACTOR,
  countRows,
  createHarness,
  eventNames,
  nodes,
  prefixOf,
  start,
  startRequest,
  tree,
  usePipelineDatabase,
} from '#test/support/pipeline-harness.ts';

// startSync: validating a request and what an accepted one writes (the sync, its plan, its audit log,
// one prepare message). Harness: test/support/pipeline-harness.ts.

const db = usePipelineDatabase();

describe('startSync', () => {
  it('accepts a valid tree: a pending sync with its whole plan, its audit log and one prepare message', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Start');
    const prefix = prefixOf();

    const result = await startRequest(h.deps, {
      project,
      query: { configId: h.configId },
      body: tree(prefix, 1, 2, 1),
    });

    const syncId = result.sync_history_id;
    expect(result).toEqual({
      sync_history_id: syncId,
      status: 'pending',
      events_url: `/api/sync-history/${syncId}/events`,
    });
    const sync = await getSync(db, syncId);
    expect(sync.view).toMatchObject({
      status: 'pending',
      project_name: project,
      target_config_id: h.configId,
      overwrite_mode: false,
      total_items: 5,
      user_id: ACTOR.userId,
    });
    expect(
      (await nodes(db, syncId)).map((n) => [n.ardoq_id, n.parent_ardoq_id, n.item_type, n.state]),
    ).toEqual([
      [`${prefix}-e0`, null, 'epic', 'pending'],
      [`${prefix}-e0-f0`, `${prefix}-e0`, 'feature', 'pending'],
      [`${prefix}-e0-f0-s0`, `${prefix}-e0-f0`, 'user_story', 'pending'],
      [`${prefix}-e0-f1`, `${prefix}-e0`, 'feature', 'pending'],
      [`${prefix}-e0-f1-s0`, `${prefix}-e0-f1`, 'user_story', 'pending'],
    ]);
    expect(h.queue.sends).toEqual([{ messages: [{ kind: 'prepare', syncId }], delaySeconds: undefined }]);
    expect(await eventNames(db, syncId)).toEqual(['sync:accepted']);
    const { rows } = await db.query<{ deadline_at: Date }>(
      'SELECT deadline_at FROM sync_history WHERE id = CAST(:id AS uuid)',
      { id: sqlUuid(syncId) },
    );
    expect(Math.abs((rows[0]?.deadline_at.getTime() ?? 0) - (Date.now() + 120 * 60_000))).toBeLessThan(
      60_000,
    );
    await expectSyncInvariants(db, syncId);
  });

  const valid = () => tree(prefixOf(), 1, 2, 1);
  const invalidBodies: Array<[string, () => unknown, string]> = [
    [
      'an Epic at the feature level',
      () => {
        const body = valid();
        const feature = body.epics[0]?.children?.[0];
        if (feature) feature.type = 'Epic';
        return body;
      },
      'epics[0].children[0].type',
    ],
    [
      'a User Story at the epic level',
      () => ({ epics: [{ _id: 'x1', name: 'Story', type: 'User Story' }] }),
      'epics[0].type',
    ],
    [
      'a duplicate _id',
      () => {
        const body = valid();
        const [first, second] = body.epics[0]?.children ?? [];
        if (first && second) second._id = first._id;
        return body;
      },
      'epics[0].children[1]._id',
    ],
    ['no epics', () => ({ epics: [] }), 'epics'],
    ['a node without a name', () => ({ epics: [{ _id: 'x2', type: 'Epic' }] }), 'epics[0].name'],
    ['a blank name', () => ({ epics: [{ _id: 'x3', name: '   ', type: 'Epic' }] }), 'epics[0].name'],
    ['no body at all', () => undefined, 'body'],
  ];

  it.each(invalidBodies)(
    'rejects %s with a ValidationError naming the path, writing nothing',
    async (_, body, path) => {
      const h = await createHarness(db);
      const project = uniqueProject('Invalid');

      const error = await startRequest(h.deps, {
        project,
        query: { configId: h.configId },
        body: body(),
      }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details.map((d) => d.path)).toContain(path);
      expect(await countRows(db, 'sync_history', project)).toBe(0);
      expect(h.queue.sends).toEqual([]);
    },
  );

  it('rejects a project name over 64 characters', async () => {
    const h = await createHarness(db);

    const error = await startRequest(h.deps, {
      project: 'p'.repeat(65),
      query: { configId: h.configId },
      body: valid(),
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ path: 'project', message: expect.any(String) }]);
    expect(h.queue.sends).toEqual([]);
  });

  it('an unknown configId is a NotFoundError and writes nothing', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('NoConfig');

    const error = await startRequest(h.deps, {
      project,
      query: { configId: `missing-${randomUUID()}` },
      body: valid(),
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotFoundError);
    expect(await countRows(db, 'sync_history', project)).toBe(0);
    expect(h.queue.sends).toEqual([]);
  });

  it('without configId and with no active configuration: ValidationError on configId', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('NoActive');
    await db.query('UPDATE azure_devops_configurations SET is_active = false WHERE is_active');

    const error = await startRequest(h.deps, { project, query: {}, body: valid() }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.map((d) => d.path)).toEqual(['configId']);
    expect(await countRows(db, 'sync_history', project)).toBe(0);
  });

  it('without configId it uses the active configuration', async () => {
    const h = await createHarness(db);
    const project = uniqueProject('Active');
    await db.query('UPDATE azure_devops_configurations SET is_active = false WHERE is_active');
    await db.query('UPDATE azure_devops_configurations SET is_active = true WHERE id = :id', {
      id: h.configId,
    });
    try {
      const result = await startRequest(h.deps, { project, query: {}, body: valid() });

      expect((await getSync(db, result.sync_history_id)).view.target_config_id).toBe(h.configId);
    } finally {
      await db.query('UPDATE azure_devops_configurations SET is_active = false WHERE id = :id', {
        id: h.configId,
      });
    }
  });

  it.each([
    ['true', true],
    ['false', false],
    [undefined, false],
  ])('overwrite=%s → overwrite_mode %s', async (overwrite, expected) => {
    const h = await createHarness(db);

    const syncId = await start(h, uniqueProject('Overwrite'), valid(), { overwrite });

    expect((await getSync(db, syncId)).view.overwrite_mode).toBe(expected);
  });

  it.each(['TRUE', '1', 'yes', ''])(
    'overwrite=%j is refused naming the parameter (never silently off), nothing written',
    async (overwrite) => {
      const h = await createHarness(db);
      const project = uniqueProject('OverwriteBad');

      const error = await start(h, project, valid(), { overwrite }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details.map((d) => d.path)).toContain('overwrite');
      expect(await countRows(db, 'sync_history', project)).toBe(0);
    },
  );
});
