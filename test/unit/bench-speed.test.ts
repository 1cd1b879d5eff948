import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqlJson } from '#store/database.ts';
import * as SQL from '#store/sync/statements.ts';
import { figure } from '../../bench/report.ts';
import { allowedMs, baselineFigures, comparisonTable } from '../../bench/speed.ts';
import { summarize } from '../../bench/thread-statements.ts';

describe('bench section 9 (speed)', () => {
  it('the least time a sliding-window limit allows: one window per limit charged beyond the first', () => {
    // 300 TSTU per 10 s from an empty window: 300 at once, 600 by 10 s, 2,100 by 60 s.
    expect(allowedMs(300, 300, 10_000, 1_000)).toBe(1_000);
    expect(allowedMs(301, 300, 10_000, 1_000)).toBe(10_000);
    expect(allowedMs(2_020.3, 300, 10_000, 1_000)).toBe(60_000);
    expect(allowedMs(2_100, 300, 10_000, 1_000)).toBe(60_000);
    expect(allowedMs(10, 300, 10_000, 2_500)).toBe(2_500);
  });

  it('prints today beside new, row by row, and says when today was not measured', () => {
    const target = { op: '<=' as const, value: 1.05 };
    const now = [
      figure('ratio', 1.08, '×', 'w', target),
      figure('failed', 0, '', 'w', { op: '<=', value: 0 }),
    ];
    const lines = comparisonTable([figure('ratio', 1.27, '×', 'w', target)], now);
    expect(lines[0]).toMatch(/figure\s+\| today\s+\| new\s+\| target\s+\| verdict/);
    expect(lines[2]).toMatch(/ratio\s+\| 1\.27 ×\s+\| 1\.08 ×\s+\| ≤ 1\.05 ×\s+\| MISSED/);
    expect(lines[3]).toMatch(/failed\s+\| not measured\s+\| 0\s+\| ≤ 0\s+\| met/);
  });

  it('reads the baseline figures of section 9 from an earlier results file, and refuses one without', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-speed-'));
    try {
      const file = join(dir, 'results.json');
      const figures = [figure('ratio', 1.27, '×', 'w')];
      await writeFile(
        file,
        JSON.stringify({
          sections: [
            { id: '1', figures: [] },
            { id: '9', figures },
          ],
        }),
      );
      await expect(baselineFigures(file)).resolves.toEqual(figures);
      await writeFile(file, JSON.stringify({ sections: [{ id: '1', figures: [] }] }));
      await expect(baselineFigures(file)).rejects.toThrow(/no section 9/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a processor thread posts only what the bench reads of a statement: its kind, rows' ids and status, outcome ids", () => {
    const summary = summarize({
      sql: SQL.RECORD_OUTCOMES,
      params: { outcomes: sqlJson([{ ardoq_id: 'a', status: 'created', azure_devops_url: 'https://x' }]) },
      rows: [{ id: 's1', status: 'in_progress', total_items: 3, work_item_types: { big: true } }],
      startEpochMs: 1,
      endEpochMs: 2,
      inTransaction: false,
      failed: false,
    });
    expect(summary).toEqual({
      sql: '',
      kind: 'record-outcomes',
      params: { outcomes: { kind: 'json', value: [{ ardoq_id: 'a' }] } },
      rows: [{ id: 's1', status: 'in_progress', total_items: 3 }],
      startEpochMs: 1,
      endEpochMs: 2,
      inTransaction: false,
      failed: false,
    });
  });
});
