import { randomBytes } from 'node:crypto';
import { type Log, silentLog } from '#core/pipeline/deps.ts';
import { startTestSystem, type TestSystem, type TestSystemOptions } from './e2e.ts';
import { createScratchDatabase, postgresAvailable } from './postgres.ts';

/** Fast SSE tailing for tests: poll every 50 ms, heartbeat after 300 ms of silence. */
export const TEST_TAIL = { pollMs: 50, heartbeatMs: 300, maxDurationMs: 60_000 };

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when the body is not JSON). */
  json: unknown;
}

export interface ContractSystem {
  system: TestSystem;
  /** The simulator's PAT (the active configuration's secret). */
  simulatorPat: string;
  /** Every response body this file received through `call` (to prove no secret ever leaves). */
  transcript: string[];
  /** One HTTP call with the raw answer; `body` is sent as JSON unless it is a string. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * One local system for a test file: a scratch PostgreSQL database when the machine has one (PGlite
 * otherwise), the ADO simulator with a known PAT, fast SSE tailing.
 */
export async function startContractSystem(
  options: TestSystemOptions & { log?: Log } = {},
): Promise<ContractSystem> {
  const scratch = postgresAvailable ? await createScratchDatabase() : undefined;
  const simulatorPat = `sim-pat-${randomBytes(12).toString('hex')}`;
  let system: TestSystem;
  try {
    system = await startTestSystem({
      ...(scratch ? { databaseUrl: scratch.url } : {}),
      tail: TEST_TAIL,
      simulatorPat,
      log: silentLog,
      ...options,
    });
  } catch (error) {
    await scratch?.drop();
    throw error;
  }
  const transcript: string[] = [];
  return {
    system,
    simulatorPat,
    transcript,
    async call(method, path, { body, headers = {} } = {}) {
      const response = await fetch(`${system.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      transcript.push(text);
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      await system.close();
      await scratch?.drop();
    },
  };
}

/** A name no other test uses. */
export const unique = (label: string): string => `${label} ${randomBytes(4).toString('hex')}`;
