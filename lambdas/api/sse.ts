import { TERMINAL_STATUSES } from '#core/domain/sync-model.ts';
import { progressFields, type SyncProgress } from '#core/domain/sync-progress.ts';
import type { SyncEvent } from '#core/domain/sync-state.ts';
import type { SyncStore } from '#core/ports/sync-store.ts';

/** Where a stream writes; `closed` turns true when the client went away. */
export interface StreamSink {
  write(chunk: string): Promise<void>;
  closed(): boolean;
}

/** A streamed answer (SSE): the local adapter and the Lambda response stream both pump it. */
export interface StreamResult {
  kind: 'stream';
  statusCode: number;
  headers: Record<string, string>;
  pump(sink: StreamSink): Promise<void>;
}

export const TERMINAL_EVENTS = new Set(['sync:complete', 'sync:error', 'sync:cancelled']);

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** An item's outcome (`epic:created`, `userstory:failed`, …): the events that report a sync's progress. */
const ITEM_EVENT = /^(epic|feature|userstory):(created|failed)$/;

/** The progress events: each item outcome, and the final event. */
const isProgressEvent = (name: string): boolean => ITEM_EVENT.test(name) || TERMINAL_EVENTS.has(name);

/**
 * A progress event as it is sent: its logged data plus the sync's `throttled_ms` and `eta_seconds`
 * (sync-progress.ts, the same numbers as the history row's view) at `now`, read when the frame is
 * sent (a replay shows the sync's numbers then, not those of the moment the item was recorded). Other
 * events are sent as logged.
 */
function withProgress(event: SyncEvent, sync: SyncProgress, now: Date): SyncEvent {
  if (!isProgressEvent(event.event)) return event;
  return { ...event, data: { ...event.data, ...progressFields(sync, now) } };
}

/** One frame exactly as the frontend parses it (CONTRACT.md §3): id, event, one-line JSON data. */
export function frame(event: SyncEvent): string {
  return `id: ${event.seq}\nevent: ${event.event}\ndata: ${JSON.stringify({ type: event.event, data: event.data })}\n\n`;
}

export interface TailOptions {
  pollMs: number;
  heartbeatMs: number;
  /** API Gateway streams for 15 minutes at most: end before, the client resumes with Last-Event-ID. */
  maxDurationMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

// Heartbeats every 10 s: with a poll of 300 ms, a gap never reaches the contract's 15 s.
export const DEFAULT_TAIL: TailOptions = { pollMs: 300, heartbeatMs: 10_000, maxDurationMs: 14 * 60_000 };

/** The number of the sync's terminal event (its last one), or null while it runs. */
async function terminalSeq(syncs: SyncStore, syncId: string): Promise<number | null> {
  const sync = await syncs.get(syncId);
  return TERMINAL_STATUSES.includes(sync.status) ? sync.lastEventSeq : null;
}

/**
 * Streams a sync's events after `afterSeq` from the `sync_events` log and follows it live until the
 * terminal event: a reconnect loses nothing and repeats nothing (ids are the log's sequence numbers).
 * Heartbeat comments keep proxies from closing an idle stream. A page of events with progress events
 * among them reads the sync once more, for their `throttled_ms` and `eta_seconds` (see withProgress).
 */
export async function tailEvents(
  syncs: SyncStore,
  syncId: string,
  afterSeq: number,
  sink: StreamSink,
  options: TailOptions = DEFAULT_TAIL,
): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  let lastWrite = now();
  let after = afterSeq;
  await sink.write('retry: 3000\n\n');
  const end = await terminalSeq(syncs, syncId);
  if (end !== null && after >= end) return;
  while (!sink.closed()) {
    const events = await syncs.events(syncId, after, 500);
    // Read after the events: the sync's numbers include every outcome these events report.
    const sync = events.some((e) => isProgressEvent(e.event)) ? await syncs.get(syncId) : null;
    const sentAt = new Date(now());
    for (const event of events) {
      if (sink.closed()) return;
      await sink.write(frame(sync ? withProgress(event, sync, sentAt) : event));
      lastWrite = now();
      after = event.seq;
      if (TERMINAL_EVENTS.has(event.event)) return;
    }
    if (events.length === 500) continue;
    if (now() - started >= options.maxDurationMs) return;
    if (now() - lastWrite >= options.heartbeatMs) {
      await sink.write(': ping\n\n');
      lastWrite = now();
    }
    await sleep(options.pollMs);
  }
}
