import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/** An RDS Data API (restJson1) test server over real PostgreSQL for the real SDK client; SigV4 is ignored. */
export interface DataApiServerOptions {
  connectionString: string;
  transactionIdleTimeoutMs?: number;
}
export interface DataApiServer {
  url: string;
  close(): Promise<void>;
  /** Fault knob: the next N calls answer DatabaseResumingException (HTTP 400, like a paused cluster). */
  failNextWithResuming(n: number): void;
  /** Number of requests served per operation, e.g. { Execute: 12, BeginTransaction: 1 } */
  readonly calls: Record<string, number>;
  /** Size of the largest request body received (refused ones included) since the last reset. */
  readonly largestRequestBytes: number;
  /** Resets `calls` and `largestRequestBytes`. */
  resetCalls(): void;
}

type Body = Record<string, unknown>;
/** An answer given as an error: `name` becomes x-amzn-ErrorType, the HTTP status follows from the name. */
class ApiError extends Error {}
const STATUS: Record<string, number> = {
  TransactionNotFoundException: 404,
  NotFoundException: 404,
  InternalServerErrorException: 500,
};
const apiError = (name: string, message: string) => Object.assign(new ApiError(message), { name });
const badRequest = (message: string) => apiError('BadRequestException', message);

// ---------- SQL: named parameters and statement count ----------

type Piece = string | { param: string };
const DOLLAR_TAG = /\$([A-Za-z_]\w*)?\$/y;
const PARAM_NAME = /[A-Za-z_]\w*/y;
const IDENT_CHAR = /[\w$\u0080-\uffff]/;

/** End of the quoted text, dollar-quoted body or comment that starts at i; i when none starts there. */
function skipInert(sql: string, i: number): number {
  const [ch, next] = [sql[i], sql[i + 1]];
  if (ch === '-' && next === '-') return sql.includes('\n', i) ? sql.indexOf('\n', i) : sql.length;
  if (ch === '/' && next === '*') {
    let depth = 0; // block comments nest in PostgreSQL
    for (let j = i; j < sql.length - 1; j++) {
      if (sql[j] === '/' && sql[j + 1] === '*') [depth, j] = [depth + 1, j + 1];
      else if (sql[j] === '*' && sql[j + 1] === '/') [depth, j] = [depth - 1, j + 1];
      if (depth === 0) return j + 1;
    }
    return sql.length;
  }
  if (ch === "'" || ch === '"') {
    const escapes = ch === "'" && /[Ee]/.test(sql[i - 1] ?? '') && !IDENT_CHAR.test(sql[i - 2] ?? ''); // E'\''
    for (let j = i + 1; j < sql.length; j++) {
      if ((escapes && sql[j] === '\\') || (sql[j] === ch && sql[j + 1] === ch)) j++;
      else if (sql[j] === ch) return j + 1;
    }
    return sql.length;
  }
  DOLLAR_TAG.lastIndex = i;
  const tag = ch === '$' && !IDENT_CHAR.test(sql[i - 1] ?? '') ? DOLLAR_TAG.exec(sql)?.[0] : undefined;
  if (!tag) return i;
  const close = sql.indexOf(tag, i + tag.length);
  return close < 0 ? sql.length : close + tag.length;
}

/** Splits SQL into text and `:name` pieces; anything but comments after a top-level `;` is a 2nd statement. */
function scanSql(sql: string): { pieces: Piece[]; multiStatement: boolean } {
  const pieces: Piece[] = [];
  let [start, i, afterSemicolon, multiStatement] = [0, 0, false, false];
  while (i < sql.length) {
    const [ch, end] = [sql[i] ?? '', skipInert(sql, i)];
    const isComment = /^(--|\/\*)/.test(sql.slice(i, i + 2));
    if (afterSemicolon && ch !== ';' && !/\s/.test(ch) && !isComment) multiStatement = true;
    afterSemicolon ||= ch === ';';
    if (ch === ':' && sql[i + 1] === ':') {
      i += 2; // a `::cast`, not a parameter
      continue;
    }
    PARAM_NAME.lastIndex = i + 1;
    const name = ch === ':' ? PARAM_NAME.exec(sql)?.[0] : undefined;
    if (name) {
      pieces.push(sql.slice(start, i), { param: name });
      start = i + 1 + name.length;
    }
    i = name ? start : Math.max(end, i + 1);
  }
  pieces.push(sql.slice(start));
  return { pieces, multiStatement };
}

// ---------- Parameters ----------

type SqlParameter = { name?: string; value?: Body; typeHint?: string };
const [DATE, TIME] = ['\\d{4}-\\d{2}-\\d{2}', '\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?'];
const HINTS: Record<string, { cast: string; format?: RegExp }> = {
  UUID: { cast: 'uuid' },
  TIMESTAMP: { cast: 'timestamp', format: new RegExp(`^${DATE} ${TIME}$`) }, // ISO 8601 (`T`, `Z`) is refused
  DATE: { cast: 'date', format: new RegExp(`^${DATE}$`) },
  TIME: { cast: 'time', format: new RegExp(`^${TIME}$`) },
  JSON: { cast: 'json' }, // PostgreSQL assigns json to jsonb columns too (assignment cast)
  DECIMAL: { cast: 'numeric' },
};

/** Value and cast of one parameter; the casts type parameters the way the service (over JDBC) does. */
function bindValue({ name, value: v = {}, typeHint }: SqlParameter): { value: unknown; cast: string } {
  if (Object.values(v).filter((x) => x !== undefined && x !== null).length !== 1) {
    throw badRequest(`Parameter ${name} must have exactly one value`);
  }
  if ('arrayValue' in v) throw badRequest('Array parameters are not supported.');
  if ('isNull' in v) return { value: null, cast: '' };
  if (typeof v.booleanValue === 'boolean') return { value: v.booleanValue, cast: '::bool' };
  if (typeof v.longValue === 'number') return { value: v.longValue, cast: '::int8' };
  if (typeof v.doubleValue === 'number') return { value: v.doubleValue, cast: '::float8' };
  if (typeof v.blobValue === 'string') return { value: Buffer.from(v.blobValue, 'base64'), cast: '::bytea' };
  if (typeof v.stringValue !== 'string') throw badRequest(`Unsupported value for parameter ${name}`);
  const hint = typeHint === undefined ? { cast: 'varchar' } : HINTS[typeHint];
  if (!hint) throw badRequest(`Unsupported typeHint ${typeHint} for parameter ${name}`);
  if (hint.format?.test(v.stringValue) === false) {
    throw badRequest(`Invalid ${typeHint} value for parameter ${name}: ${v.stringValue}`);
  }
  return { value: v.stringValue, cast: `::${hint.cast}` };
}

/** The `$n` query for one parameter set; a name used twice maps to the same `$n`. */
function bindSql(pieces: Piece[], params: SqlParameter[]): pg.QueryConfig {
  if (!Array.isArray(params)) throw badRequest('parameters must be a list');
  const bound = new Map(params.map((p) => [p.name, { ...bindValue(p), n: 0 }])); // rejects unused arrays too
  const values: unknown[] = [];
  const text = pieces.map((piece) => {
    if (typeof piece === 'string') return piece;
    const param = bound.get(piece.param);
    if (!param) throw badRequest(`No value specified for parameter: ${piece.param}`);
    if (!param.n) param.n = values.push(param.value);
    return `($${param.n}${param.cast})`;
  });
  // Extended protocol even without parameters, so PostgreSQL itself refuses a second statement.
  return { text: text.join(''), values, queryMode: 'extended' } as pg.QueryConfig;
}

function prepare(sql: unknown, parameterSets: SqlParameter[][]): pg.QueryConfig[] {
  if (typeof sql !== 'string' || !sql.trim()) throw badRequest('sql is required');
  if (!Array.isArray(parameterSets)) throw badRequest('parameterSets must be a list');
  const { pieces, multiStatement } = scanSql(sql);
  if (multiStatement) throw badRequest('Multiple SQL statements in one call are not supported');
  return parameterSets.map((params) => bindSql(pieces, params));
}

// ---------- Results ----------

type TypeInfo = { name: string; elem: number }; // elem: the element type of an array, else 0
type Types = Map<number, TypeInfo>;
// Columns arrive as PostgreSQL's text (never a JS Date or a rounded number) and are formatted here.
const RAW_TEXT = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;
const parseTextArray = (pg.types.getTypeParser as (oid: number) => (text: string) => unknown[])(1009);

/** The Field member a PostgreSQL type is answered in. */
function kindOf(type = ''): 'longValue' | 'doubleValue' | 'booleanValue' | 'blobValue' | 'stringValue' {
  if (/^(int[248]|oid)$/.test(type)) return 'longValue';
  if (/^float[48]$/.test(type)) return 'doubleValue';
  return type === 'bool' ? 'booleanValue' : type === 'bytea' ? 'blobValue' : 'stringValue';
}

function convertScalar(text: string, type: string): unknown {
  const kind = kindOf(type);
  if (kind === 'longValue' || kind === 'doubleValue') return Number(text);
  if (kind === 'booleanValue') return text === 't';
  if (kind === 'blobValue') return Buffer.from(text.slice(2), 'hex').toString('base64'); // `\x…` hex
  // The service prints timestamps as `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC: drop the `+00`.
  return type === 'timestamptz' ? text.replace(/[+-]\d\d(:\d\d)*$/, '') : text;
}

function convert(text: string | null, info: TypeInfo, types: Types): unknown {
  if (text === null) return null;
  if (!info.elem) return convertScalar(text, info.name);
  const elemType = types.get(info.elem)?.name ?? 'text';
  const walk = (item: unknown): unknown =>
    Array.isArray(item) ? item.map(walk) : item === null ? null : convertScalar(String(item), elemType);
  return walk(parseTextArray(text));
}

function toArrayValue(items: unknown[], kind: string): Body {
  if (items.some(Array.isArray)) return { arrayValues: items.map((i) => toArrayValue(i as unknown[], kind)) };
  return { [/long|double|boolean/.test(kind) ? `${kind}s` : 'stringValues']: items };
}

function toField(value: unknown, info: TypeInfo, types: Types): Body {
  if (value === null) return { isNull: true };
  if (!Array.isArray(value)) return { [kindOf(info.name)]: value };
  return { arrayValue: toArrayValue(value, kindOf(types.get(info.elem)?.name)) };
}

// `type` is a java.sql.Types code, as PgJDBC (behind the real service) reports it; OTHER (1111) by default.
const JDBC_NUMBERS = { bool: -7, int2: 5, int4: 4, int8: -5, float4: 7, float8: 8, numeric: 2, bytea: -2 };
const JDBC_TEXTS = { text: 12, varchar: 12, bpchar: 1, date: 91, time: 92, timestamp: 93, timestamptz: 93 };
const JDBC_TYPES: Record<string, number> = { ...JDBC_NUMBERS, ...JDBC_TEXTS };

function toMetadata(field: pg.FieldDef, info: TypeInfo): Body {
  const type = info.elem ? 2003 : (JDBC_TYPES[info.name] ?? 1111);
  const isSigned = /long|double/.test(kindOf(info.name)) || info.name === 'numeric';
  // nullable 2 = unknown: the server does not look columns up.
  return { name: field.name, label: field.name, typeName: info.name, type, nullable: 2, isSigned };
}

// ---------- Backend: pool, transactions, type names ----------

type Transaction = { client: pg.PoolClient; timer?: NodeJS.Timeout };

class Backend {
  private readonly pool: pg.Pool;
  private readonly transactions = new Map<string, Transaction>();
  private readonly types: Types = new Map();

  constructor(
    connectionString: string,
    private readonly idleTimeoutMs: number,
  ) {
    // Every session runs in UTC with ISO dates like the service; the text formatting relies on both.
    this.pool = new pg.Pool({ connectionString, options: '-c TimeZone=UTC -c DateStyle=ISO,YMD' });
    this.pool.on('error', () => {}); // an idle connection dying must not crash the test process
    // A client dying inside a transaction must not crash it either; once per client, not per checkout.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  async begin(): Promise<string> {
    const client = await this.pool.connect();
    const id = randomBytes(36).toString('base64');
    this.transactions.set(id, { client });
    await this.run(id, (c) => c.query('BEGIN')).catch(async (err: unknown) => {
      await this.end(id, 'ROLLBACK').catch(() => {});
      throw err;
    });
    return id;
  }

  /** COMMIT or ROLLBACK; answers PostgreSQL's command tag (ROLLBACK when committing an aborted one). */
  async end(id: unknown, sql: 'COMMIT' | 'ROLLBACK'): Promise<string> {
    const tx = this.lookup(id);
    clearTimeout(tx.timer);
    this.transactions.delete(String(id));
    try {
      return (await tx.client.query(sql)).command;
    } finally {
      tx.client.release();
    }
  }

  /** Runs fn in the given transaction, or on a pooled client in autocommit mode. */
  async run<T>(txId: unknown, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    if (txId === undefined || txId === null) {
      const client = await this.pool.connect();
      try {
        return await fn(client);
      } finally {
        client.release(); // pg-pool discards a client whose connection broke
      }
    }
    const tx = this.lookup(txId);
    clearTimeout(tx.timer); // a running statement is not idle time
    try {
      return await fn(tx.client);
    } finally {
      // Like the service (3 minutes on AWS), roll back a transaction left idle and forget its id.
      clearTimeout(tx.timer);
      const rollback = () => this.end(txId, 'ROLLBACK').catch(() => {});
      tx.timer = setTimeout(rollback, this.idleTimeoutMs).unref();
    }
  }

  /** Type names by oid, read on the statement's own client (a type may be new in its transaction). */
  async typesOf(client: pg.ClientBase, fields: pg.FieldDef[]): Promise<Types> {
    const missing = fields.map((f) => f.dataTypeID).filter((oid) => !this.types.has(oid));
    if (missing.length === 0) return this.types;
    const { rows } = await client.query<TypeInfo & { oid: number }>(
      `SELECT oid::int, typname AS name, CASE WHEN typcategory = 'A' THEN typelem::int ELSE 0 END AS elem
       FROM pg_type WHERE oid = ANY($1::oid[]) OR oid IN (SELECT typelem FROM pg_type WHERE oid = ANY($1::oid[]))`,
      [missing],
    );
    for (const { oid, name, elem } of rows) this.types.set(oid, { name, elem });
    return this.types;
  }

  async close(): Promise<void> {
    for (const id of [...this.transactions.keys()]) await this.end(id, 'ROLLBACK').catch(() => {});
    await this.pool.end();
  }

  private lookup(id: unknown): Transaction {
    const tx = typeof id === 'string' ? this.transactions.get(id) : undefined;
    if (!tx) throw apiError('TransactionNotFoundException', `Transaction ${String(id)} is not found`);
    return tx;
  }
}

// ---------- Operations ----------

async function execute(backend: Backend, body: Body): Promise<Body> {
  const [query] = prepare(body.sql, [(body.parameters as SqlParameter[] | undefined) ?? []]);
  if (!['JSON', 'NONE', undefined].includes(body.formatRecordsAs as string)) {
    throw badRequest(`Unsupported formatRecordsAs: ${String(body.formatRecordsAs)}`);
  }
  return backend.run(body.transactionId, async (client) => {
    const result = await client.query<(string | null)[]>({ ...query!, rowMode: 'array', types: RAW_TEXT });
    const fields = result.fields ?? [];
    const types = await backend.typesOf(client, fields);
    const infos = fields.map((f) => types.get(f.dataTypeID) ?? { name: 'text', elem: 0 });
    const rows = result.rows.map((row) => row.map((text, i) => convert(text, infos[i]!, types)));
    const updated = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command) ? result.rowCount : 0;
    const response: Body = { numberOfRecordsUpdated: updated ?? 0, generatedFields: [] };
    if (body.includeResultMetadata) response.columnMetadata = fields.map((f, i) => toMetadata(f, infos[i]!));
    if (body.formatRecordsAs !== 'JSON') {
      response.records = rows.map((row) => row.map((value, i) => toField(value, infos[i]!, types)));
      return response;
    }
    const objects = rows.map((row) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
    return { ...response, formattedRecords: JSON.stringify(objects) };
  });
}

async function batchExecute(backend: Backend, body: Body): Promise<Body> {
  const sets = (body.parameterSets as SqlParameter[][] | undefined) ?? [];
  const queries = prepare(body.sql, sets.length > 0 ? sets : [[]]);
  const implicit = body.transactionId === undefined || body.transactionId === null;
  await backend.run(body.transactionId, async (client) => {
    if (implicit) await client.query('BEGIN'); // all parameter sets or none
    try {
      for (const query of queries) await client.query(query);
      if (implicit) await client.query('COMMIT');
    } catch (err) {
      if (implicit) await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  });
  return { updateResults: queries.map(() => ({ generatedFields: [] })) };
}

async function endTransaction(backend: Backend, body: Body, sql: 'COMMIT' | 'ROLLBACK'): Promise<Body> {
  const command = await backend.end(body.transactionId, sql);
  if (command !== sql) {
    // PostgreSQL quietly rolls back when asked to commit an aborted transaction: say so, not "Committed".
    throw apiError('DatabaseErrorException', 'Transaction was aborted by an earlier error and rolled back');
  }
  return { transactionStatus: sql === 'COMMIT' ? 'Transaction Committed' : 'Rollback Complete' };
}

const OPERATIONS: Record<string, (backend: Backend, body: Body) => Promise<Body>> = {
  Execute: execute,
  BatchExecute: batchExecute,
  BeginTransaction: async (backend) => ({ transactionId: await backend.begin() }),
  CommitTransaction: (backend, body) => endTransaction(backend, body, 'COMMIT'),
  RollbackTransaction: (backend, body) => endTransaction(backend, body, 'ROLLBACK'),
};

// ---------- HTTP ----------

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 1024 * 1024;
type State = { calls: Record<string, number>; resuming: number; largestRequest: number };

async function readBody(req: IncomingMessage, state: State): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk); // keep draining so the client reads the answer
  }
  state.largestRequest = Math.max(state.largestRequest, size);
  if (size > MAX_REQUEST_BYTES) throw badRequest('Request size exceeds the 4 MiB limit');
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (typeof body === 'object' && body && !Array.isArray(body)) return body as Body;
  } catch {}
  throw badRequest('Request body must be a JSON object');
}

/** The JSON answer of one request; throws what is to be answered as an error. */
async function answer(req: IncomingMessage, backend: Backend, state: State): Promise<string> {
  const body = await readBody(req, state);
  const operation = new URL(req.url ?? '/', 'http://localhost').pathname.slice(1);
  const run = req.method === 'POST' ? OPERATIONS[operation] : undefined;
  if (!run) throw apiError('NotFoundException', `Unknown operation: ${req.method} ${req.url}`);
  state.calls[operation] = (state.calls[operation] ?? 0) + 1;
  if (state.resuming > 0) {
    state.resuming--;
    throw apiError('DatabaseResumingException', 'The Aurora DB instance is resuming after being auto-paused');
  }
  if (typeof body.resourceArn !== 'string' || typeof body.secretArn !== 'string') {
    throw badRequest('resourceArn and secretArn are required');
  }
  const payload = JSON.stringify(await run(backend, body));
  if (Buffer.byteLength(payload) <= MAX_RESPONSE_BYTES) return payload;
  throw badRequest('Database returned more than the allowed response size limit');
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (!(err instanceof pg.DatabaseError)) return apiError('InternalServerErrorException', String(err));
  // The service's format; clients detect e.g. a unique violation by the SQLState in the message.
  const detail = err.detail ? `\n  Detail: ${err.detail}` : '';
  return apiError('DatabaseErrorException', `ERROR: ${err.message}${detail}; SQLState: ${err.code}`);
}

async function handle(req: IncomingMessage, res: ServerResponse, backend: Backend, state: State) {
  try {
    const payload = await answer(req, backend, state);
    res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
  } catch (err) {
    const { name, message } = toApiError(err);
    res.writeHead(STATUS[name] ?? 400, { 'content-type': 'application/json', 'x-amzn-ErrorType': name });
    res.end(JSON.stringify({ message }));
  }
}

export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  const backend = new Backend(options.connectionString, options.transactionIdleTimeoutMs ?? 180_000);
  const state: State = { calls: {}, resuming: 0, largestRequest: 0 };
  const server = createServer((req, res) => void handle(req, res, backend, state));
  server.keepAliveTimeout = 65_000; // outlive the SDK's idle keep-alive sockets: no reset on reuse
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: state.calls,
    get largestRequestBytes() {
      return state.largestRequest;
    },
    failNextWithResuming(n) {
      state.resuming = n;
    },
    resetCalls() {
      for (const key of Object.keys(state.calls)) delete state.calls[key];
      state.largestRequest = 0;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await backend.close();
    },
  };
}
