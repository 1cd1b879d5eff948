import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type LocalSystem, type LocalSystemOptions, startLocalSystem } from '#bin/local/local-system.ts';
import type { SyncHistory } from '#core/domain/sync-history-view.ts';
import { type Log, silentLog } from '#core/pipeline/deps.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import type { WorkQueue } from '#core/ports/work-queue.ts';
import { type AdoSimulator, type SimFaults, startAdoSimulator } from '#sim/ado/index.ts';
import type { Database, Queryable } from '#store/database.ts';
import { sqlUuid } from '#store/database.ts';
import { expectSyncInvariants } from './invariants.ts';
import { buildTree } from './trees.ts';

export interface TestSystem extends LocalSystem {
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  startSync(project: string, body: unknown, query?: string): Promise<string>;
  waitForTerminal(syncId: string, timeoutMs?: number): Promise<SyncHistory>;
  close(): Promise<void>;
}

/**
 * The test hooks around the local runtime: a simulator with faults of its own (started here and handed
 * over), and interposers on the handlers' ports (fault injection).
 */
export interface TestSystemOptions extends Partial<LocalSystemOptions> {
  simulatorFaults?: SimFaults;
  simulatorSeed?: number;
  wrapDb?: (db: Database) => Database;
  wrapTrackers?: (factory: WorkItemTrackerFactory) => WorkItemTrackerFactory;
  wrapQueue?: (queue: WorkQueue) => WorkQueue;
}

/** The runtime's options for `options` (a simulator with faults is started and returned too). */
export async function withTestHooks(
  options: TestSystemOptions,
): Promise<{ options: Partial<LocalSystemOptions>; simulator?: AdoSimulator }> {
  const { simulatorFaults, simulatorSeed, wrapDb, wrapTrackers, wrapQueue, ...rest } = options;
  const pat = rest.simulatorPat ?? randomBytes(16).toString('hex');
  const simulator =
    simulatorFaults || simulatorSeed !== undefined
      ? await startAdoSimulator({
          pat,
          port: 0,
          ...(simulatorFaults ? { faults: simulatorFaults } : {}),
          ...(simulatorSeed !== undefined ? { seed: simulatorSeed } : {}),
        })
      : undefined;
  return {
    options: {
      ...rest,
      ...(simulator ? { simulatorInstance: simulator, simulatorPat: pat } : {}),
      interpose: {
        ...rest.interpose,
        ...(wrapDb ? { db: wrapDb } : {}),
        ...(wrapTrackers ? { trackers: wrapTrackers } : {}),
        ...(wrapQueue ? { queue: wrapQueue } : {}),
      },
    },
    ...(simulator ? { simulator } : {}),
  };
}

/** The local system on a free port with a temporary data directory, plus HTTP helpers. */
export async function startTestSystem(input: TestSystemOptions = {}): Promise<TestSystem> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ardoq-sync-e2e-'));
  const { options, simulator: ownSimulator } = await withTestHooks(input);
  const system = await startLocalSystem({
    port: 0,
    dataDir,
    processorConcurrency: 4,
    visibilityTimeoutSeconds: 3,
    sweepIntervalMs: 1_000,
    simulatorPort: 0,
    log: silentLog,
    ...options,
    settings: { staleSeconds: 2, transientRetrySeconds: 1, ...options.settings },
  });
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${system.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    ...system,
    request,
    async startSync(project, body, query = '') {
      const res = await request<{ data: { sync_history_id: string } }>(
        'POST',
        `/api/azure-devops/projects/${encodeURIComponent(project)}/workitems${query}`,
        body,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return res.body.data.sync_history_id;
    },
    async waitForTerminal(syncId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await request<{ data: SyncHistory }>('GET', `/api/sync-history/${syncId}`);
        if (['completed', 'failed', 'cancelled'].includes(res.body.data?.status)) return res.body.data;
        if (Date.now() > deadline)
          throw new Error(`sync ${syncId} not terminal after ${timeoutMs} ms: ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await system.stop();
      await ownSimulator?.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A request tree of epics × features × stories with unique ids and titles. */
export const tree = (epics: number, features: number, stories: number, prefix: string) =>
  buildTree(epics, features, () => stories, prefix);

/**
 * The Azure DevOps side of the invariants: every created outcome names a work item that exists, under
 * the work item of its parent; no node has more than one work item (no duplicates); failed and
 * skipped nodes have none.
 */
export async function expectAdoConsistent(system: LocalSystem, db: Queryable, syncId: string): Promise<void> {
  const sim = system.simulator;
  if (!sim) throw new Error('no simulator');
  const { rows } = await db.query<{
    ardoq_id: string;
    status: string;
    azure_devops_id: number | null;
    parent_ardoq_id: string | null;
  }>(
    `SELECT i.ardoq_id, i.status, i.azure_devops_id, p.parent_ardoq_id
     FROM sync_history_items i JOIN sync_plan_items p
       ON p.sync_history_id = i.sync_history_id AND p.ardoq_id = i.ardoq_id
     WHERE i.sync_history_id = CAST(:id AS uuid)`,
    { id: sqlUuid(syncId) },
  );
  const marker = (ardoqId: string) => `ardoq-sync:${syncId}:${ardoqId}`;
  const byMarker = new Map<string, number[]>();
  for (const item of [...sim.workItems(), ...sim.recycleBin()]) {
    for (const rel of item.relations) {
      const comment = rel.attributes.comment;
      if (
        rel.rel === 'Hyperlink' &&
        typeof comment === 'string' &&
        comment.startsWith(`ardoq-sync:${syncId}:`)
      ) {
        byMarker.set(comment, [...(byMarker.get(comment) ?? []), item.id]);
      }
    }
  }
  const adoIdOf = new Map(rows.map((r) => [r.ardoq_id, r.azure_devops_id]));
  const workItems = new Map(sim.workItems().map((w) => [w.id, w]));
  for (const row of rows) {
    const found = byMarker.get(marker(row.ardoq_id)) ?? [];
    if (row.status === 'created') {
      expect(found, `exactly one work item for ${row.ardoq_id}`).toEqual([row.azure_devops_id]);
      const workItem = workItems.get(row.azure_devops_id as number);
      expect(workItem, `work item ${row.azure_devops_id} exists`).toBeDefined();
      const parentLink = workItem?.relations.find((r) => r.rel === 'System.LinkTypes.Hierarchy-Reverse');
      if (row.parent_ardoq_id) {
        expect(
          parentLink?.url.endsWith(`/${adoIdOf.get(row.parent_ardoq_id)}`),
          `${row.ardoq_id} under its parent`,
        ).toBe(true);
      } else {
        expect(parentLink).toBeUndefined();
      }
    } else {
      expect(found, `no work item for ${row.status} ${row.ardoq_id}`).toEqual([]);
    }
  }
  await expectSyncInvariants(db, syncId);
}

/** A `Log` that keeps every entry as one JSON line, to search what operators would read. */
export function captureLog(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...attributes }));
  };
  return {
    lines,
    log: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
  };
}
