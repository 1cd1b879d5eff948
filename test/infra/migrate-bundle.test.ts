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
import { createScratchDatabase, postgresAvailable, postgresSkipReason } from '#test/support/postgres.ts';

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
    function: { timeoutSeconds: 300, memoryMb: 256, logRetentionDays: 7, logLevel: 'INFO', tracing: 'off' },
  });
  const assembly = app.synth();
  const fn = assembly.getStackByName('Migrations').template.Resources[
    stack.getLogicalId(migration.migrate.fn.node.defaultChild as CfnElement)
  ] as { Properties: { Code: { S3Key: string } } };
  return join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
}

describe.skipIf(!postgresAvailable)(`the migrate function's bundle ${postgresSkipReason}`, () => {
  let bundle: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: DataApiServer;
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
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:test',
        DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test',
        DB_NAME: 'ardoq_sync',
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

  beforeAll(async () => {
    bundle = bundleMigrate();
    scratch = await createScratchDatabase();
    server = await startDataApiServer({ connectionString: scratch.url });
  });
  afterAll(async () => {
    await server?.close();
    await scratch?.drop();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  it('applies every bundled migration through the Data API and logs their names', async () => {
    const { ok, result, logs } = await invoke(bundle);
    expect(ok).toBe(true);
    expect(result).toEqual({ applied: MIGRATIONS, alreadyApplied: [] });
    expect(logs).toContain('"message":"migrations done"');
    expect(await appliedNames()).toEqual(MIGRATIONS);
  });

  it('applies nothing the second time', async () => {
    expect(await invoke(bundle)).toMatchObject({
      ok: true,
      result: { applied: [], alreadyApplied: MIGRATIONS },
    });
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
