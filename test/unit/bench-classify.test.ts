import { describe, expect, it } from 'vitest';
import { CLAIM_ITEMS, RELEASE_ITEMS } from '#store/sync/pipeline-rows.ts';
import * as SQL from '#store/sync/statements.ts';
import { classify } from '../../bench/counting-db.ts';

/**
 * The benchmarks tell statements apart by their text (bench/counting-db.ts): the per-item timeline, the
 * statement counts and the moment a sync ends (the terminal statement, not a poll) depend on it. A
 * statement reworded without its pattern would silently skew every figure.
 */
describe("the bench's statement classifier knows the pipeline's statements", () => {
  it.each([
    ['claim-item', CLAIM_ITEMS],
    ['release-item', RELEASE_ITEMS],
    ['record-outcomes', SQL.RECORD_OUTCOMES],
    ['skip-subtree', SQL.SKIP_SUBTREE],
    ['create-sync', SQL.CREATE_SYNC],
    ['mark-in-progress', SQL.MARK_IN_PROGRESS],
    ['finalize', SQL.FINALIZE],
    ['record-deletions', SQL.RECORD_DELETIONS],
    ['append-event', SQL.APPEND_EVENT],
  ])('%s', (kind, sql) => {
    expect(classify(sql)).toBe(kind);
  });
});
