import { describe, expect, it } from 'vitest';
import { COUNTERS } from '#store/sync/counters.ts';
import { CLAIM_ITEMS, RELEASE_ITEMS } from '#store/sync/pipeline-rows.ts';
import {
  APPEND_EVENT,
  CREATE_SYNC,
  FINALIZE,
  INSERT_PLAN_CHUNK,
  MARK_IN_PROGRESS,
  POSTPONE_PREPARE,
  RECORD_DELETIONS,
  RECORD_OUTCOMES,
  REQUEST_CLOSE,
  SKIP_SUBTREE,
} from '#store/sync/statements.ts';

/** The statements every sync runs, per item or per sync, as the database receives them. */
const HOT: Record<string, string> = {
  CREATE_SYNC,
  INSERT_PLAN_CHUNK,
  MARK_IN_PROGRESS,
  CLAIM_ITEMS,
  RECORD_OUTCOMES,
  SKIP_SUBTREE,
  RELEASE_ITEMS,
  REQUEST_CLOSE,
  RECORD_DELETIONS,
  APPEND_EVENT,
  POSTPONE_PREPARE,
  FINALIZE,
};

describe('hot statements', () => {
  // A change of SQL shows in review as a diff of this file (`npx vitest run -u` rewrites it).
  it('render as the snapshot file says', async () => {
    const text = Object.entries(HOT)
      .map(([name, sql]) => `-- ${name}\n${sql.trim()};\n`)
      .join('\n');
    await expect(text).toMatchFileSnapshot('./__snapshots__/hot-statements.sql');
  });

  it('carry no JavaScript leftovers', () => {
    for (const [name, sql] of Object.entries(HOT)) {
      expect(sql, name).not.toMatch(/\$\{|undefined|\[object Object\]|NaN/);
    }
  });

  it('count and add each of the 12 counters exactly once per outcome statement', () => {
    expect(COUNTERS.map((c) => c.column)).toHaveLength(12);
    expect(new Set(COUNTERS.map((c) => c.column)).size).toBe(12);
    for (const [name, sql] of Object.entries({ RECORD_OUTCOMES, SKIP_SUBTREE, REQUEST_CLOSE })) {
      for (const { column } of COUNTERS) {
        const counted = sql.match(new RegExp(`\\)::int AS ${column}\\b`, 'g')) ?? [];
        expect(counted, `${name} counts ${column}`).toHaveLength(1);
        expect(sql.split(`${column} = s.${column} + c.${column}`).length - 1, `${name} adds ${column}`).toBe(
          1,
        );
      }
    }
  });
});
