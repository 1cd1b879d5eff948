import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdoRejectedError, type WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import {
  ErrorBody,
  EventData,
  type EventName,
  expectShape,
  okBody,
  SyncHistoryShape,
} from '#test/support/contract-schemas.ts';
import { type ContractSystem, startContractSystem, unique } from '#test/support/contract-system.ts';
import { tree } from '#test/support/e2e.ts';
import { openSse, openStream, parseBlock, type SseFrame } from '#test/support/sse-client.ts';

/** Projects whose overwrite deletion Azure DevOps refuses (the simulator has no knob for that). */
const BROKEN = 'SSE Broken';
const refuseDeletes: (factory: WorkItemTrackerFactory) => WorkItemTrackerFactory =
  (factory) => (connection) => {
    const tracker = factory(connection);
    return {
      listProjects: () => tracker.listProjects(),
      getProject: (idOrName) => tracker.getProject(idOrName),
      createProject: (project) => tracker.createProject(project),
      getOperation: (id) => tracker.getOperation(id),
      listProcesses: () => tracker.listProcesses(),
      listWorkItemTypes: (project) => tracker.listWorkItemTypes(project),
      listFields: (project, type) => tracker.listFields(project, type),
      listFieldDefinitions: (project) => tracker.listFieldDefinitions(project),
      listProcessTypes: (processTypeId) => tracker.listProcessTypes(processTypeId),
      createWorkItem: (project, item) => tracker.createWorkItem(project, item),
      searchWorkItems: (project, search) => tracker.searchWorkItems(project, search),
      getWorkItems: (ids) => tracker.getWorkItems(ids),
      deleteWorkItems: async (project, ids) => {
        if (project.startsWith(BROKEN)) throw new AdoRejectedError('TF401232: deletion refused by test', 403);
        return tracker.deleteWorkItems(project, ids);
      },
    };
  };

const TERMINAL = ['sync:complete', 'sync:error', 'sync:cancelled'];

/** Every frame's data has exactly the keys of its event; ids run 1..n; exactly one terminal event, last. */
function expectWellFormed(frames: readonly SseFrame[], firstId = 1): void {
  frames.forEach((frame, index) => {
    expect(frame.id, 'ids increase by one').toBe(firstId + index);
    expect(Object.keys(EventData), `known event ${frame.event}`).toContain(frame.event);
    expectShape(EventData[frame.event as EventName], frame.data, `${frame.event} #${frame.id}`);
  });
  const terminal = frames.filter((f) => TERMINAL.includes(f.event));
  expect(terminal.length, 'one terminal event').toBeLessThanOrEqual(1);
  if (terminal.length === 1) expect(frames.at(-1)).toBe(terminal[0]);
}

/**
 * The frames as the event log holds them: without `throttled_ms` and `eta_seconds`, the sync's numbers
 * added to each progress event (item outcomes, the final event) when the frame is sent. A replay or a
 * reconnect sends the same events with the same logged data; those two numbers are the sync's at the
 * time (a finished sync's final ones: its throttled time and 0).
 */
const logged = (frames: readonly SseFrame[]) =>
  frames.map(({ data: { throttled_ms: _throttled, eta_seconds: _eta, ...data }, ...frame }) => ({
    ...frame,
    data,
  }));

const isProgress = (frame: SseFrame) =>
  /^(epic|feature|userstory):(created|failed)$/.test(frame.event) || TERMINAL.includes(frame.event);

/** CONTRACT.md §3: the progress stream, parsed exactly like the frontend parses it. */
describe('SSE progress streams', () => {
  let api: ContractSystem;
  beforeAll(async () => {
    api = await startContractSystem({ wrapTrackers: refuseDeletes });
  });
  afterAll(async () => {
    await api?.close();
  });

  const sim = () => {
    const simulator = api.system.simulator;
    if (!simulator) throw new Error('the local system runs without its simulator');
    return simulator;
  };
  const startUrl = (project: string, query = '') =>
    `${api.system.url}/api/azure-devops/projects/${encodeURIComponent(project)}/workitems${query}`;
  const eventsUrl = (id: string) => `${api.system.url}/api/sync-history/${id}/events`;
  const streamSync = (project: string, body: unknown, query = '') =>
    openStream(startUrl(project, query), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const replay = async (id: string, lastEventId?: number) =>
    (
      await openStream(
        eventsUrl(id),
        lastEventId === undefined ? {} : { headers: { 'last-event-id': String(lastEventId) } },
      )
    ).readToEnd();
  const withLatency = async <T>(latencyMs: number, run: () => Promise<T>): Promise<T> => {
    sim().setFaults({ latencyMs });
    try {
      return await run();
    } finally {
      sim().setFaults({});
    }
  };

  it('the test client rejects what the frontend could not parse', () => {
    const ignore = () => undefined;
    const good = 'id: 3\nevent: sync:started\ndata: {"type":"sync:started","data":{}}';
    expect(parseBlock(good, ignore, ignore)).toEqual({ id: 3, event: 'sync:started', data: {} });
    for (const bad of [
      'event: sync:started\ndata: {"type":"sync:started","data":{}}',
      'id: 3\ndata: {"type":"sync:started","data":{}}',
      'id: 3\nevent: a\ndata: {"type":"b","data":{}}',
      'id: x\nevent: a\ndata: {"type":"a","data":{}}',
      'id: 3\nevent: a\ndata: {"type":"a",\ndata: "data":{}}',
      'id: 3\nevent: a\ndata: {"type":"a","data":{},"extra":1}',
    ]) {
      expect(() => parseBlock(bad, ignore, ignore), bad).toThrow();
    }
  });

  describe('POST …/workitems with Accept: text/event-stream', () => {
    let project: string;
    let syncId: string;
    let frames: SseFrame[];
    let oldIds: number[];

    beforeAll(async () => {
      project = unique('SSE Overwrite');
      sim().addProject(project, 'Agile');
      const first = await api.system.startSync(project, tree(1, 15, 14, 'sold')); // 226 managed items
      await api.system.waitForTerminal(first, 120_000);
      oldIds = sim()
        .workItems(project)
        .map((w) => w.id);
      // Epic 1 fails (its 2 features + 4 stories skipped); Feature 0.1 fails (its 2 stories skipped).
      sim().rejectTitles(['snew Epic 1', 'snew Feature 0.1']);
      const stream = await streamSync(project, tree(2, 2, 2, 'snew'), '?overwrite=true');
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      frames = await stream.readToEnd(120_000);
      syncId = String(frames[0]?.data.syncHistoryId);
    }, 180_000);

    it('numbers the frames 1..n, each with exactly its keys, and closes after the one terminal event', () => {
      expectWellFormed(frames);
      expect(frames.at(-1)?.event).toBe('sync:complete');
    });

    it('starts with sync:accepted, then the overwrite events with cumulative progress per chunk', () => {
      expect(frames.slice(0, 7).map((f) => f.event)).toEqual([
        'sync:accepted',
        'overwrite:started',
        'overwrite:deleting',
        'overwrite:progress',
        'overwrite:progress',
        'overwrite:deleted',
        'sync:started',
      ]);
      expect(frames[0]?.data).toMatchObject({ syncHistoryId: syncId, totalItems: 14 });
      expect(frames[2]?.data).toMatchObject({ count: 226 });
      const progress = frames.filter((f) => f.event === 'overwrite:progress').map((f) => f.data);
      expect(progress).toMatchObject([
        { deleted: 200, total: 226, currentChunk: 1, totalChunks: 2 },
        { deleted: 226, total: 226, currentChunk: 2, totalChunks: 2 },
      ]);
      const deletedIds = progress.flatMap((p) => p.deletedIds as number[]);
      expect([...deletedIds].sort((a, b) => a - b)).toEqual([...oldIds].sort((a, b) => a - b));
      expect(frames[5]?.data).toMatchObject({ count: 226 });
    });

    it('sends one created or failed event per node, with the web link, and failed events for skipped children', () => {
      const items = frames.filter((f) => /^(epic|feature|userstory):(created|failed)$/.test(f.event));
      const ids = tree(2, 2, 2, 'snew').epics.flatMap((e) => [
        e._id,
        ...(e.children ?? []).flatMap((f) => [f._id, ...(f.children ?? []).map((s) => s._id)]),
      ]);
      expect(items.map((f) => f.data.ardoqId).sort()).toEqual([...ids].sort());
      const created = items.filter((f) => f.event.endsWith(':created'));
      expect(created.map((f) => f.data.ardoqId).sort()).toEqual(
        ['snew-e0', 'snew-e0-f0', 'snew-e0-f0-s0', 'snew-e0-f0-s1'].sort(),
      );
      const live = new Map(
        sim()
          .workItems(project)
          .map((w) => [w.id, w]),
      );
      for (const frame of created) {
        const adoId = frame.data.azureDevOpsId as number;
        expect(frame.data.azureDevOpsUrl).toBe(
          `${sim().url}/${encodeURIComponent(project)}/_workitems/edit/${adoId}`,
        );
        expect(live.get(adoId)?.fields['System.Title']).toBe(frame.data.name);
      }
      const failed = new Map(
        items.filter((f) => f.event.endsWith(':failed')).map((f) => [f.data.ardoqId, f]),
      );
      expect(failed.get('snew-e1')?.event).toBe('epic:failed');
      expect(failed.get('snew-e1')?.data.error).toMatch(/TF401320|rule/i);
      expect(failed.get('snew-e1-f0')?.event).toBe('feature:failed');
      expect(failed.get('snew-e1-f0')?.data.error).toBe(
        'Not created: its parent "snew Epic 1" was not created',
      );
      expect(failed.get('snew-e0-f1-s1')?.event).toBe('userstory:failed');
      expect(failed.get('snew-e0-f1-s1')?.data.error).toMatch(/parent "snew Feature 0\.1"/);
      const position = (ardoqId: string) => items.findIndex((f) => f.data.ardoqId === ardoqId);
      expect(position('snew-e0')).toBeLessThan(position('snew-e0-f0'));
      expect(position('snew-e0-f0')).toBeLessThan(position('snew-e0-f0-s0'));
    });

    it('ends with sync:complete whose summary counts every node not created as failed', async () => {
      const summary = frames.at(-1)?.data.summary;
      expect(summary).toEqual({
        total: 14,
        created: 4,
        failed: 10,
        skipped: 8,
        epics: { total: 2, created: 1, failed: 1 },
        features: { total: 4, created: 1, failed: 3 },
        userStories: { total: 8, created: 2, failed: 6 },
      });
      const row = expectShape(
        okBody(SyncHistoryShape),
        (await api.call('GET', `/api/sync-history/${syncId}`)).json,
      );
      expect(row.data).toMatchObject({
        items_created: 4,
        items_failed: 2,
        items_skipped: 8,
        deletion_count: 226,
      });
    });

    it('carries the throttled time and the estimate of the time left on every progress event', async () => {
      const row = expectShape(
        okBody(SyncHistoryShape),
        (await api.call('GET', `/api/sync-history/${syncId}`)).json,
      );
      expect(row.data).toMatchObject({ status: 'completed', eta_seconds: 0 });
      for (const frame of frames) {
        if (!isProgress(frame)) {
          expect(frame.data, frame.event).not.toHaveProperty('throttled_ms');
          expect(frame.data, frame.event).not.toHaveProperty('eta_seconds');
          continue;
        }
        expect(frame.data.throttled_ms, frame.event).toEqual(expect.any(Number));
        // Items are recorded while the sync runs (or is already finished when the frame is sent).
        expect(frame.data.eta_seconds, frame.event).toEqual(expect.any(Number));
      }
      // The final event has the final numbers: the row's throttled time, nothing left.
      expect(frames.at(-1)?.data).toMatchObject({ throttled_ms: row.data.throttled_ms, eta_seconds: 0 });
    });

    it('GET …/events replays a finished sync from the start: the same events, with the final numbers', async () => {
      const replayed = await replay(syncId);
      expect(logged(replayed)).toEqual(logged(frames));
      const final = frames.at(-1)?.data.throttled_ms;
      for (const frame of replayed.filter(isProgress)) {
        expect(frame.data).toMatchObject({ throttled_ms: final, eta_seconds: 0 });
      }
    });

    it.each([0, 1, 5, 13])(
      'GET …/events with Last-Event-ID: %i sends exactly the events after it',
      async (k) => {
        expect(logged(await replay(syncId, k))).toEqual(logged(frames.slice(k)));
      },
    );

    it('GET …/events after the terminal event sends nothing and closes', async () => {
      expect(await replay(syncId, frames.length)).toEqual([]);
    });
  });

  it('a reconnect with Last-Event-ID in the middle of a live sync gets only the missing events', async () => {
    const { first, second, full } = await withLatency(150, async () => {
      const id = await api.system.startSync('Agile Project', tree(2, 2, 3, 'srec'));
      const stream = await openStream(eventsUrl(id));
      const head: SseFrame[] = [];
      for (let i = 0; i < 3; i++) {
        const frame = await stream.next();
        if (frame) head.push(frame);
      }
      stream.abort();
      const row = expectShape(
        okBody(SyncHistoryShape),
        (await api.call('GET', `/api/sync-history/${id}`)).json,
      );
      expect(['pending', 'in_progress'], 'still running at reconnect').toContain(row.data.status);
      const rest = await (
        await openStream(eventsUrl(id), { headers: { 'last-event-id': String(head.at(-1)?.id) } })
      ).readToEnd();
      return { first: head, second: rest, full: await replay(id) };
    });
    expect(first.map((f) => f.id)).toEqual([1, 2, 3]);
    expect(second[0]?.id).toBe(4);
    expectWellFormed([...first, ...second]);
    expect(logged([...first, ...second])).toEqual(logged(full));
    expect(full.at(-1)?.event).toBe('sync:complete');
  });

  it('answers an invalid start request with 400 JSON before any stream (old defect 3)', async () => {
    const result = await openSse(startUrl('Agile Project'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ epics: [{ _id: 'x', name: 'x', type: 'Feature' }] }),
    });
    expect(result.kind).toBe('json');
    if (result.kind !== 'json') return;
    expect(result.status).toBe(400);
    expect(expectShape(ErrorBody, result.body).details?.map((d) => d.path)).toEqual(['epics[0].type']);
  });

  it('answers an unknown sync with 404 JSON, not a stream', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const result = await openSse(eventsUrl(id));
      expect(result.kind).toBe('json');
      if (result.kind !== 'json') return;
      expect(result.status).toBe(404);
      expectShape(ErrorBody, result.body);
    }
  });

  it('sends `: ping` heartbeats while the sync is quiet', async () => {
    const stream = await withLatency(700, async () => {
      const s = await streamSync('Agile Project', tree(1, 0, 0, 'sping'));
      await s.readToEnd();
      return s;
    });
    expectWellFormed(stream.frames);
    expect(stream.frames.at(-1)?.event).toBe('sync:complete');
    expect(stream.heartbeats.length).toBeGreaterThanOrEqual(2);
    for (const beat of stream.heartbeats) {
      expect(beat.comment).toBe(': ping');
      expect(beat.afterFrames, 'heartbeats come before the stream ends').toBeLessThan(stream.frames.length);
    }
  });

  it('ends the stream of a cancelled sync with sync:cancelled', async () => {
    const frames = await withLatency(200, async () => {
      const stream = await streamSync('Agile Project', tree(2, 2, 2, 'scxl'));
      const accepted = await stream.next();
      const cancel = await api.call('POST', `/api/sync-history/${accepted?.data.syncHistoryId}/cancel`);
      expect(cancel.status, cancel.text).toBe(200);
      return stream.readToEnd();
    });
    expectWellFormed(frames);
    expect(frames.at(-1)).toMatchObject({
      event: 'sync:cancelled',
      data: { message: 'Sync cancelled by the user' },
    });
    // Cancelled while pending: every node is reported, none created.
    const items = frames.filter((f) => /^(epic|feature|userstory):/.test(f.event));
    expect(items).toHaveLength(14);
    for (const item of items) {
      expect(item.event).toMatch(/:failed$/);
      expect(item.data.error).toBe('Not created: the sync was cancelled before this item ran');
    }
  });

  it('reports a failed overwrite once with overwrite:error, then ends with sync:error', async () => {
    const project = unique(BROKEN);
    sim().addProject(project, 'Agile');
    const first = await api.system.startSync(project, tree(1, 1, 1, 'sbrk0'));
    await api.system.waitForTerminal(first);

    const stream = await streamSync(project, tree(1, 1, 1, 'sbrk1'), '?overwrite=true');
    const frames = await stream.readToEnd();
    expectWellFormed(frames);
    const names = frames.map((f) => f.event);
    expect(names.slice(0, 4)).toEqual([
      'sync:accepted',
      'overwrite:started',
      'overwrite:deleting',
      'overwrite:error',
    ]);
    expect(names.filter((n) => n === 'overwrite:error')).toHaveLength(1);
    // Our sentence with the status, never the text Azure DevOps answered.
    expect(frames[3]?.data.error).toMatch(
      /^Overwrite failed: deleting the managed work items .*\(HTTP 403\)$/,
    );
    expect(frames[3]?.data.error).not.toMatch(/deletion refused by test/);
    expect(names.at(-1)).toBe('sync:error');
    expect(
      names.slice(4, -1).every((n) => n.endsWith(':failed')),
      names.join(),
    ).toBe(true);
    expect(names).not.toContain('overwrite:deleted');
    expect(names).not.toContain('sync:started');

    const id = String(frames[0]?.data.syncHistoryId);
    const row = expectShape(
      okBody(SyncHistoryShape),
      (await api.call('GET', `/api/sync-history/${id}`)).json,
    );
    expect(row.data).toMatchObject({
      status: 'failed',
      items_created: 0,
      items_skipped: 3,
      deletion_count: 0,
    });
    expect(row.data.error_message).toBe(frames[3]?.data.error);
    expect(frames.at(-1)?.data.error).toBe(row.data.error_message);
  });
});
