import http from 'node:http';
import https from 'node:https';

/** One HTTP exchange, as the Azure DevOps client makes it. */
export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** For the whole exchange, the answer's body included. */
  timeoutMs: number;
}

/** Header lookup by name, case-insensitive (a WHATWG `Headers` is one too). */
export interface HeaderLookup {
  get(name: string): string | null;
}

export interface HttpAnswer {
  status: number;
  headers: HeaderLookup;
  body: string;
}

/** Sends one request and reads the whole answer; rejects on network failures and timeouts. */
export type HttpTransport = (call: HttpCall) => Promise<HttpAnswer>;

/** The exchange took longer than its `timeoutMs`. */
export class HttpTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

// Shared by every tracker of the process (one Lambda container): connections (and their TLS
// handshakes) are reused across requests and invocations. Idle sockets close after 4 s, well before
// a server would drop them, so a request is not sent down a connection the other side has closed.
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 4_000 } as const;
const agents = { 'http:': new http.Agent(AGENT_OPTIONS), 'https:': new https.Agent(AGENT_OPTIONS) };

function lookup(headers: http.IncomingHttpHeaders): HeaderLookup {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * `HttpTransport` over Node's own HTTP client with keep-alive agents. Redirects are not followed
 * (the caller sees the 3xx). Chosen over `fetch`, which costs about four times the CPU per request
 * (its WHATWG streams and Request/Response objects; measured: 0.42 vs 0.11 ms per create).
 */
export const nodeHttpTransport: HttpTransport = (call) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const url = new URL(call.url);
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const send = url.protocol === 'https:' ? https.request : http.request;
    const headers =
      call.body === undefined
        ? call.headers
        : { ...call.headers, 'Content-Length': String(Buffer.byteLength(call.body)) };
    let settled = false;
    const settle = (error: Error | null, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(answer as HttpAnswer);
    };
    const request = send(url, { method: call.method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => settle(error));
      // Node reports a cut-off answer as an error; the completeness check is the backstop.
      response.on('close', () => {
        if (!response.complete) settle(new Error('the connection closed before the answer was complete'));
      });
      response.on('end', () =>
        settle(null, {
          status: response.statusCode ?? 0,
          headers: lookup(response.headers),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    const timer = setTimeout(() => {
      const error = new HttpTimeoutError(`no complete answer within ${call.timeoutMs} ms`);
      request.destroy(error);
      settle(error);
    }, call.timeoutMs);
    request.on('error', (error) => settle(error));
    request.end(call.body);
  });
