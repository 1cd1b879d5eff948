import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgliteDatabase } from '#adapters/pglite-database.ts';
import { StartSyncBody } from '#core/domain/sync-request.ts';
import { ValidationError } from '#core/errors.ts';
import { mapNodeToWorkItem } from '#core/mapping/field-mapping.ts';
import type { HierarchyTypes } from '#core/mapping/work-item-types.ts';
import { buildPlan } from '#core/pipeline/start-sync.ts';
import { sqlUuid } from '#store/database.ts';
import { uniqueProject } from '#test/support/factories.ts';
import {
  countRows,
  createHarness,
  createPipelineDatabase,
  prefixOf,
  startRequest,
} from '#test/support/pipeline-harness.ts';

// What an accepted request stores per node: the payload keeps every raw key the field mapping reads and
// none that has its own column (id, name, type) or rows (children). Harness: pipeline-harness.ts.

const TYPES: HierarchyTypes = { process: 'Agile', epic: 'Epic', feature: 'Feature', userStory: 'User Story' };
const FIELDS = new Set([
  'System.Title',
  'System.Description',
  'System.Tags',
  'Microsoft.VSTS.Common.Priority',
  'Microsoft.VSTS.Common.AcceptanceCriteria',
  'Microsoft.VSTS.Common.Risk',
]);
const OPTIONS = { ardoqBaseUrl: 'https://acme.ardoq.test', marker: 'ardoq-sync:s:n' };

/** A tree whose nodes carry every key the default mapping reads, and one it does not know. */
function richTree(prefix: string) {
  const rich = (id: string, name: string, type: string) => ({
    _id: id,
    name,
    type,
    description: 'Line 1\nLine <2>',
    componentKey: `${prefix.toUpperCase()}-1`,
    priority: 'High',
    tags: ['checkout', { name: 'Payments' }],
    acceptanceCriteria: 'Given a card\nThen it is charged',
    risk: 'medium',
    customField: { nested: [1, 2] },
  });
  return {
    epics: [
      {
        ...rich(`${prefix}-e0`, 'Epic "quoted"', 'Epic'),
        children: [
          {
            ...rich(`${prefix}-e0-f0`, 'Feature', 'Feature'),
            children: [rich(`${prefix}-e0-f0-s0`, 'Story ✓', 'User Story')],
          },
        ],
      },
    ],
  };
}

let db: PgliteDatabase;
beforeAll(async () => {
  db = await createPipelineDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe('buildPlan', () => {
  it('keeps the raw keys in the payload, without _id, name, type and children', () => {
    const plan = buildPlan(StartSyncBody.parse(richTree('bp')));

    expect(plan.map((n) => [n.ardoqId, n.parentArdoqId, n.itemType, n.name])).toEqual([
      ['bp-e0', null, 'epic', 'Epic "quoted"'],
      ['bp-e0-f0', 'bp-e0', 'feature', 'Feature'],
      ['bp-e0-f0-s0', 'bp-e0-f0', 'user_story', 'Story ✓'],
    ]);
    for (const node of plan) {
      expect(Object.keys(node.payload).sort()).toEqual([
        'acceptanceCriteria',
        'componentKey',
        'customField',
        'description',
        'priority',
        'risk',
        'tags',
      ]);
    }
  });
});

describe('startSync stores what the field mapping needs', () => {
  it('a stored node maps to the same work item as the raw request node', async () => {
    const h = await createHarness(db);
    const prefix = prefixOf();
    const body = richTree(prefix);
    const { sync_history_id: syncId } = await startRequest(h.deps, {
      project: uniqueProject('Payload'),
      query: { configId: h.configId },
      body,
    });

    // What the processor reads back (store/sync/pipeline-rows.ts CLAIM_ITEMS) and hands to the mapping.
    const { rows } = await db.query<{ ardoq_id: string; name: string; payload: Record<string, unknown> }>(
      'SELECT ardoq_id, name, payload FROM sync_plan_items WHERE sync_history_id = CAST(:id AS uuid) ORDER BY position',
      { id: sqlUuid(syncId) },
    );
    const epic = body.epics[0]!;
    const raw = [epic, epic.children[0]!, epic.children[0]!.children[0]!];
    const levels = ['epic', 'feature', 'user_story'] as const;
    expect(rows).toHaveLength(3);
    rows.forEach((row, i) => {
      const { children: _children, ...node } = raw[i] as Record<string, unknown>;
      expect(row.payload).not.toHaveProperty('name');
      expect(row.payload).not.toHaveProperty('type');
      expect(row.payload).not.toHaveProperty('children');
      expect(
        mapNodeToWorkItem({ ...row.payload, name: row.name }, levels[i]!, TYPES, FIELDS, OPTIONS),
      ).toEqual(mapNodeToWorkItem(node, levels[i]!, TYPES, FIELDS, OPTIONS));
    });
  });
});

describe('startSync: every parent is in the plan (the database no longer checks it per row)', () => {
  const cases: Array<[string, unknown, string]> = [
    [
      'a User Story directly under an Epic',
      {
        epics: [
          { _id: 'p1', name: 'E', type: 'Epic', children: [{ _id: 'p2', name: 'S', type: 'User Story' }] },
        ],
      },
      'epics[0].children[0].type',
    ],
    ['a Feature at the epic level', { epics: [{ _id: 'p3', name: 'F', type: 'Feature' }] }, 'epics[0].type'],
    [
      'a Feature under a User Story',
      {
        epics: [
          {
            _id: 'p4',
            name: 'E',
            type: 'Epic',
            children: [
              {
                _id: 'p5',
                name: 'F',
                type: 'Feature',
                children: [
                  {
                    _id: 'p6',
                    name: 'S',
                    type: 'User Story',
                    children: [{ _id: 'p7', name: 'F2', type: 'Feature' }],
                  },
                ],
              },
            ],
          },
        ],
      },
      'epics[0].children[0].children[0].children',
    ],
  ];

  it.each(cases)('rejects %s, writing nothing', async (_, body, path) => {
    const h = await createHarness(db);
    const project = uniqueProject('Parent');

    const error = await startRequest(h.deps, { project, query: { configId: h.configId }, body }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.map((d) => d.path)).toContain(path);
    expect(await countRows(db, 'sync_history', project)).toBe(0);
  });
});
