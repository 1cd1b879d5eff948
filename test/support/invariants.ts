import { expect } from 'vitest';
import type { Queryable } from '#store/database.ts';
import { sqlUuid } from '#store/database.ts';

const TERMINAL = ['completed', 'failed', 'cancelled'];

/**
 * Checks DESIGN.md §4 on one sync straight from the tables: counters equal outcome rows (overall and
 * per type), at most one outcome per node (exactly one once terminal), events numbered 1..n without a
 * gap, one terminal audit log and one terminal event once terminal.
 */
export async function expectSyncInvariants(db: Queryable, syncId: string): Promise<void> {
  const id = sqlUuid(syncId);
  const { rows: hist } = await db.query('SELECT * FROM sync_history WHERE id = CAST(:id AS uuid)', { id });
  const h = hist[0];
  expect(h, `sync ${syncId} exists`).toBeDefined();
  if (!h) return;

  const { rows: counts } = await db.query<{ item_type: string; status: string; n: number }>(
    `SELECT item_type, status, count(*)::int AS n FROM sync_history_items
     WHERE sync_history_id = CAST(:id AS uuid) GROUP BY item_type, status`,
    { id },
  );
  const count = (status: string, type?: string) =>
    counts.filter((c) => c.status === status && (!type || c.item_type === type)).reduce((n, c) => n + c.n, 0);
  const actual = {
    items_created: count('created'),
    items_failed: count('failed'),
    items_skipped: count('skipped'),
    epics_created: count('created', 'epic'),
    epics_failed: count('failed', 'epic'),
    epics_skipped: count('skipped', 'epic'),
    features_created: count('created', 'feature'),
    features_failed: count('failed', 'feature'),
    features_skipped: count('skipped', 'feature'),
    user_stories_created: count('created', 'user_story'),
    user_stories_failed: count('failed', 'user_story'),
    user_stories_skipped: count('skipped', 'user_story'),
  };
  const stored = Object.fromEntries(Object.keys(actual).map((k) => [k, h[k]]));
  expect(stored, 'counters equal outcome rows').toEqual(actual);

  const { rows: orphans } = await db.query(
    `SELECT i.ardoq_id FROM sync_history_items i
     LEFT JOIN sync_plan_items p ON p.sync_history_id = i.sync_history_id AND p.ardoq_id = i.ardoq_id
     WHERE i.sync_history_id = CAST(:id AS uuid) AND p.ardoq_id IS NULL`,
    { id },
  );
  expect(orphans, 'every outcome belongs to a planned node').toEqual([]);

  const { rows: events } = await db.query<{ seq: number; event: string }>(
    'SELECT seq, event FROM sync_events WHERE sync_history_id = CAST(:id AS uuid) ORDER BY seq',
    { id },
  );
  expect(
    events.map((e) => e.seq),
    'events numbered 1..n without gaps',
  ).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
  expect(h.last_event_seq).toBe(events.length);
  const itemEvents = events.filter((e) => /^(epic|feature|userstory):/.test(e.event)).length;
  const outcomes = actual.items_created + actual.items_failed + actual.items_skipped;
  expect(itemEvents, 'one event per outcome').toBe(outcomes);

  const { rows: audits } = await db.query<{ action_type: string }>(
    `SELECT action_type FROM audit_logs WHERE entity_type = 'sync' AND entity_id = :entityId ORDER BY created_at`,
    { entityId: syncId },
  );
  const terminalAudits = audits.filter((a) => a.action_type !== 'sync_started');
  expect(audits.filter((a) => a.action_type === 'sync_started')).toHaveLength(1);
  const terminalEvents = events.filter((e) =>
    ['sync:complete', 'sync:error', 'sync:cancelled'].includes(e.event),
  );
  if (TERMINAL.includes(h.status as string)) {
    expect(outcomes, 'a terminal sync accounts for every node').toBe(h.total_items);
    expect(terminalAudits.map((a) => a.action_type)).toEqual([
      h.status === 'completed' ? 'sync_completed' : h.status === 'failed' ? 'sync_failed' : 'sync_cancelled',
    ]);
    expect(terminalEvents).toHaveLength(1);
    // Terminal means final: the terminal event is the last one, and nothing was written after it.
    expect(events.at(-1)?.event, 'the terminal event is the last one').toBe(terminalEvents[0]?.event);
    const { rows: late } = await db.query<{ what: string }>(
      `SELECT 'item ' || i.ardoq_id AS what FROM sync_history_items i JOIN sync_history s ON s.id = i.sync_history_id
       WHERE s.id = CAST(:id AS uuid) AND i.created_at > s.completed_at
       UNION ALL
       SELECT 'event ' || e.seq FROM sync_events e JOIN sync_history s ON s.id = e.sync_history_id
       WHERE s.id = CAST(:id AS uuid) AND e.created_at > s.completed_at
       UNION ALL
       SELECT 'open plan item ' || ardoq_id FROM sync_plan_items
       WHERE sync_history_id = CAST(:id AS uuid) AND state <> 'done'`,
      { id },
    );
    expect(late, 'nothing of a terminal sync is written or left open after its terminal status').toEqual([]);
  } else {
    expect(terminalAudits).toEqual([]);
    expect(terminalEvents).toEqual([]);
  }
}
