import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as z from 'zod';
import { type LocalSystem, startLocalSystem } from '#bin/local/local-system.ts';
import { createApiApp } from '#lambdas/api/app.ts';
import type { ApiDeps } from '#lambdas/api/deps.ts';
import type { RouteDef } from '#lambdas/api/route.ts';
import { ROUTES } from '#lambdas/api/route-table.ts';
import { type AdoSimulator, startAdoSimulator } from '#sim/ado/index.ts';
import type { Queryable } from '#store/database.ts';
import { captureLog } from './e2e.ts';
import { createScratchDatabase, postgresAvailable } from './postgres.ts';
import { type ApiCall, proxyEvent } from './proxy-event.ts';

export type { ApiCall } from './proxy-event.ts';

/** CONTRACT.md §1's error envelope, strictly: nothing else in a 4xx body. */
export const ErrorEnvelope = z.strictObject({
  success: z.literal(false),
  error: z.string().min(1),
  details: z
    .array(z.strictObject({ path: z.string(), message: z.string().min(1) }))
    .min(1)
    .optional(),
});

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  /** The buffered body ('' for a stream, which is never pumped here). */
  text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  json: unknown;
  stream: boolean;
}

/** Row count and content hash of one table. */
export type TableState = {
  table: string;
  rows: number;
  hash: string;
};

export interface InProcessApi {
  system: LocalSystem;
  simulator: AdoSimulator;
  /** The route table, built by the same function the app uses. */
  routes: readonly RouteDef<ApiDeps>[];
  /** Calls the API app in-process (no HTTP): what the API Lambda would answer. */
  call(call: ApiCall): Promise<ApiAnswer>;
  /** Every table of the schema with its row count and a hash of its rows (any write changes one). */
  tables(): Promise<TableState[]>;
  /** Log lines at level error so far (a 4xx must add none). */
  errorLines(): string[];
  close(): Promise<void>;
}

/**
 * The API app of the local system, called in-process, over a scratch PostgreSQL database (PGlite
 * when the machine has no PostgreSQL) and the ADO simulator. Nothing runs in the background: the
 * queue pollers are stopped and the sweep never fires, so a table changes only through a request.
 */
export async function startInProcessApi(): Promise<InProcessApi> {
  const scratch = postgresAvailable ? await createScratchDatabase() : undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'ardoq-sync-inproc-'));
  const pat = `sim-pat-${randomBytes(12).toString('hex')}`;
  const simulator = await startAdoSimulator({ pat, port: 0 });
  const logs = captureLog();
  let system: LocalSystem;
  try {
    system = await startLocalSystem({
      port: 0,
      dataDir,
      ...(scratch ? { databaseUrl: scratch.url } : {}),
      processorConcurrency: 1,
      sweepIntervalMs: 3_600_000,
      simulatorInstance: simulator,
      simulatorPat: pat,
      // Every organization is the simulator: a configuration created by a test never reaches the network.
      interpose: { trackers: (factory) => (config) => factory({ ...config, organization: simulator.url }) },
      log: logs.log,
    });
  } catch (error) {
    await simulator.close();
    await scratch?.drop();
    throw error;
  }
  await Promise.all([system.eventSources.work.stop(), system.eventSources.finalize.stop()]);
  const options = { auth: { mode: 'none' as const }, corsOrigins: ['http://localhost:*'] };
  const app = createApiApp(system.deps, options);
  const routes = ROUTES;
  const db: Queryable = system.db;
  const { rows: tableRows } = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
  );
  const tableNames = tableRows.map((r) => r.name);

  return {
    system,
    simulator,
    routes,
    async call(call) {
      const result = await app(proxyEvent(call));
      if ('kind' in result) {
        return {
          status: result.statusCode,
          headers: result.headers,
          text: '',
          json: undefined,
          stream: true,
        };
      }
      const text = result.body;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return {
        status: result.statusCode,
        headers: (result.headers ?? {}) as Record<string, string>,
        text,
        json,
        stream: false,
      };
    },
    async tables() {
      const { rows } = await db.query<TableState>(
        tableNames
          .map(
            (name) =>
              `SELECT '${name}' AS table, count(*)::int AS rows,
                 md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS hash FROM "${name}" t`,
          )
          .join(' UNION ALL '),
      );
      return rows;
    },
    errorLines: () => logs.lines.filter((line) => line.startsWith('{"level":"error"')),
    async close() {
      await system.stop();
      await simulator.close();
      await scratch?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Calls the API and checks the answer: `status` with the JSON error envelope (naming `path` among
 * its details when given), no row written in any table, no error logged.
 */
export async function expectRejected(
  api: InProcessApi,
  call: ApiCall,
  status: number,
  path?: string | RegExp,
): Promise<ApiAnswer> {
  const before = await api.tables();
  const errorsBefore = api.errorLines().length;
  const answer = await api.call(call);
  expect(answer.status, answer.text.slice(0, 500)).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = ErrorEnvelope.parse(answer.json);
  if (path !== undefined) {
    const paths = body.details?.map((d) => d.path) ?? [];
    if (typeof path === 'string') expect(paths, body.error).toContain(path);
    else
      expect(
        paths.some((p) => path.test(p)),
        `${JSON.stringify(paths)} ~ ${path}`,
      ).toBe(true);
  }
  expect(await api.tables()).toEqual(before);
  expect(api.errorLines().slice(errorsBefore)).toEqual([]);
  return answer;
}
