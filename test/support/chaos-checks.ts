import { expect } from 'vitest';
import type { LocalSystem } from '#bin/local/local-system.ts';
import type { AdoSimulator } from '#sim/ado/index.ts';
import { type Queryable, sqlUuid } from '#store/database.ts';
import type { ChaosSchedule, PlannedNode } from './chaos-schedule.ts';
import { expectedOutcomes } from './chaos-schedule.ts';
import { expectAdoConsistent } from './e2e.ts';

export interface CancelRecord {
  /** A cancel request was sent (whatever its answer). */
  sent: boolean;
  /** A cancel request answered 200: the sync must end cancelled. */
  accepted: boolean;
}

export interface ChaosRunResult {
  syncId: string;
  status: string;
  created: number;
  failed: number;
  skipped: number;
}

/**
 * Every invariant of DESIGN.md §4 on one finished chaos run, from the tables and the simulator:
 * exactly one outcome per node, counters = rows, events and audit consistent with the status
 * (expectAdoConsistent → expectSyncInvariants), no duplicate work item, children under their
 * parent's work item and created after it, the final status rule, and, when the sync was not
 * cancelled, the exact outcome of every node (all transient faults must be absorbed).
 */
export async function expectChaosRunConsistent(input: {
  system: LocalSystem;
  simulator: AdoSimulator;
  db: Queryable;
  syncId: string;
  schedule: ChaosSchedule;
  nodes: readonly PlannedNode[];
  cancel: CancelRecord;
}): Promise<ChaosRunResult> {
  const { db, syncId, schedule, nodes, cancel, simulator } = input;
  const id = sqlUuid(syncId);
  const { rows: hist } = await db.query<{
    status: string;
    total_items: number;
    items_created: number;
    items_failed: number;
    items_skipped: number;
    error_message: string | null;
    completed_at: Date | null;
  }>('SELECT * FROM sync_history WHERE id = CAST(:id AS uuid)', { id });
  const h = hist[0];
  if (!h) throw new Error(`sync ${syncId} not found`);
  expect(['completed', 'failed', 'cancelled'], 'the sync is terminal').toContain(h.status);
  expect(h.total_items, 'total_items = requested nodes').toBe(nodes.length);

  const { rows: plan } = await db.query<{ ardoq_id: string; state: string }>(
    'SELECT ardoq_id, state FROM sync_plan_items WHERE sync_history_id = CAST(:id AS uuid)',
    { id },
  );
  expect(
    plan.filter((p) => p.state !== 'done'),
    'every plan item is done',
  ).toEqual([]);

  // Invariant 1: exactly one outcome per requested node.
  const { rows: items } = await db.query<{
    ardoq_id: string;
    status: string;
    azure_devops_id: number | null;
  }>(
    'SELECT ardoq_id, status, azure_devops_id FROM sync_history_items WHERE sync_history_id = CAST(:id AS uuid)',
    { id },
  );
  const perNode = new Map<string, number>();
  for (const item of items) perNode.set(item.ardoq_id, (perNode.get(item.ardoq_id) ?? 0) + 1);
  expect(
    [...perNode].filter(([, n]) => n !== 1),
    'no node has two outcomes',
  ).toEqual([]);
  expect([...perNode.keys()].sort(), 'every node has an outcome').toEqual(nodes.map((n) => n.ardoqId).sort());

  // Invariants 2, 3, 4, 8 (counters, events, audit, no duplicate, parent links).
  await expectAdoConsistent(input.system, db, syncId);

  // No stray work item in the run's project (a duplicate without our marker would show here).
  const created = items.filter((i) => i.status === 'created');
  const inProject = [...simulator.workItems(schedule.project), ...simulator.recycleBin(schedule.project)];
  expect(inProject.length, 'work items in the project = created outcomes').toBe(created.length);
  // Every created work item has its `created` row and its event, and was created before the end.
  const { rows: createdEvents } = await db.query<{ ardoq_id: string; ado_id: number }>(
    `SELECT data->>'ardoqId' AS ardoq_id, (data->>'azureDevOpsId')::int AS ado_id FROM sync_events
     WHERE sync_history_id = CAST(:id AS uuid) AND event LIKE '%:created'`,
    { id },
  );
  expect(
    createdEvents.map((e) => `${e.ardoq_id}#${e.ado_id}`).sort(),
    'one created event per created row, with its work item',
  ).toEqual(created.map((i) => `${i.ardoq_id}#${i.azure_devops_id}`).sort());
  expect(
    inProject.map((w) => w.id).sort((a, b) => a - b),
    'every work item in the project is a created row',
  ).toEqual(created.map((i) => i.azure_devops_id).sort((a, b) => (a ?? 0) - (b ?? 0)));
  const completedAt = h.completed_at ? new Date(h.completed_at).getTime() : Number.NaN;
  expect(
    inProject.filter((w) => w.createdAt.getTime() > completedAt).map((w) => w.id),
    'no work item was created after the terminal status',
  ).toEqual([]);

  // Parents before children: the parent's work item is older (smaller id, earlier creation).
  const outcomeOf = new Map(items.map((i) => [i.ardoq_id, i]));
  const workItem = new Map(inProject.map((w) => [w.id, w]));
  for (const node of nodes) {
    const child = outcomeOf.get(node.ardoqId);
    if (child?.status !== 'created' || node.parentArdoqId === null) continue;
    const parent = outcomeOf.get(node.parentArdoqId);
    expect(parent?.status, `the parent of created ${node.ardoqId} was created`).toBe('created');
    const [p, c] = [workItem.get(parent?.azure_devops_id ?? -1), workItem.get(child.azure_devops_id ?? -1)];
    expect(
      p && c && p.id < c.id,
      `${node.parentArdoqId} (#${p?.id}) created before ${node.ardoqId} (#${c?.id})`,
    ).toBe(true);
    expect(p && c && p.createdAt.getTime() <= c.createdAt.getTime()).toBe(true);
  }

  // Status moves forward only: accepted, at most one start, one terminal event after it.
  const { rows: events } = await db.query<{ seq: number; event: string }>(
    `SELECT seq, event FROM sync_events WHERE sync_history_id = CAST(:id AS uuid) AND event LIKE 'sync:%' ORDER BY seq`,
    { id },
  );
  const names = events.map((e) => e.event);
  expect(names[0], 'the first event is sync:accepted').toBe('sync:accepted');
  expect(events[0]?.seq).toBe(1);
  expect(names.filter((n) => n === 'sync:accepted')).toHaveLength(1);
  expect(names.filter((n) => n === 'sync:started').length).toBeLessThanOrEqual(1);
  expect(['sync:complete', 'sync:error', 'sync:cancelled'], 'the last status event is terminal').toContain(
    names.at(-1),
  );
  if (h.status !== 'cancelled') expect(names, 'a finalized sync had started').toContain('sync:started');

  // Invariant 6: the final status rule.
  const counts = {
    created: created.length,
    failed: items.filter((i) => i.status === 'failed').length,
    skipped: items.filter((i) => i.status === 'skipped').length,
  };
  if (h.status === 'cancelled') expect(cancel.sent, 'cancelled only after a cancel request').toBe(true);
  if (cancel.accepted) expect(h.status, 'an accepted cancel ends the sync cancelled').toBe('cancelled');
  if (h.status !== 'cancelled') {
    expect(h.status, 'completed iff at least one item was created').toBe(
      counts.created > 0 ? 'completed' : 'failed',
    );
    // Every injected fault is transient: each node ends exactly as the rejections dictate.
    const expected = expectedOutcomes(nodes, schedule.rejects);
    const actual = new Map(items.map((i) => [i.ardoq_id, i.status]));
    const wrong = nodes
      .filter((n) => actual.get(n.ardoqId) !== expected.get(n.ardoqId))
      .map((n) => `${n.ardoqId}: ${actual.get(n.ardoqId)} (expected ${expected.get(n.ardoqId)})`);
    expect(wrong, 'each node ends as expected').toEqual([]);
  }
  if (h.status === 'failed') expect(h.error_message, 'a failed sync says why').toBeTruthy();
  return { syncId, status: h.status, ...counts };
}
