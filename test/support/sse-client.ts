/**
 * A server-sent events client that parses exactly like the SyncFlow frontend (CONTRACT.md §3): fetch
 * plus a streaming body reader, frames separated by a blank line, each frame with an `id:` integer,
 * one `event:` line and one `data:` line holding one-line JSON `{ type, data }` where `type` is the
 * event name. `:` comment lines are heartbeats, `retry:` is noted. Anything else is a protocol error
 * that rejects the pending read, so the test fails.
 */

export interface SseFrame {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Every frame received so far, in order. */
  readonly frames: readonly SseFrame[];
  /** Heartbeat comments received so far, with the number of frames seen before each. */
  readonly heartbeats: ReadonlyArray<{ afterFrames: number; comment: string }>;
  readonly retry: number | undefined;
  /** The next frame, or null once the server closed the stream; rejects on a malformed frame. */
  next(timeoutMs?: number): Promise<SseFrame | null>;
  /** Reads until the server closes the stream and returns every frame of it. */
  readToEnd(timeoutMs?: number): Promise<SseFrame[]>;
  /** Closes the connection from the client side (a browser tab going away). */
  abort(): void;
}

export type SseOpenResult =
  | { kind: 'stream'; stream: SseStream }
  | { kind: 'json'; status: number; headers: Headers; body: unknown };

class ProtocolError extends Error {
  override readonly name = 'SseProtocolError';
}

/** Parses one block (the text between two blank lines) like the frontend; null for comment-only blocks. */
export function parseBlock(
  block: string,
  onComment: (comment: string) => void,
  onRetry: (ms: number) => void,
): SseFrame | null {
  let id: number | undefined;
  const events: string[] = [];
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) onComment(line);
    else if (line.startsWith('retry: ')) {
      const value = line.slice('retry: '.length);
      if (!/^\d+$/.test(value)) throw new ProtocolError(`bad retry line: ${line}`);
      onRetry(Number(value));
    } else if (line.startsWith('id: ')) {
      const value = line.slice('id: '.length);
      if (!/^\d+$/.test(value) || id !== undefined) throw new ProtocolError(`bad or repeated id: ${line}`);
      id = Number(value);
    } else if (line.startsWith('event: ')) events.push(line.slice('event: '.length));
    else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
    else throw new ProtocolError(`unexpected line ${JSON.stringify(line)} in block ${JSON.stringify(block)}`);
  }
  if (id === undefined && events.length === 0 && data.length === 0) return null;
  if (events.length !== 1 || data.length !== 1 || id === undefined) {
    throw new ProtocolError(`a frame needs one id, one event and one data line: ${JSON.stringify(block)}`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(data[0] as string);
  } catch {
    throw new ProtocolError(`data is not JSON: ${data[0]}`);
  }
  const record = payload as { type?: unknown; data?: unknown };
  const event = events[0] as string;
  if (
    typeof payload !== 'object' ||
    payload === null ||
    Object.keys(payload).sort().join() !== 'data,type' ||
    record.type !== event ||
    typeof record.data !== 'object' ||
    record.data === null ||
    Array.isArray(record.data)
  ) {
    throw new ProtocolError(`data must be {"type":"${event}","data":{...}}: ${data[0]}`);
  }
  return { id, event, data: record.data as Record<string, unknown> };
}

/** Opens an SSE request; a non-stream answer (404, 400) comes back as parsed JSON instead. */
export async function openSse(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SseOpenResult> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    // A body is JSON, like the frontend sends it (fetch would call a string body text/plain: a 415).
    headers: {
      accept: 'text/event-stream',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: controller.signal,
  });
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const text = await response.text();
    return { kind: 'json', status: response.status, headers: response.headers, body: JSON.parse(text) };
  }
  if (!response.body) throw new ProtocolError('an event stream without a body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const frames: SseFrame[] = [];
  const heartbeats: Array<{ afterFrames: number; comment: string }> = [];
  let retry: number | undefined;
  let buffer = '';
  let cursor = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame = parseBlock(
            block,
            (comment) => heartbeats.push({ afterFrames: frames.length, comment }),
            (ms) => {
              retry = ms;
            },
          );
          if (frame) frames.push(frame);
          notify();
        }
      }
      if (buffer.trim() !== '') throw new ProtocolError(`stream ended inside a frame: ${buffer}`);
    } catch (error) {
      if (!controller.signal.aborted) failure = error as Error;
    } finally {
      ended = true;
      notify();
    }
  })();

  const next = async (timeoutMs = 30_000): Promise<SseFrame | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (failure) throw failure;
      const frame = frames[cursor];
      if (frame) {
        cursor += 1;
        return frame;
      }
      if (ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE frame within ${timeoutMs} ms (after ${frames.length} frames)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };

  const stream: SseStream = {
    status: response.status,
    headers: response.headers,
    frames,
    heartbeats,
    get retry() {
      return retry;
    },
    next,
    async readToEnd(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while ((await next(Math.max(1, deadline - Date.now()))) !== null) {
        // keep reading
      }
      return [...frames];
    },
    abort: () => controller.abort(),
  };
  return { kind: 'stream', stream };
}

/** `openSse` for a route that must answer with a stream. */
export async function openStream(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SseStream> {
  const result = await openSse(url, init);
  if (result.kind !== 'stream') {
    throw new Error(`expected an event stream, got ${result.status}: ${JSON.stringify(result.body)}`);
  }
  return result.stream;
}
