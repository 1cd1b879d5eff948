import { PassThrough, type Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '#adapters/migration-files.ts';
import { PgliteDatabase } from '#adapters/pglite-database.ts';
import { frame, SSE_HEADERS, type StreamSink, tailEvents } from '#lambdas/api/sse.ts';
import { writeToResponseStream } from '#lambdas/stream/response-stream.ts';
import { runMigrations } from '#store/migrations.ts';
import { claimItems, releaseItems } from '#store/sync/pipeline-rows.ts';
import { SqlSyncStore } from '#store/sync/sql-sync-store.ts';
import {
  appendEvent,
  closeSync,
  createSync,
  finalizeSync,
  listEvents,
  markInProgress,
  recordOutcomes,
} from '#store/sync/sync-rows.ts';
import { buildPlan, createdOutcome, newSync } from '#test/support/factories.ts';

/** Plays `awslambda.HttpResponseStream.from`: records the metadata, passes the stream through. */
function fakeRuntime() {
  const metadata: Array<{ statusCode: number; headers: Record<string, string> }> = [];
  return {
    metadata,
    from: (stream: Writable, meta: { statusCode: number; headers: Record<string, string> }) => {
      metadata.push(meta);
      return stream;
    },
  };
}

function collect(stream: PassThrough): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    stream.on('end', () => resolve(text));
  });
}

describe('SSE streaming', () => {
  let db: PgliteDatabase;
  beforeAll(async () => {
    db = await PgliteDatabase.create();
    await runMigrations(db, await readMigrations());
  });
  afterAll(async () => db?.close());

  it('writes a buffered answer to the Lambda response stream with its status and headers', async () => {
    const runtime = fakeRuntime();
    const stream = new PassThrough();
    const body = collect(stream);
    await writeToResponseStream(
      { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"ok":1}' },
      stream,
      runtime,
    );
    expect(await body).toBe('{"ok":1}');
    expect(runtime.metadata).toEqual([{ statusCode: 202, headers: { 'content-type': 'application/json' } }]);
  });

  it('streams a finished sync from the log as frames through the Lambda response stream, then ends', async () => {
    const sync = await createSync(db, newSync(buildPlan(1)));
    await closeSync(db, 'cancelled', { syncId: sync.view.id, reason: 'stop', skipReason: 'stop' });
    const runtime = fakeRuntime();
    const stream = new PassThrough();
    const body = collect(stream);
    await writeToResponseStream(
      {
        kind: 'stream',
        statusCode: 200,
        headers: SSE_HEADERS,
        pump: (sink) => tailEvents(new SqlSyncStore(db), sync.view.id, 0, sink),
      },
      stream,
      runtime,
    );
    const text = await body;
    expect(runtime.metadata[0]?.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(text.startsWith('retry: 3000\n\n')).toBe(true);
    expect(text).toContain('id: 1\nevent: sync:accepted\ndata: {"type":"sync:accepted","data":');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(
      /^id: 3\nevent: sync:cancelled\ndata: \{"type":"sync:cancelled"/,
    );
  });

  it('formats one frame per event with one-line JSON even when data holds line breaks', () => {
    expect(frame({ seq: 7, event: 'epic:failed', data: { error: 'a\nb' } })).toBe(
      'id: 7\nevent: epic:failed\ndata: {"type":"epic:failed","data":{"error":"a\\nb"}}\n\n',
    );
  });

  it('sends heartbeats while idle and ends at its maximum duration so the client resumes', async () => {
    const sync = await createSync(db, newSync(buildPlan(1)));
    let now = 0;
    const chunks: string[] = [];
    const sink: StreamSink = { write: async (c) => void chunks.push(c), closed: () => false };
    await tailEvents(new SqlSyncStore(db), sync.view.id, 1, sink, {
      pollMs: 1_000,
      heartbeatMs: 15_000,
      maxDurationMs: 60_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    expect(chunks.filter((c) => c === ': ping\n\n').length).toBe(3);
    expect(chunks.some((c) => c.startsWith('id:'))).toBe(false);
  });

  it('resumes after Last-Event-ID without repeating, and closes at once when the terminal event was seen', async () => {
    const sync = await createSync(db, newSync(buildPlan(1), { overwriteMode: true }));
    await appendEvent(db, sync.view.id, 'overwrite:started', { message: 'm' });
    await closeSync(db, 'failed', { syncId: sync.view.id, reason: 'boom', skipReason: 'boom' });
    const read = async (after: number) => {
      const chunks: string[] = [];
      await tailEvents(new SqlSyncStore(db), sync.view.id, after, {
        write: async (c) => void chunks.push(c),
        closed: () => false,
      });
      return chunks.filter((c) => c.startsWith('id:')).map((c) => Number(/^id: (\d+)/.exec(c)?.[1]));
    };
    expect(await read(0)).toEqual([1, 2, 3, 4]);
    expect(await read(2)).toEqual([3, 4]);
    expect(await read(4)).toEqual([]);
  });

  it('adds throttled_ms and eta_seconds to the progress events (items, the final event) at the stream’s clock', async () => {
    const plan = buildPlan(4);
    const sync = await createSync(db, newSync(plan));
    const id = sync.view.id;
    await markInProgress(db, id);
    // Processing started a minute ago (throttled_ms never exceeds the time the sync has been processing).
    await db.query(
      `UPDATE sync_history SET in_progress_at = now() - interval '60 seconds' WHERE id = CAST(:id AS uuid)`,
      {
        id,
      },
    );
    await claimItems(db, id, [plan[1]!.ardoqId], 30);
    await releaseItems(db, id, [plan[1]!.ardoqId], false, 2500);
    await recordOutcomes(db, id, [createdOutcome(plan[0]!.ardoqId, 1)]);
    const { rows } = await db.query<{ in_progress_at: Date }>(
      'SELECT in_progress_at FROM sync_history WHERE id = CAST(:id AS uuid)',
      { id },
    );
    const start = rows[0]!.in_progress_at.getTime();
    const read = async (after: number, at: number) => {
      let now = at;
      const chunks: string[] = [];
      await tailEvents(
        new SqlSyncStore(db),
        id,
        after,
        { write: async (c) => void chunks.push(c), closed: () => false },
        {
          pollMs: 1_000,
          heartbeatMs: 60_000,
          maxDurationMs: 1_000,
          now: () => now,
          sleep: async (ms) => {
            now += ms;
          },
        },
      );
      return chunks
        .filter((c) => c.startsWith('id:'))
        .map((c) => JSON.parse(/\ndata: (.*)\n/.exec(c)?.[1] ?? '{}') as { type: string; data: object });
    };

    // 1 of 4 items done, 20 s after processing started: 3 × 20 ÷ 1 = 60 s left.
    const running = await read(0, start + 20_000);
    expect(running.map((f) => f.type)).toEqual(['sync:accepted', 'sync:started', 'epic:created']);
    expect(running[0]?.data).not.toHaveProperty('throttled_ms');
    expect(running[1]?.data).toEqual({ timestamp: expect.any(String) });
    expect(running[2]?.data).toMatchObject({
      ardoqId: plan[0]!.ardoqId,
      throttled_ms: 2500,
      eta_seconds: 60,
    });
    // The same function as the history row's view, at the stream's clock: 5 s after the start, 15 s.
    expect((await read(2, start + 5_000))[0]?.data).toMatchObject({ throttled_ms: 2500, eta_seconds: 15 });
    // A clock behind the database's: never negative.
    expect((await read(2, start - 5_000))[0]?.data).toMatchObject({ eta_seconds: 0 });

    await recordOutcomes(
      db,
      id,
      plan.slice(1).map((n, i) => createdOutcome(n.ardoqId, 2 + i)),
    );
    await finalizeSync(db, id);
    const finished = await read(3, start + 40_000);
    expect(finished.map((f) => f.type)).toEqual([
      'epic:created',
      'epic:created',
      'epic:created',
      'sync:complete',
    ]);
    for (const f of finished) expect(f.data).toMatchObject({ throttled_ms: 2500, eta_seconds: 0 });
    expect(finished.at(-1)?.data).toMatchObject({ summary: { total: 4, created: 4 } });
    // Added when sent: the log keeps what was recorded.
    for (const event of await listEvents(db, id)) expect(event.data).not.toHaveProperty('eta_seconds');
  });

  it('stops writing when the client is gone', async () => {
    const sync = await createSync(db, newSync(buildPlan(1)));
    const chunks: string[] = [];
    await tailEvents(new SqlSyncStore(db), sync.view.id, 0, {
      write: async (c) => void chunks.push(c),
      closed: () => chunks.length >= 1,
    });
    expect(chunks).toEqual(['retry: 3000\n\n']);
  });
});
