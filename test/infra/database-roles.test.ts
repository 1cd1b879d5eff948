import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#lib/constructs/sync-function.ts';
import { RUNTIME_DB_USER } from '#lib/stateful-stack.ts';
import {
  cdkJsonContext,
  iamStatements,
  nagFindings,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
} from '#test/infra/support/synth.ts';

// Issue 15: the schema owner's credentials (the cluster's master secret) are for the migrate function
// only; the runtime functions get a secret of their own, for the DML-only role of
// migrations/0009_runtime_role.sql, whose password the migrate function sets from it.
let synth: SynthesizedApp;

beforeAll(() => {
  // Bundles do not matter here (migrate-bundle.test.ts runs the real one).
  synth = synthApp(cdkJsonContext(), { bundling: false });
});

/** Logical id, in the stateful stack, of what a secret's ARN refers to (its cluster attachment). */
const refOf = (secret: ISecret | undefined): string => {
  const resolved = synth.stateful.resolve(secret?.secretArn) as { Ref?: string };
  if (!resolved.Ref) throw new Error('expected a secret of the stateful stack');
  return resolved.Ref;
};

/**
 * Logical id of the stateful resource whose `Ref` the stateless stack imports here (the export is
 * named `<stack>:ExportsOutputRef<logical id><hash>`).
 */
const importedRef = (value: unknown): string | undefined =>
  /:ExportsOutputRef(\w+)[0-9A-F]{8}$/.exec(
    (value as { 'Fn::ImportValue'?: string } | undefined)?.['Fn::ImportValue'] ?? '',
  )?.[1];

/** The migrate function's properties and its role's IAM statements. */
function migrateFunction(template: Template, stack: Stack) {
  const { fn } = synth.stateless.migration.migrate;
  const resources = resourcesOf(template);
  const properties = resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)]?.Properties;
  const roleId = stack.getLogicalId(fn.role?.node.defaultChild as CfnElement);
  const statements = iamStatements(template).filter((s) =>
    JSON.stringify(resources[s.policy]?.Properties?.Roles ?? []).includes(`"${roleId}"`),
  );
  const env = (properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  return { env: env ?? {}, statements };
}

describe('database roles', () => {
  it('keeps a generated secret for the runtime role ardoq_sync_app, attached to the cluster like the owner’s', () => {
    const resources = resourcesOf(synth.statefulTemplate);
    const attachmentId = refOf(synth.stateful.runtimeSecret);
    const attachment = resources[attachmentId];
    expect(attachment).toMatchObject({
      Type: 'AWS::SecretsManager::SecretTargetAttachment',
      Properties: {
        TargetId: {
          Ref: synth.stateful.getLogicalId(synth.stateful.cluster.node.defaultChild as CfnElement),
        },
        TargetType: 'AWS::RDS::DBCluster',
      },
    });
    const secretId = (attachment?.Properties?.SecretId as { Ref?: string } | undefined)?.Ref ?? '';
    const generated = (resources[secretId]?.Properties?.GenerateSecretString ?? {}) as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(generated.SecretStringTemplate)).toContain(
      `\\"username\\":\\"${RUNTIME_DB_USER}\\"`,
    );
    expect(generated).toMatchObject({ GenerateStringKey: 'password', PasswordLength: 30 });
    // The user the migration creates.
    const migration = readFileSync(join(PROJECT_ROOT, 'migrations', '0009_runtime_role.sql'), 'utf8');
    expect(migration).toContain(`CREATE ROLE ${RUNTIME_DB_USER} NOLOGIN`);
    expect(RUNTIME_DB_USER).toBe('ardoq_sync_app');
    // Not the owner's secret.
    expect(attachmentId).not.toBe(refOf(synth.stateful.cluster.secret));
  });

  it('lets the migrate function use the Data API as the owner and read the runtime secret, nothing more', () => {
    const { env, statements } = migrateFunction(synth.statelessTemplate, synth.stateless);
    const ownerRef = refOf(synth.stateful.cluster.secret);
    const runtimeRef = refOf(synth.stateful.runtimeSecret);

    expect(importedRef(env.DB_SECRET_ARN)).toBe(ownerRef);
    expect(importedRef(env.RUNTIME_DB_SECRET_ARN)).toBe(runtimeRef);

    const secretReads = statements
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')))
      .map((s) => ({ actions: [s.Action].flat().sort(), secret: importedRef(s.Resource) }))
      .sort((a, b) => String(a.secret).localeCompare(String(b.secret)));
    expect(secretReads).toEqual(
      [ownerRef, runtimeRef].sort().map((secret) => ({
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        secret,
      })),
    );
    // The Data API on this cluster (arn:…:cluster:<imported cluster identifier>).
    const clusterRef = synth.stateful.getLogicalId(synth.stateful.cluster.node.defaultChild as CfnElement);
    const dataApi = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('rds-data:')));
    expect(dataApi).toHaveLength(1);
    const arn = dataApi[0]?.Resource as { 'Fn::Join'?: [string, unknown[]] } | undefined;
    const parts = arn?.['Fn::Join']?.[1] ?? [];
    expect(parts.at(-2)).toBe(':cluster:');
    expect(importedRef(parts.at(-1))).toBe(clusterRef);
  });

  it('passes cdk-nag: the runtime secret’s rotation is acknowledged with its reason', () => {
    expect(nagFindings(synth.app)).toEqual([]);
  });
});
