import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaMigration } from '#lib/constructs/schema-migration.ts';
import { PROJECT_ROOT } from '#lib/constructs/sync-function.ts';
import { type DataApiServer, startDataApiServer } from '#test/support/data-api-server.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '#test/support/fake-secrets-manager.ts';
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';
import { RUNTIME_ROLE, RUNTIME_TEST_PASSWORD, scramVerifierMatches } from '#test/support/runtime-role.ts';

const run = promisify(execFile);
const MIGRATIONS = readdirSync(join(PROJECT_ROOT, 'migrations'))
  .filter((f) => f.endsWith('.sql'))
  .sort();

/** The migrate function's bundle exactly as CDK builds it (esbuild, ESM, migrations copied in). */
function bundleMigrate(): string {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Migrations');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    natGateways: 0,
    subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const cluster = new rds.DatabaseCluster(stack, 'Database', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
    writer: rds.ClusterInstance.serverlessV2('writer'),
    enableDataApi: true,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  });
  const migration = new SchemaMigration(stack, 'SchemaMigration', {
    cluster,
    databaseName: 'ardoq_sync',
    runtimeSecret: new rds.DatabaseSecret(stack, 'RuntimeSecret', { username: RUNTIME_ROLE }),
    function: {
      timeoutSeconds: 300,
      memoryMb: 256,
      reservedConcurrency: 1,
      logRetentionDays: 7,
      logLevel: 'INFO',
      tracing: 'off',
    },
  });
  const assembly = app.synth();
  const fn = assembly.getStackByName('Migrations').template.Resources[
    stack.getLogicalId(migration.migrate.fn.node.defaultChild as CfnElement)
  ] as { Properties: { Code: { S3Key: string } } };
  return join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
}

const RUNTIME_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:runtime-AbCdEf';
/** The runtime role's secret as RDS writes it (rds.DatabaseSecret attached to the cluster). */
const runtimeSecret = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    username: RUNTIME_ROLE,
    password: RUNTIME_TEST_PASSWORD,
    engine: 'postgres',
    host: 'db.example',
    port: 5432,
    dbname: 'ardoq_sync',
    ...fields,
  });

describe.skipIf(!postgresAvailable)(`the migrate function's bundle ${postgresSkipReason}`, () => {
  let bundle: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: DataApiServer;
  let secrets: FakeSecretsManager;
  const copies: string[] = [];

  /** Invokes the bundle's handler in a fresh Node process, the Data API pointing at the test server. */
  async function invoke(dir: string): Promise<{ ok: boolean; result: unknown; logs: string }> {
    const script = `
      try {
        const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});
        console.log(JSON.stringify({ ok: true, result: await handler({}) }));
      } catch (error) {
        console.log(JSON.stringify({ ok: false, result: error.name + ': ' + error.message }));
      }`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_RDS_DATA: server.url,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:test',
        DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test',
        DB_NAME: 'ardoq_sync',
        RUNTIME_DB_SECRET_ARN: RUNTIME_SECRET_ARN,
      },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    const outcome = JSON.parse(lines.at(-1) ?? '{}') as { ok: boolean; result: unknown };
    return { ...outcome, logs: `${stdout}\n${stderr}` };
  }

  /** A copy of the bundle with its migrations folder changed. */
  function variant(change: (migrationsDir: string) => void): string {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-bundle-'));
    copies.push(dir);
    cpSync(bundle, dir, { recursive: true });
    change(join(dir, 'migrations'));
    return dir;
  }

  async function appliedNames(): Promise<string[]> {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY name',
      );
      return rows.map((row) => row.name);
    } finally {
      await client.end();
    }
  }

  /**
   * The runtime role's stored password (a SCRAM verifier, salted anew by every change) and whether it
   * is the test password. The role belongs to the whole server: absent before any migration ran there.
   */
  async function runtimeRolePassword(): Promise<{ canLogin: boolean; verifier: string; matches: boolean }> {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ can_login: boolean; password: string | null }>(
        'SELECT rolcanlogin AS can_login, rolpassword AS password FROM pg_authid WHERE rolname = $1',
        [RUNTIME_ROLE],
      );
      const verifier = rows[0]?.password ?? '';
      return {
        canLogin: rows[0]?.can_login ?? false,
        verifier,
        matches: scramVerifierMatches(verifier, RUNTIME_TEST_PASSWORD),
      };
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    bundle = bundleMigrate();
    scratch = await createScratchDatabase();
    server = await startDataApiServer({ connectionString: scratch.url });
    secrets = await startFakeSecretsManager({ [RUNTIME_SECRET_ARN]: runtimeSecret() });
  });
  afterAll(async () => {
    await secrets?.close();
    await server?.close();
    await scratch?.drop();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  it('applies every bundled migration through the Data API, logs their names, then sets the runtime role’s password', async () => {
    const before = await runtimeRolePassword();
    const { ok, result, logs } = await invoke(bundle);
    expect(ok).toBe(true);
    expect(result).toEqual({ applied: MIGRATIONS, alreadyApplied: [] });
    expect(logs).toContain('"message":"migrations done"');
    expect(await appliedNames()).toEqual(MIGRATIONS);

    // Then the runtime role's password, from its secret: never logged.
    expect(secrets.requests).toEqual([RUNTIME_SECRET_ARN]);
    expect(logs).toContain('"message":"runtime role password set"');
    expect(logs).not.toContain(RUNTIME_TEST_PASSWORD);
    const after = await runtimeRolePassword();
    expect(after.verifier).not.toBe(before.verifier); // a new salt: set by this run
    expect(after).toMatchObject({ canLogin: true, matches: true });
  });

  it('applies nothing the second time', async () => {
    expect(await invoke(bundle)).toMatchObject({
      ok: true,
      result: { applied: [], alreadyApplied: MIGRATIONS },
    });
  });

  it('fails the deployment on a runtime secret of another user or without JSON, its content kept out of the logs', async () => {
    try {
      secrets.secrets.set(RUNTIME_SECRET_ARN, runtimeSecret({ username: 'sync_admin' }));
      const otherUser = await invoke(bundle);
      secrets.secrets.set(RUNTIME_SECRET_ARN, `not json ${RUNTIME_TEST_PASSWORD}`);
      const notJson = await invoke(bundle);

      expect(otherUser.ok).toBe(false);
      expect(String(otherUser.result)).toMatch(/sets the password of ardoq_sync_app only/);
      expect(notJson.ok).toBe(false);
      expect(String(notJson.result)).toMatch(/is not a JSON database secret/);
      for (const { result, logs } of [otherUser, notJson]) {
        expect(`${String(result)}\n${logs}`).not.toContain(RUNTIME_TEST_PASSWORD);
      }
    } finally {
      secrets.secrets.set(RUNTIME_SECRET_ARN, runtimeSecret());
    }
  });

  it('throws on a failing migration (failing the Trigger and the deployment) and records nothing of it', async () => {
    const broken = variant((dir) =>
      writeFileSync(join(dir, '9999_broken.sql'), 'SELECT * FROM no_such_table;\n'),
    );
    const { ok, result } = await invoke(broken);
    expect(ok).toBe(false);
    expect(String(result)).toMatch(/no_such_table/);
    expect(await appliedNames()).toEqual(MIGRATIONS);
  });

  it('changes nothing when the database is ahead of the bundle (a rollback re-runs the previous version)', async () => {
    const previous = variant((dir) => rmSync(join(dir, MIGRATIONS.at(-1) as string)));
    const { ok, result, logs } = await invoke(previous);
    expect({ ok, result }).toEqual({
      ok: true,
      result: { applied: [], alreadyApplied: MIGRATIONS.slice(0, -1) },
    });
    expect(logs).toContain('database is ahead of this bundle');
    expect(await appliedNames()).toEqual(MIGRATIONS);
  });
});
