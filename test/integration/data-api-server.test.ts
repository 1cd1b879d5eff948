import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiServer, startDataApiServer } from '../support/data-api-server.ts';
import { ADMIN_URL, postgresAvailable, postgresSkipReason } from '../support/postgres.ts';

// Conformance of the Data API test server, spoken to only through the real SDK client. PostgreSQL itself is
// read directly (the `admin` client) to check what really happened, e.g. that a rejected call ran nothing.

const TARGET = {
  resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:conformance',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:conformance',
  database: 'test',
};
const SCHEMA = `dataapi_conf_${randomBytes(4).toString('hex')}`;
const ITEMS = `${SCHEMA}.items`;

function sdkClient(server: DataApiServer): RDSDataClient {
  return new RDSDataClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

const str = (name: string, value: string, typeHint?: SqlParameter['typeHint']): SqlParameter => ({
  name,
  value: { stringValue: value },
  ...(typeHint && { typeHint }),
});
const long = (name: string, value: number): SqlParameter => ({ name, value: { longValue: value } });

describe.skipIf(!postgresAvailable)(`Data API test server through the real SDK ${postgresSkipReason}`, () => {
  let server: DataApiServer;
  let client: RDSDataClient;
  const admin = new pg.Client({ connectionString: ADMIN_URL });

  const execute = (
    sql: string,
    parameters?: SqlParameter[],
    extra: Partial<ExecuteStatementCommandInput> = {},
  ) => client.send(new ExecuteStatementCommand({ ...TARGET, sql, parameters, ...extra }));
  const begin = async () => (await client.send(new BeginTransactionCommand(TARGET))).transactionId!;
  const commit = (transactionId: string) =>
    client.send(new CommitTransactionCommand({ ...TARGET, transactionId }));
  const rollback = (transactionId: string) =>
    client.send(new RollbackTransactionCommand({ ...TARGET, transactionId }));
  const insertItem = (id: string, name: string, transactionId?: string) =>
    execute(
      `INSERT INTO ${ITEMS} (id, name) VALUES (:id, :name)`,
      [str('id', id, 'UUID'), str('name', name)],
      {
        transactionId,
      },
    );
  /** Counts rows directly in PostgreSQL, outside any Data API transaction. */
  const countItems = async (where: string, values: unknown[]) =>
    Number((await admin.query(`SELECT count(*) AS n FROM ${ITEMS} WHERE ${where}`, values)).rows[0].n);

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`CREATE TABLE ${ITEMS} (
      id uuid PRIMARY KEY, name text UNIQUE, qty int8, price numeric(12, 2), ratio float8, active bool,
      created_at timestamptz, due date, at_time time, doc jsonb, tags text[], nums int4[], data bytea)`);
    server = await startDataApiServer({ connectionString: ADMIN_URL });
    client = sdkClient(server);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });

  describe('named parameters', () => {
    it('binds a repeated :name once and leaves ::casts, quoted text, dollar bodies and comments alone', async () => {
      const sql = `SELECT :a::int8 + :a AS twice, ':b::text' AS literal, E'it\\'s :c' AS escaped,
        1 AS ":d", $$ :e $$ AS dollar, $q$ :f $q$ AS tagged -- :g
        /* :h /* nested :i */ :j */`;

      const result = await execute(sql, [long('a', 7)]);

      expect(result.records).toEqual([
        [
          { longValue: 14 },
          { stringValue: ':b::text' },
          { stringValue: "it's :c" },
          { longValue: 1 },
          { stringValue: ' :e ' },
          { stringValue: ' :f ' },
        ],
      ]);
    });

    it('maps every use of a :name to one placeholder, so PostgreSQL infers one type for all uses', async () => {
      const nullValue: SqlParameter = { name: 'v', value: { isNull: true } };

      const result = await execute('SELECT :v::int4 AS typed, :v AS same', [nullValue], {
        includeResultMetadata: true,
      });

      expect(result.columnMetadata?.map((c) => c.typeName)).toEqual(['int4', 'int4']);
      expect(result.records).toEqual([[{ isNull: true }, { isNull: true }]]);
    });

    it('rejects a :name that has no parameter as BadRequestException', async () => {
      await expect(
        execute('SELECT :present AS a, :missing AS b', [long('present', 1)]),
      ).rejects.toMatchObject({
        name: 'BadRequestException',
        message: expect.stringContaining('missing'),
      });
    });

    it('types a string without hint as varchar, so a uuid column needs the UUID hint, as on AWS', async () => {
      const id = randomUUID();

      await expect(execute(`INSERT INTO ${ITEMS} (id) VALUES (:id)`, [str('id', id)])).rejects.toMatchObject({
        name: 'DatabaseErrorException',
        message: expect.stringContaining('SQLState: 42804'),
      });
      await execute(`INSERT INTO ${ITEMS} (id) VALUES (:id)`, [str('id', id, 'UUID')]);

      expect(await countItems('id = $1', [id])).toBe(1);
    });
  });

  describe('type hints', () => {
    it('stores TIMESTAMP in a timestamptz column as UTC and reads it back in the service format', async () => {
      const id = randomUUID();
      await execute(`INSERT INTO ${ITEMS} (id, created_at) VALUES (:id, :at)`, [
        str('id', id, 'UUID'),
        str('at', '2024-02-29 13:14:15.123', 'TIMESTAMP'),
      ]);

      const read = await execute(`SELECT created_at FROM ${ITEMS} WHERE id = :id`, [str('id', id, 'UUID')]);

      expect(read.records).toEqual([[{ stringValue: '2024-02-29 13:14:15.123' }]]);
      const stored = await admin.query(
        `SELECT created_at = '2024-02-29T13:14:15.123Z' AS utc FROM ${ITEMS} WHERE id = $1`,
        [id],
      );
      expect(stored.rows[0].utc).toBe(true);
    });

    it('rejects an ISO 8601 TIMESTAMP (T, Z) as BadRequestException and runs nothing', async () => {
      const id = randomUUID();

      await expect(
        execute(`INSERT INTO ${ITEMS} (id, created_at) VALUES (:id, :at)`, [
          str('id', id, 'UUID'),
          str('at', '2024-02-29T13:14:15.123Z', 'TIMESTAMP'),
        ]),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
      expect(await countItems('id = $1', [id])).toBe(0);
    });

    it('stores JSON in a jsonb column as a document and reads it back as JSON text', async () => {
      const id = randomUUID();
      await execute(`INSERT INTO ${ITEMS} (id, doc) VALUES (:id, :doc)`, [
        str('id', id, 'UUID'),
        str('doc', '{"b": 1, "a": [true, null]}', 'JSON'),
      ]);

      const read = await execute(`SELECT doc FROM ${ITEMS} WHERE id = :id`, [str('id', id, 'UUID')]);

      const text = read.records?.[0]?.[0]?.stringValue;
      expect(typeof text).toBe('string');
      expect(JSON.parse(text!)).toEqual({ a: [true, null], b: 1 });
      const stored = await admin.query(`SELECT jsonb_typeof(doc) AS kind FROM ${ITEMS} WHERE id = $1`, [id]);
      expect(stored.rows[0].kind).toBe('object');
    });

    it('stores DECIMAL, DATE and TIME exactly', async () => {
      const id = randomUUID();
      await execute(`INSERT INTO ${ITEMS} (id, price, due, at_time) VALUES (:id, :price, :due, :at)`, [
        str('id', id, 'UUID'),
        str('price', '12345.67', 'DECIMAL'),
        str('due', '2024-03-01', 'DATE'),
        str('at', '08:09:10', 'TIME'),
      ]);

      const read = await execute(`SELECT price, due, at_time FROM ${ITEMS} WHERE id = :id`, [
        str('id', id, 'UUID'),
      ]);

      expect(read.records).toEqual([
        [{ stringValue: '12345.67' }, { stringValue: '2024-03-01' }, { stringValue: '08:09:10' }],
      ]);
    });
  });

  describe('results', () => {
    const id = randomUUID();
    const select = `SELECT qty, price, ratio, active, name, created_at, doc, tags, nums, data FROM ${ITEMS} WHERE id = :id`;

    beforeAll(async () => {
      await admin.query(
        `INSERT INTO ${ITEMS} (id, qty, price, ratio, active, name, created_at, doc, tags, nums, data)
         VALUES ($1, 9007199254740991, 19.99, 0.5, true, NULL, '2024-06-01 12:00:00.5+02', '{"k": "v"}',
                 '{a,"b c"}', '{1,2}', '\\x0102ff')`,
        [id],
      );
    });

    it('answers records as Field lists with the service value formats', async () => {
      const result = await execute(select, [str('id', id, 'UUID')]);

      expect(result.formattedRecords).toBeUndefined();
      expect(result.records).toHaveLength(1);
      const [qty, price, ratio, active, name, createdAt, doc, tags, nums, data] = result.records![0]!;
      expect(qty).toEqual({ longValue: 9007199254740991 });
      expect(price).toEqual({ stringValue: '19.99' });
      expect(ratio).toEqual({ doubleValue: 0.5 });
      expect(active).toEqual({ booleanValue: true });
      expect(name).toEqual({ isNull: true });
      expect(createdAt).toEqual({ stringValue: '2024-06-01 10:00:00.5' }); // UTC, no T, no offset
      expect(doc).toEqual({ stringValue: '{"k": "v"}' });
      expect(tags).toEqual({ arrayValue: { stringValues: ['a', 'b c'] } });
      expect(nums).toEqual({ arrayValue: { longValues: [1, 2] } });
      expect(Buffer.from(data!.blobValue!)).toEqual(Buffer.from([1, 2, 255]));
    });

    it('answers formattedRecords as a JSON string of row objects, without records', async () => {
      const result = await execute(select, [str('id', id, 'UUID')], { formatRecordsAs: 'JSON' });

      expect(result.records).toBeUndefined();
      expect(typeof result.formattedRecords).toBe('string');
      expect(JSON.parse(result.formattedRecords!)).toEqual([
        {
          qty: 9007199254740991,
          price: '19.99',
          ratio: 0.5,
          active: true,
          name: null,
          created_at: '2024-06-01 10:00:00.5',
          doc: '{"k": "v"}',
          tags: ['a', 'b c'],
          nums: [1, 2],
          data: 'AQL/',
        },
      ]);
    });

    it('nests multi-dimensional arrays as arrayValues', async () => {
      const result = await execute(`SELECT '{{1,2},{3,4}}'::int4[] AS grid`);

      expect(result.records).toEqual([
        [{ arrayValue: { arrayValues: [{ longValues: [1, 2] }, { longValues: [3, 4] }] } }],
      ]);
    });

    it('answers columnMetadata only when includeResultMetadata is set', async () => {
      const without = await execute(select, [str('id', id, 'UUID')]);
      const withMetadata = await execute(select, [str('id', id, 'UUID')], { includeResultMetadata: true });

      expect(without.columnMetadata).toBeUndefined();
      const columns = withMetadata.columnMetadata ?? [];
      expect(columns.map((c) => [c.name, c.label, c.typeName])).toEqual([
        ['qty', 'qty', 'int8'],
        ['price', 'price', 'numeric'],
        ['ratio', 'ratio', 'float8'],
        ['active', 'active', 'bool'],
        ['name', 'name', 'text'],
        ['created_at', 'created_at', 'timestamptz'],
        ['doc', 'doc', 'jsonb'],
        ['tags', 'tags', '_text'],
        ['nums', 'nums', '_int4'],
        ['data', 'data', 'bytea'],
      ]);
      expect(columns.every((c) => Number.isInteger(c.type))).toBe(true);
    });

    it('counts numberOfRecordsUpdated for writes and answers 0 with empty records for a SELECT', async () => {
      const name = `count-${randomUUID()}`;
      for (const n of [1, 2, 3]) await insertItem(randomUUID(), `${name}-${n}`);

      const updated = await execute(`UPDATE ${ITEMS} SET qty = 5 WHERE name LIKE :prefix`, [
        str('prefix', `${name}-%`),
      ]);
      const selected = await execute(`SELECT qty FROM ${ITEMS} WHERE name LIKE :prefix`, [
        str('prefix', `${name}-%`),
      ]);
      const none = await execute(`SELECT qty FROM ${ITEMS} WHERE false`);

      expect(updated.numberOfRecordsUpdated).toBe(3);
      expect(updated.records).toEqual([]);
      expect(selected.numberOfRecordsUpdated).toBe(0);
      expect(selected.records).toHaveLength(3);
      expect(none.records).toEqual([]);
    });

    it('answers rows of INSERT … RETURNING', async () => {
      const newId = randomUUID();

      const result = await execute(`INSERT INTO ${ITEMS} (id, qty) VALUES (:id, :qty) RETURNING id, qty`, [
        str('id', newId, 'UUID'),
        long('qty', 3),
      ]);

      expect(result.numberOfRecordsUpdated).toBe(1);
      expect(result.records).toEqual([[{ stringValue: newId }, { longValue: 3 }]]);
    });

    it('runs every session in UTC', async () => {
      const result = await execute(`SELECT current_setting('TimeZone') AS tz`);

      expect(result.records).toEqual([[{ stringValue: 'UTC' }]]);
    });

    it('refuses a response over 1 MiB like the service', async () => {
      await expect(execute(`SELECT repeat('x', 1100000) AS big`)).rejects.toMatchObject({
        name: 'BadRequestException',
        message: 'Database returned more than the allowed response size limit',
      });
    });
  });

  describe('errors', () => {
    it('answers a unique violation as DatabaseErrorException with the SQLState in the message', async () => {
      const name = `dup-${randomUUID()}`;
      await insertItem(randomUUID(), name);

      const error = await insertItem(randomUUID(), name).catch((e: unknown) => e);

      expect(error).toMatchObject({ name: 'DatabaseErrorException', $metadata: { httpStatusCode: 400 } });
      expect((error as Error).message).toMatch(
        /duplicate key value violates unique constraint .*SQLState: 23505/s,
      );
    });

    it('rejects array parameters as BadRequestException and runs nothing', async () => {
      const id = randomUUID();

      await expect(
        execute(`INSERT INTO ${ITEMS} (id, tags) VALUES (:id, :tags)`, [
          str('id', id, 'UUID'),
          { name: 'tags', value: { arrayValue: { stringValues: ['a'] } } },
        ]),
      ).rejects.toMatchObject({ name: 'BadRequestException', message: expect.stringMatching(/array/i) });
      expect(await countItems('id = $1', [id])).toBe(0);
    });

    it('rejects multi-statement SQL as BadRequestException and runs none of it', async () => {
      const [first, second] = [randomUUID(), randomUUID()];

      await expect(
        execute(
          `INSERT INTO ${ITEMS} (id) VALUES ('${first}'); INSERT INTO ${ITEMS} (id) VALUES ('${second}')`,
        ),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
      await expect(
        execute(`INSERT INTO ${ITEMS} (id) VALUES (:id); DELETE FROM ${ITEMS}`, [str('id', first, 'UUID')]),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
      expect(await countItems('id = ANY($1::uuid[])', [[first, second]])).toBe(0);
    });

    it('accepts ; inside string literals, dollar bodies and a trailing ; with a comment', async () => {
      const literal = await execute(`SELECT 'a;b' AS s, "x;y".v FROM (SELECT 1 AS v) AS "x;y"; -- done`);
      await execute(`DO $$ BEGIN PERFORM 1; PERFORM 2; END $$`);
      await execute(`CREATE FUNCTION ${SCHEMA}.one() RETURNS int LANGUAGE sql AS $fn$ SELECT 1; $fn$`);
      const called = await execute(`SELECT ${SCHEMA}.one() AS one;`);

      expect(literal.records).toEqual([[{ stringValue: 'a;b' }, { longValue: 1 }]]);
      expect(called.records).toEqual([[{ longValue: 1 }]]);
    });

    it('rejects a call without resourceArn or secretArn as BadRequestException', async () => {
      // Deliberately malformed input: the SDK types require both ARNs but do not check them at runtime.
      const noResource = { secretArn: TARGET.secretArn, sql: 'SELECT 1' } as ExecuteStatementCommandInput;
      const noSecret = { resourceArn: TARGET.resourceArn, sql: 'SELECT 1' } as ExecuteStatementCommandInput;

      for (const input of [noResource, noSecret]) {
        await expect(client.send(new ExecuteStatementCommand(input))).rejects.toMatchObject({
          name: 'BadRequestException',
          message: expect.stringContaining('Arn'),
        });
      }
    });

    it('refuses a request over 4 MiB', async () => {
      await expect(execute(`SELECT 1 -- ${'x'.repeat(4.5 * 1024 * 1024)}`)).rejects.toMatchObject({
        name: 'BadRequestException',
      });
    });
  });

  describe('transactions', () => {
    it('hides writes from outside until CommitTransaction', async () => {
      const id = randomUUID();
      const transactionId = await begin();
      await insertItem(id, `tx-${id}`, transactionId);

      expect(await countItems('id = $1', [id])).toBe(0);
      const inside = await execute(`SELECT name FROM ${ITEMS} WHERE id = :id`, [str('id', id, 'UUID')], {
        transactionId,
      });
      expect(inside.records).toEqual([[{ stringValue: `tx-${id}` }]]);

      expect(await commit(transactionId)).toMatchObject({ transactionStatus: 'Transaction Committed' });
      expect(await countItems('id = $1', [id])).toBe(1);
      await expect(commit(transactionId)).rejects.toMatchObject({ name: 'TransactionNotFoundException' });
    });

    it('discards writes on RollbackTransaction', async () => {
      const id = randomUUID();
      const transactionId = await begin();
      await insertItem(id, `rb-${id}`, transactionId);

      expect(await rollback(transactionId)).toMatchObject({ transactionStatus: 'Rollback Complete' });
      expect(await countItems('id = $1', [id])).toBe(0);
    });

    it('keeps a transaction open but aborted after a failed statement, like PostgreSQL', async () => {
      const name = `abort-${randomUUID()}`;
      await insertItem(randomUUID(), name);
      const transactionId = await begin();
      await expect(insertItem(randomUUID(), name, transactionId)).rejects.toMatchObject({
        name: 'DatabaseErrorException',
      });

      await expect(execute('SELECT 1', [], { transactionId })).rejects.toMatchObject({
        name: 'DatabaseErrorException',
        message: expect.stringContaining('SQLState: 25P02'),
      });
      expect(await rollback(transactionId)).toMatchObject({ transactionStatus: 'Rollback Complete' });
    });

    it('refuses to report an aborted transaction as committed', async () => {
      const transactionId = await begin();
      await expect(execute('SELECT 1/0', [], { transactionId })).rejects.toMatchObject({
        name: 'DatabaseErrorException',
        message: expect.stringContaining('SQLState: 22012'),
      });

      await expect(commit(transactionId)).rejects.toMatchObject({ name: 'DatabaseErrorException' });
      await expect(rollback(transactionId)).rejects.toMatchObject({ name: 'TransactionNotFoundException' });
    });

    it('answers TransactionNotFoundException for an unknown transactionId', async () => {
      await expect(execute('SELECT 1', [], { transactionId: 'no-such-transaction' })).rejects.toMatchObject({
        name: 'TransactionNotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    });

    describe('with a short idle timeout', () => {
      let shortServer: DataApiServer;
      let shortClient: RDSDataClient;
      const IDLE_MS = 300;

      beforeAll(async () => {
        shortServer = await startDataApiServer({
          connectionString: ADMIN_URL,
          transactionIdleTimeoutMs: IDLE_MS,
        });
        shortClient = sdkClient(shortServer);
      });
      afterAll(async () => {
        shortClient?.destroy();
        await shortServer?.close();
      });

      const run = (sql: string, transactionId: string, parameters?: SqlParameter[]) =>
        shortClient.send(new ExecuteStatementCommand({ ...TARGET, sql, parameters, transactionId }));

      it('rolls back a transaction left idle and then no longer knows its id', async () => {
        const id = randomUUID();
        const { transactionId } = await shortClient.send(new BeginTransactionCommand(TARGET));
        await run(`INSERT INTO ${ITEMS} (id) VALUES (:id)`, transactionId!, [str('id', id, 'UUID')]);

        await sleep(IDLE_MS * 3);

        await expect(run('SELECT 1', transactionId!)).rejects.toMatchObject({
          name: 'TransactionNotFoundException',
        });
        await expect(
          shortClient.send(new CommitTransactionCommand({ ...TARGET, transactionId })),
        ).rejects.toMatchObject({ name: 'TransactionNotFoundException' });
        expect(await countItems('id = $1', [id])).toBe(0);
      });

      it('does not count a statement that runs longer than the timeout as idle time', async () => {
        const { transactionId } = await shortClient.send(new BeginTransactionCommand(TARGET));

        await run(`SELECT pg_sleep(${(IDLE_MS * 2) / 1000})`, transactionId!);

        await expect(
          shortClient.send(new CommitTransactionCommand({ ...TARGET, transactionId })),
        ).resolves.toMatchObject({ transactionStatus: 'Transaction Committed' });
      });

      it('counts idleness from the last call, not from BeginTransaction', async () => {
        const { transactionId } = await shortClient.send(new BeginTransactionCommand(TARGET));
        for (let i = 0; i < 8; i++) {
          await sleep(IDLE_MS / 4);
          await run('SELECT 1', transactionId!);
        }

        await expect(
          shortClient.send(new CommitTransactionCommand({ ...TARGET, transactionId })),
        ).resolves.toMatchObject({ transactionStatus: 'Transaction Committed' });
      });
    });
  });

  describe('BatchExecuteStatement', () => {
    const batch = (sql: string, parameterSets: SqlParameter[][], transactionId?: string) =>
      client.send(new BatchExecuteStatementCommand({ ...TARGET, sql, parameterSets, transactionId }));
    const insertSql = `INSERT INTO ${ITEMS} (id, name, qty) VALUES (:id, :name, :qty)`;

    it('runs the statement once per parameter set', async () => {
      const ids = [randomUUID(), randomUUID(), randomUUID()];

      const result = await batch(
        insertSql,
        ids.map((id, i) => [str('id', id, 'UUID'), str('name', `batch-${id}`), long('qty', i)]),
      );

      expect(result.updateResults).toEqual([
        { generatedFields: [] },
        { generatedFields: [] },
        { generatedFields: [] },
      ]);
      const stored = await admin.query(
        `SELECT id, qty FROM ${ITEMS} WHERE id = ANY($1::uuid[]) ORDER BY qty`,
        [ids],
      );
      expect(stored.rows).toEqual(ids.map((id, i) => ({ id, qty: String(i) })));
    });

    it('inserts no set when one fails', async () => {
      const ids = [randomUUID(), randomUUID()];
      const sets = ids.map((id) => [str('id', id, 'UUID'), str('name', `same-${ids[0]}`), long('qty', 1)]);

      await expect(batch(insertSql, sets)).rejects.toMatchObject({
        name: 'DatabaseErrorException',
        message: expect.stringContaining('SQLState: 23505'),
      });
      expect(await countItems('id = ANY($1::uuid[])', [ids])).toBe(0);
    });

    it('runs inside a transaction when given one', async () => {
      const id = randomUUID();
      const transactionId = await begin();

      await batch(
        insertSql,
        [[str('id', id, 'UUID'), str('name', `btx-${id}`), long('qty', 1)]],
        transactionId,
      );
      expect(await countItems('id = $1', [id])).toBe(0);
      await rollback(transactionId);

      expect(await countItems('id = $1', [id])).toBe(0);
      await expect(execute('SELECT 1', [], { transactionId })).rejects.toMatchObject({
        name: 'TransactionNotFoundException',
      });
    });

    it('rejects array parameters and multiple statements and runs nothing', async () => {
      const id = randomUUID();

      await expect(
        batch(insertSql, [
          [str('id', id, 'UUID'), { name: 'name', value: { arrayValue: { stringValues: ['x'] } } }],
        ]),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
      await expect(
        batch(`${insertSql}; SELECT 1`, [[str('id', id, 'UUID'), str('name', 'n'), long('qty', 1)]]),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
      expect(await countItems('id = $1', [id])).toBe(0);
    });
  });

  describe('test knobs', () => {
    it('failNextWithResuming(1) fails exactly the next call with DatabaseResumingException', async () => {
      server.resetCalls();
      server.failNextWithResuming(1);

      await expect(execute('SELECT 1')).rejects.toMatchObject({
        name: 'DatabaseResumingException',
        $metadata: { httpStatusCode: 400 },
      });
      expect(server.calls.Execute).toBe(1); // surfaced to the caller, not retried by the SDK
      await expect(execute('SELECT 1 AS ok')).resolves.toMatchObject({ records: [[{ longValue: 1 }]] });
    });

    it('counts calls per operation', async () => {
      server.resetCalls();
      const transactionId = await begin();
      await execute('SELECT 1', [], { transactionId });
      await execute('SELECT 2', [], { transactionId });
      await commit(transactionId);
      await client.send(new BatchExecuteStatementCommand({ ...TARGET, sql: 'SELECT 1' }));

      expect(server.calls).toEqual({
        BeginTransaction: 1,
        Execute: 2,
        CommitTransaction: 1,
        BatchExecute: 1,
      });
      server.resetCalls();
      expect(server.calls).toEqual({});
    });
  });
});
