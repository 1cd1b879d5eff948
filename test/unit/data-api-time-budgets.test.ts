import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { describe, expect, it } from 'vitest';
import { AdoHttpClient } from '#adapters/ado-http.ts';
import { ArdoqRestClient } from '#adapters/ardoq-rest-client.ts';
import { DataApiDatabase } from '#adapters/data-api-database.ts';
import { HttpTimeoutError, type HttpTransport } from '#adapters/http-transport.ts';
import { UnavailableError } from '#core/errors.ts';
import { ArdoqTransientError } from '#core/ports/ardoq.ts';
import { AdoTransientError } from '#core/ports/work-item-tracker.ts';
import { errorResponse } from '#lambdas/api/http.ts';
import {
  API_GATEWAY_TIMEOUT_MS,
  CONSUMER_DATABASE,
  REQUEST_ADO,
  REQUEST_ARDOQ,
  REQUEST_DATABASE,
  requestWorstCaseMs,
} from '#lambdas/runtime/time-budgets.ts';
import { DatabaseError } from '#store/database.ts';

/** A Data API error as the SDK throws it (name + message). */
const apiError = (name: string, message: string) => Object.assign(new Error(message), { name });
const resuming = () =>
  apiError('DatabaseResumingException', 'The Aurora DB instance is resuming after being auto-paused');
const authFailure = () =>
  apiError(
    'BadRequestException',
    'FATAL: password authentication failed for user "ardoq_sync_runtime"; SQLState: 28P01',
  );

const OK = { formattedRecords: '[{"one":1}]', columnMetadata: [{ name: 'one', typeName: 'int4' }] };

/** A DataApiDatabase over a fake `client.send` that answers from `script` (an Error is thrown). */
function fakeDatabase(
  script: (command: { input: Record<string, unknown> }, call: number) => unknown,
  options: Partial<ConstructorParameters<typeof DataApiDatabase>[0]> = {},
) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const slept: number[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      const answer = script(command, sent.length);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    destroy: () => undefined,
  } as unknown as RDSDataClient;
  const db = new DataApiDatabase({
    resourceArn: 'arn:cluster',
    secretArn: 'arn:secret',
    database: 'db',
    client,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
  return { db, sent, slept };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('DataApiDatabase time budgets (issue 18 §5)', () => {
  it('the API budget gives up within its budget with UnavailableError → 503 + Retry-After', async () => {
    const { db, slept } = fakeDatabase(() => resuming(), REQUEST_DATABASE);
    const error = await db.query('SELECT 1 AS one').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ retryAfterSeconds: 10 });
    expect((error as Error).cause).toMatchObject({ name: 'DatabaseResumingException' });
    expect(slept).toEqual([500, 1_000, 2_000, 4_000]);
    expect(sum(slept)).toBeLessThanOrEqual(REQUEST_DATABASE.resumeTimeoutMs as number);
    expect(sum(slept)).toBeLessThan(API_GATEWAY_TIMEOUT_MS - 15_000);

    const log = { error: () => undefined, warn: () => undefined, info: () => undefined };
    const response = errorResponse(error, log as never);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'retry-after': '10' });
  });

  it('the consumers (processor, finalizer) and migrate wait longer before giving up', async () => {
    const { db, slept } = fakeDatabase(() => resuming(), CONSUMER_DATABASE);
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(UnavailableError);
    expect(sum(slept)).toBeGreaterThan(REQUEST_DATABASE.resumeTimeoutMs as number);
    expect(sum(slept)).toBeGreaterThanOrEqual(25_000);
    expect(sum(slept)).toBeLessThanOrEqual(30_000);

    // The adapter's default (migrate, database-from-env) is the consumers' budget.
    const byDefault = fakeDatabase(() => resuming());
    await expect(byDefault.db.query('SELECT 1')).rejects.toBeInstanceOf(UnavailableError);
    expect(byDefault.slept).toEqual(slept);
  });

  it('a cluster that resumes within the API budget answers', async () => {
    const { db, slept } = fakeDatabase((_, call) => (call <= 3 ? resuming() : OK), REQUEST_DATABASE);
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(slept).toEqual([500, 1_000, 2_000]);
  });

  it('retries a failed password authentication (a rotation in progress), then succeeds', async () => {
    const { db, sent, slept } = fakeDatabase((_, call) => (call === 1 ? authFailure() : OK));
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(sent).toHaveLength(2);
    expect(slept).toEqual([500]);
  });

  it('throws a persistent authentication failure after two retries (≤ 2 s of waits)', async () => {
    const { db, sent, slept } = fakeDatabase(() => authFailure());
    const error = await db.query('SELECT 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).sqlState).toBe('28P01');
    expect(sent).toHaveLength(3);
    expect(slept).toEqual([500, 1_000]);
    expect(sum(slept)).toBeLessThanOrEqual(2_000);
  });

  it('does not retry any other error', async () => {
    const { db, sent, slept } = fakeDatabase(() =>
      apiError(
        'DatabaseErrorException',
        'ERROR: duplicate key value violates unique constraint "x_pkey"; SQLState: 23505',
      ),
    );
    await expect(db.query('INSERT INTO x VALUES (1)')).rejects.toMatchObject({
      name: 'DatabaseError',
      sqlState: '23505',
    });
    expect(sent).toHaveLength(1);
    expect(slept).toEqual([]);

    const other = fakeDatabase(() => apiError('BadRequestException', 'relation "nope" does not exist'));
    await expect(other.db.query('SELECT * FROM nope')).rejects.toBeInstanceOf(DatabaseError);
    expect(other.sent).toHaveLength(1);
  });

  it('never retries a statement of an open transaction, not even after an auth failure', async () => {
    const { db, sent } = fakeDatabase((command) => {
      if (command.input.sql === 'UPDATE t SET n = 2') return authFailure();
      if (command.input.sql === undefined && command.input.transactionId === undefined)
        return { transactionId: 'tx-1' }; // BeginTransaction
      return OK;
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('UPDATE t SET n = 1');
        await tx.query('UPDATE t SET n = 2');
      }),
    ).rejects.toBeInstanceOf(DatabaseError);
    const updates = sent.filter((s) => s.input.sql === 'UPDATE t SET n = 2');
    expect(updates).toHaveLength(1);
    expect(sent.at(-1)?.name).toBe('RollbackTransactionCommand');
  });

  it('retries an auth failure of BeginTransaction (nothing ran yet)', async () => {
    let begins = 0;
    const { db } = fakeDatabase((command) => {
      if (command.input.sql === undefined && command.input.transactionId === undefined) {
        begins += 1;
        return begins === 1 ? authFailure() : { transactionId: 'tx-1' };
      }
      return OK;
    });
    await expect(db.transaction(async (tx) => (await tx.query('SELECT 1 AS one')).rows)).resolves.toEqual([
      { one: 1 },
    ]);
    expect(begins).toBe(2);
  });

  it("the API path's worst case stays below API Gateway's 29 s with a margin", () => {
    expect(requestWorstCaseMs()).toBeLessThanOrEqual(25_000);
  });
});

describe('outbound budgets of the API path', () => {
  /** A transport that never answers in time: it "takes" the call's timeout on a fake clock. */
  function slowTransport(clock: { now: number }, timeouts: number[]): HttpTransport {
    return async (call) => {
      clock.now += call.timeoutMs;
      timeouts.push(call.timeoutMs);
      throw new HttpTimeoutError(`no complete answer within ${call.timeoutMs} ms`);
    };
  }

  it('Azure DevOps: 7 s × 2 attempts and a short backoff, then the upstream error', async () => {
    const clock = { now: 0 };
    const timeouts: number[] = [];
    const client = new AdoHttpClient('pat', {
      ...REQUEST_ADO,
      transport: slowTransport(clock, timeouts),
      sleep: async (ms) => {
        clock.now += ms;
      },
      now: () => clock.now,
    });
    await expect(
      client.send({ method: 'GET', url: 'https://dev.azure.com/org/_apis/projects', retry: 'idempotent' }),
    ).rejects.toBeInstanceOf(AdoTransientError);
    expect(timeouts).toEqual([7_000, 7_000]);
    expect(clock.now).toBeLessThanOrEqual(16_000);
  });

  it('Ardoq: 7 s × 2 attempts and a short backoff, then the upstream error', async () => {
    const clock = { now: 0 };
    const timeouts: number[] = [];
    const client = new ArdoqRestClient(
      { apiHost: 'https://acme.ardoq.com', token: 'token' },
      {
        ...REQUEST_ARDOQ,
        transport: slowTransport(clock, timeouts),
        sleep: async (ms) => {
          clock.now += ms;
        },
      },
    );
    await expect(client.me()).rejects.toBeInstanceOf(ArdoqTransientError);
    expect(timeouts).toEqual([7_000, 7_000]);
    expect(clock.now).toBeLessThanOrEqual(15_250);
  });
});
