import type { MappingSnapshot } from '#core/domain/field-mapping.ts';
import type { StoredTypes } from '#core/domain/stored-types.ts';
import type { SyncHistory } from '#core/domain/sync-history-view.ts';
import type { NewSync, Outcome } from '#core/domain/sync-model.ts';
import type {
  ClaimedItem,
  CloseInput,
  NodeKey,
  RecordResult,
  SweepNodeList,
  SweepSyncList,
  SyncEvent,
  SyncState,
} from '#core/domain/sync-state.ts';
import type { SyncStore } from '#core/ports/sync-store.ts';
import type { Database } from '../database.ts';
import * as pipeline from './pipeline-rows.ts';
import * as rows from './sync-rows.ts';

/** `SyncStore` over SQL (PGlite, PostgreSQL or the Data API): the statements of this folder. */
export class SqlSyncStore implements SyncStore {
  constructor(private readonly db: Database) {}

  mappingOf(syncId: string): Promise<MappingSnapshot | null> {
    return rows.mappingOf(this.db, syncId);
  }

  fillMapping(syncId: string, fill: { mapping?: MappingSnapshot; projectId?: string }): Promise<void> {
    return rows.fillMapping(this.db, syncId, fill);
  }

  accept(sync: NewSync): Promise<SyncState> {
    return rows.createSync(this.db, sync);
  }
  get(syncId: string): Promise<SyncState> {
    return rows.getSync(this.db, syncId);
  }
  async view(syncId: string): Promise<SyncHistory> {
    return (await rows.getSync(this.db, syncId)).view;
  }
  claimPrepare(syncId: string, staleSeconds: number): Promise<SyncState | null> {
    return rows.claimPrepare(this.db, syncId, staleSeconds);
  }
  releasePrepare(syncId: string): Promise<void> {
    return rows.releasePrepare(this.db, syncId);
  }
  postponePrepare(
    syncId: string,
    retry: Parameters<SyncStore['postponePrepare']>[1],
  ): Promise<{ sync: SyncState; delaySeconds: number } | null> {
    return rows.postponePrepare(this.db, syncId, retry);
  }
  recordDeletions(
    syncId: string,
    deleted: number,
    event: { name: string; data: Record<string, unknown> },
  ): Promise<{ deletionCount: number; closing: boolean }> {
    return rows.recordDeletions(this.db, syncId, deleted, event);
  }
  start(syncId: string, workItemTypes: StoredTypes): Promise<SyncState | null> {
    return rows.markInProgress(this.db, syncId, workItemTypes);
  }
  rootItems(syncId: string): Promise<string[]> {
    return pipeline.listRootItems(this.db, syncId);
  }
  claimItems(syncId: string, ardoqIds: readonly string[], staleSeconds: number): Promise<ClaimedItem[]> {
    return pipeline.claimItems(this.db, syncId, ardoqIds, staleSeconds);
  }
  releaseItems(
    syncId: string,
    ardoqIds: readonly string[],
    reachedAdo: boolean,
    throttledMs = 0,
  ): Promise<string[]> {
    return pipeline.releaseItems(this.db, syncId, ardoqIds, reachedAdo, throttledMs);
  }
  recordOutcomes(syncId: string, outcomes: readonly Outcome[]): Promise<RecordResult> {
    return rows.recordOutcomes(this.db, syncId, outcomes);
  }
  skipSubtree(syncId: string, rootArdoqId: string): Promise<RecordResult> {
    return rows.skipSubtree(this.db, syncId, rootArdoqId);
  }
  requestClose(to: 'cancelled' | 'failed', input: CloseInput): Promise<SyncState | null> {
    return rows.requestClose(this.db, to, input);
  }
  finishIfDone(syncId: string, staleSeconds: number): Promise<SyncState | null> {
    return rows.finalizeSync(this.db, syncId, { staleSeconds });
  }
  closingTo(syncId: string): Promise<'cancelled' | 'failed' | null> {
    return rows.closingTo(this.db, syncId);
  }
  appendEvent(
    syncId: string,
    name: string,
    data: Record<string, unknown>,
    options?: { overwriteTotal?: number },
  ): Promise<number> {
    return rows.appendEvent(this.db, syncId, name, data, options);
  }
  events(syncId: string, afterSeq: number, limit?: number): Promise<SyncEvent[]> {
    return rows.listEvents(this.db, syncId, afterSeq, limit);
  }
  sweepSyncs(list: SweepSyncList, staleSeconds: number, limit: number, after?: string): Promise<string[]> {
    return pipeline.sweepSyncPage(this.db, list, staleSeconds, limit, after);
  }
  sweepNodes(list: SweepNodeList, staleSeconds: number, limit: number, after?: NodeKey): Promise<NodeKey[]> {
    return pipeline.sweepNodePage(this.db, list, staleSeconds, limit, after);
  }
  expireClaimsAfterRestart(): Promise<number> {
    return pipeline.expireClaimsAfterRestart(this.db);
  }
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
