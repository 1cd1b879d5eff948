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

/**
 * The `SyncStore` port: the syncs, their plans, outcomes and numbered events, with domain verbs. Every
 * state change is atomic (one statement, or one transaction for a very large plan) together with its
 * counters, events and audit entry, so nothing is half-written and a repeated call changes nothing
 * twice (at-least-once delivery).
 */
export interface SyncStore {
  /** Writes a new pending sync with its whole plan, `sync_started` audit entry and `sync:accepted` event. */
  accept(sync: NewSync): Promise<SyncState>;
  /** One sync; `NotFoundError` for an unknown id. */
  get(syncId: string): Promise<SyncState>;
  /** Its public view; `NotFoundError` for an unknown id. */
  view(syncId: string): Promise<SyncHistory>;
  /** The field mapping frozen for the sync, or null while prepare has not chosen one. */
  mappingOf(syncId: string): Promise<MappingSnapshot | null>;
  /** Freezes the mapping prepare chose (only when none is) and records the project's GUID (once). */
  fillMapping(syncId: string, fill: { mapping?: MappingSnapshot; projectId?: string }): Promise<void>;

  // ---- the prepare step
  /** Takes the prepare step of a pending sync (null: not pending, or another prepare holds it). */
  claimPrepare(syncId: string, staleSeconds: number): Promise<SyncState | null>;
  /** Gives the prepare claim back so a retry can take it at once. */
  releasePrepare(syncId: string): Promise<void>;
  /**
   * Counts a failed prepare attempt and schedules the next one after `delaySeconds` (or at the end of
   * the retry window opened at the first failure), with its event; null when the window is over.
   */
  postponePrepare(
    syncId: string,
    retry: {
      delaySeconds: number;
      budgetMinutes: number;
      event?: { name: string; data: Record<string, unknown> };
    },
  ): Promise<{ sync: SyncState; delaySeconds: number } | null>;
  /** Counts a chunk of deleted work items with its event; says whether a close was requested meanwhile. */
  recordDeletions(
    syncId: string,
    deleted: number,
    event: { name: string; data: Record<string, unknown> },
  ): Promise<{ deletionCount: number; closing: boolean }>;
  /** pending → in_progress with the discovered types (null: not pending, or closing). */
  start(syncId: string, workItemTypes: StoredTypes): Promise<SyncState | null>;
  /** The epics still to do (what `prepare` enqueues). */
  rootItems(syncId: string): Promise<string[]>;

  // ---- items
  /** Claims nodes for processing (a whole batch): exactly one processor holds a node at a time. */
  claimItems(syncId: string, ardoqIds: readonly string[], staleSeconds: number): Promise<ClaimedItem[]>;
  /** Gives claimed nodes back for a retry; returns those given back (see releaseItems). */
  releaseItems(
    syncId: string,
    ardoqIds: readonly string[],
    reachedAdo: boolean,
    throttledMs?: number,
  ): Promise<string[]>;
  /** Records outcomes (inserted once per node; counters and events only for new rows). */
  recordOutcomes(syncId: string, outcomes: readonly Outcome[]): Promise<RecordResult>;
  /** Skips every descendant of a node that was not created. */
  skipSubtree(syncId: string, rootArdoqId: string): Promise<RecordResult>;

  // ---- closing
  /** Asks an open sync to close: skips what had not started; the sync stays open while creates finish. */
  requestClose(to: 'cancelled' | 'failed', input: CloseInput): Promise<SyncState | null>;
  /** The terminal transition once every node has its outcome (null: nothing to do yet). */
  finishIfDone(syncId: string, staleSeconds: number): Promise<SyncState | null>;
  /** What the sync is closing to (null: it goes on); a terminal or unknown sync counts as closing. */
  closingTo(syncId: string): Promise<'cancelled' | 'failed' | null>;

  // ---- events
  /** Appends a progress event to an open sync; returns its number. */
  appendEvent(
    syncId: string,
    name: string,
    data: Record<string, unknown>,
    options?: { overwriteTotal?: number },
  ): Promise<number>;
  /** The events after `afterSeq`, in order. */
  events(syncId: string, afterSeq: number, limit?: number): Promise<SyncEvent[]>;

  // ---- repair
  /** One page (in id order, after `after`) of syncs the sweep must repair. */
  sweepSyncs(list: SweepSyncList, staleSeconds: number, limit: number, after?: string): Promise<string[]>;
  /** One page (in key order, after `after`) of nodes the sweep must repair. */
  sweepNodes(list: SweepNodeList, staleSeconds: number, limit: number, after?: NodeKey): Promise<NodeKey[]>;
  /**
   * After a restart of a runtime whose queue lived in memory (the local one): every claim is expired and
   * every prepare claim given back, so the sweep resends their work at once. Returns the open syncs.
   */
  expireClaimsAfterRestart(): Promise<number>;
  /** Whether the database answers (the health check). */
  ping(): Promise<void>;
}
