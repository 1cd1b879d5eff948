import type { StoredTypes } from '#core/domain/stored-types.ts';
import type { SyncHistory } from './sync-history-view.ts';
import type { Actor, ItemType, SyncStatus } from './sync-model.ts';

/** A sync as the pipeline sees it: its public view plus the internal state the use cases need. */
export interface SyncState {
  view: SyncHistory;
  status: SyncStatus;
  totalItems: number;
  /** Outcome rows so far (created + failed + skipped). */
  outcomes: number;
  lastEventSeq: number;
  /** Request options (process template hint, field mapping id). */
  options: Record<string, unknown>;
  /** The work item types `prepare` discovered (StoredTypes), once it ran. */
  workItemTypes: StoredTypes | null;
  /** The status a requested close leads to; the sync stays open until nothing is in flight. */
  closeRequested: 'cancelled' | 'failed' | null;
  /** Prepare attempts that failed and were postponed so far. */
  prepareAttempts: number;
  /** Overwrite mode: how many managed work items the first search found to delete. */
  overwriteTotal: number | null;
  /** Time the sync's work waited for Azure DevOps' throttling, in ms. */
  throttledMs: number;
  /**
   * When its items started being processed (`in_progress_at`, or for an older row `started_at`: see
   * sync-progress.ts `processingStart`); null while pending, and for a sync closed before it started.
   */
  processingStartedAt: Date | null;
}

/** What recording outcomes did. */
export interface RecordResult {
  /** Outcome rows this call really inserted (0 for a pure duplicate). */
  inserted: number;
  /** Of those, the `created` outcomes. */
  insertedCreated: number;
  sync: SyncState;
  /** Every node has its outcome: time to finalize. */
  complete: boolean;
}

/** One claimed node with everything the processor needs, read in the claiming statement. */
export interface ClaimedItem {
  syncId: string;
  ardoqId: string;
  itemType: ItemType;
  name: string;
  payload: Record<string, unknown>;
  /** Attempts including this one: > 1 means an earlier attempt may have reached Azure DevOps. */
  attempts: number;
  parentArdoqId: string | null;
  parentAzureDevOpsId: number | null;
  children: string[];
  syncStatus: SyncStatus;
  /** The status the sync is closing to (a cancel or a failure was requested): create nothing new. */
  closeRequested: 'cancelled' | 'failed' | null;
  projectName: string;
  targetConfigId: string | null;
  workItemTypes: StoredTypes | null;
  options: Record<string, unknown>;
  syncStartedAt: Date;
}

/** One numbered progress event (the SSE frames). */
export interface SyncEvent {
  seq: number;
  event: string;
  data: Record<string, unknown>;
}

/** A request to close an open sync (cancel, or fail while running). */
export interface CloseInput {
  syncId: string;
  /** cancelled: the user's message; failed: the error_message. */
  reason: string;
  /** The outcome message written on each node that had not started. */
  skipReason: string;
  actor?: Actor;
}

/** What the periodic sweep repairs, list by list (see SyncStore.sweepSyncs / sweepNodes). */
export type SweepSyncList = 'toFinalize' | 'pastDeadline' | 'prepareExpired' | 'toPrepare';
export type SweepNodeList = 'stranded' | 'unskippedParents';
export type NodeKey = { syncId: string; ardoqId: string };
