import { describe, expect, it } from 'vitest';
import type { SyncStatus } from '#core/domain/sync-model.ts';
import {
  etaSeconds,
  itemsPerSecond,
  processingStart,
  progressFields,
  type SyncProgress,
} from '#core/domain/sync-progress.ts';

const START = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);

const sync = (overrides: Partial<SyncProgress> = {}): SyncProgress => ({
  status: 'in_progress',
  totalItems: 100,
  outcomes: 25,
  processingStartedAt: START,
  throttledMs: 0,
  ...overrides,
});

describe('etaSeconds: remaining × elapsed ÷ processed, from the clock passed in', () => {
  it('measures the rate so far: 25 of 100 in 10 s leaves 75 items, 30 s', () => {
    expect(etaSeconds(sync(), at(10))).toBe(30);
    expect(etaSeconds(sync({ outcomes: 50 }), at(10))).toBe(10);
    expect(etaSeconds(sync({ outcomes: 1 }), at(2))).toBe(198);
  });

  it('rounds to whole seconds', () => {
    // 3 left × 1 s ÷ 2 = 1.5 s → 2; 1 left × 1.2 s ÷ 3 = 0.4 s → 0.
    expect(etaSeconds(sync({ totalItems: 5, outcomes: 2 }), at(1))).toBe(2);
    expect(etaSeconds(sync({ totalItems: 4, outcomes: 3 }), at(1.2))).toBe(0);
    expect(Number.isInteger(etaSeconds(sync({ totalItems: 7, outcomes: 3 }), at(1.234)))).toBe(true);
  });

  it('is null while there is no outcome yet', () => {
    expect(etaSeconds(sync({ outcomes: 0 }), at(60))).toBeNull();
  });

  it('is null while the sync is pending, even with outcomes (a close skipping its nodes)', () => {
    expect(etaSeconds(sync({ status: 'pending', outcomes: 0, processingStartedAt: null }), at(5))).toBeNull();
    expect(
      etaSeconds(sync({ status: 'pending', outcomes: 40, processingStartedAt: null }), at(5)),
    ).toBeNull();
  });

  it.each<SyncStatus>(['completed', 'failed', 'cancelled'])(
    'is 0 once %s, whatever the numbers',
    (status) => {
      expect(etaSeconds(sync({ status, outcomes: 100 }), at(10))).toBe(0);
      expect(etaSeconds(sync({ status, outcomes: 0, processingStartedAt: null }), at(10))).toBe(0);
    },
  );

  it('is 0 when every item has its outcome but the sync has not finished yet', () => {
    expect(etaSeconds(sync({ outcomes: 100 }), at(10))).toBe(0);
    // More outcomes than items cannot be stored; if it were, still 0, never negative.
    expect(etaSeconds(sync({ outcomes: 120 }), at(10))).toBe(0);
  });

  it('is never negative: a clock behind the processing start counts as no time elapsed', () => {
    expect(etaSeconds(sync(), at(-30))).toBe(0);
    expect(Object.is(etaSeconds(sync(), at(-30)), -0)).toBe(false);
    expect(etaSeconds(sync(), START)).toBe(0);
  });

  it('is null for a running sync without a processing start', () => {
    expect(etaSeconds(sync({ processingStartedAt: null }), at(10))).toBeNull();
  });
});

describe('processingStart', () => {
  const startedAt = new Date('2029-12-31T23:59:00.000Z');

  it('is in_progress_at when the row has it, whatever the status', () => {
    for (const status of ['in_progress', 'completed', 'cancelled'] as const) {
      expect(processingStart({ status, inProgressAt: START, startedAt })).toBe(START);
    }
  });

  it('falls back to started_at for a running sync without in_progress_at (started before migration 0012)', () => {
    expect(processingStart({ status: 'in_progress', inProgressAt: null, startedAt })).toBe(startedAt);
  });

  it('is null for a sync that never started processing', () => {
    for (const status of ['pending', 'cancelled', 'failed'] as const) {
      expect(processingStart({ status, inProgressAt: null, startedAt })).toBeNull();
    }
  });
});

describe('itemsPerSecond: the final measured rate', () => {
  it('is outcomes ÷ seconds from processing start, to 2 decimals', () => {
    expect(itemsPerSecond(sync({ status: 'completed', outcomes: 100 }), at(40))).toBe(2.5);
    expect(itemsPerSecond(sync({ status: 'completed', outcomes: 10 }), at(3))).toBe(3.33);
  });

  it('is null without outcomes, without a processing start, or without elapsed time', () => {
    expect(itemsPerSecond(sync({ outcomes: 0 }), at(10))).toBeNull();
    expect(itemsPerSecond(sync({ processingStartedAt: null }), at(10))).toBeNull();
    expect(itemsPerSecond(sync(), START)).toBeNull();
    expect(itemsPerSecond(sync(), at(-1))).toBeNull();
  });
});

describe('progressFields', () => {
  it('gives throttled_ms as stored and eta_seconds as etaSeconds does', () => {
    expect(progressFields(sync({ throttledMs: 3500 }), at(10))).toEqual({
      throttled_ms: 3500,
      eta_seconds: 30,
    });
    expect(progressFields(sync({ outcomes: 0 }), at(10))).toEqual({ throttled_ms: 0, eta_seconds: null });
    expect(progressFields(sync({ status: 'completed', throttledMs: 1200 }), at(10))).toEqual({
      throttled_ms: 1200,
      eta_seconds: 0,
    });
  });
});
