import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Actor } from '#core/domain/sync-model.ts';
import { formatPath, ValidationError } from '#core/errors.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import {
  AdoHostNotAllowedError,
  describeAdoFailure,
  type WorkItemTrackerFactory,
} from '#core/ports/work-item-tracker.ts';
import { appendAuditLog } from '#store/audit-log-store.ts';
import type { Database } from '#store/database.ts';
import {
  activateConfiguration,
  type ConfigurationRecord,
  deleteConfiguration,
  getConfiguration,
  insertConfiguration,
  updateConfiguration,
} from '../../store/configuration-store.ts';
import { parseOrganization } from '../domain/ado-organization.ts';

/** `Configuration` as the frontend reads it (CONTRACT.md §6): camelCase, never the PAT. */
export const ConfigurationView = z.object({
  id: z.string(),
  name: z.string(),
  organization: z.string(),
  isActive: z.boolean(),
  isTested: z.boolean(),
  testPassed: z.boolean(),
  testError: z.string().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type ConfigurationView = z.infer<typeof ConfigurationView>;

export function toConfigurationView(record: ConfigurationRecord): ConfigurationView {
  const { secretRef: _secret, ...view } = record;
  return view;
}

/**
 * An organization name or a base URL, checked for its shape here; whether its origin may receive a PAT
 * is asked of the tracker factory (`checkDestination`), which knows the allowed origins.
 */
const organization = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(1000)
  .superRefine((value, ctx) => {
    const shape = parseOrganization(value);
    if (!shape.ok) ctx.addIssue({ code: 'custom', message: shape.problem });
  });

export const CreateConfigurationBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(255),
  organization,
  patToken: z.string().trim().min(1, 'must not be empty').max(1000),
  setActive: z.boolean().optional(),
});
export const UpdateConfigurationBody = CreateConfigurationBody.partial().omit({ setActive: true });

export interface ConfigurationDeps {
  db: Database;
  secrets: SecretStore;
  trackers: WorkItemTrackerFactory;
  now: () => Date;
}

export interface TestResult {
  success: boolean;
  message: string;
  projectCount?: number;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  throw new ValidationError(`Invalid request: ${details[0]?.path}: ${details[0]?.message}`, details);
}

/**
 * A PAT goes only where it was entered for: the factory refuses (`AdoHostNotAllowedError`) an
 * organization whose origin is not allowed. Building a tracker sends nothing.
 */
function checkDestination(deps: ConfigurationDeps, org: string, pat: string): void {
  try {
    deps.trackers({ organization: org, pat });
  } catch (error) {
    if (!(error instanceof AdoHostNotAllowedError)) throw error;
    throw new ValidationError(`Invalid request: organization: ${error.problem}`, [
      { path: 'organization', message: error.problem },
    ]);
  }
}

/** The base URL an organization stands for, to tell whether a change moves the PAT elsewhere. */
function targetOf(org: string): string | undefined {
  const shape = parseOrganization(org);
  return shape.ok ? shape.baseUrl : undefined;
}

async function runTest(
  deps: ConfigurationDeps,
  org: string,
  pat: string,
): Promise<TestResult & { projects?: string[] }> {
  try {
    const projects = await deps.trackers({ organization: org, pat }).listProjects();
    return {
      success: true,
      message: `Connected: ${projects.length} project(s) visible`,
      projectCount: projects.length,
      projects: projects.map((p) => p.name),
    };
  } catch (error) {
    // Our sentence with the HTTP status and TF code: never the answer's own text.
    return { success: false, message: describeAdoFailure(error) };
  }
}

/** Creates a configuration: stores the PAT in the secret store, tests the connection, audits. */
export async function createConfiguration(body: unknown, actor: Actor, deps: ConfigurationDeps) {
  const input = parse(CreateConfigurationBody, body);
  checkDestination(deps, input.organization, input.patToken);
  const id = randomUUID();
  const secretRef = await deps.secrets.put(id, input.patToken);
  const test = await runTest(deps, input.organization, input.patToken);
  const configuration = await deps.db.transaction(async (tx) => {
    const created = await insertConfiguration(tx, {
      id,
      name: input.name,
      organization: input.organization,
      secretRef,
      isTested: true,
      testPassed: test.success,
      ...(test.success ? {} : { testError: test.message }),
    });
    await appendAuditLog(tx, {
      actionType: 'config_created',
      entityType: 'configuration',
      entityId: id,
      ...actor,
      details: { name: input.name, organization: input.organization, test_passed: test.success },
    });
    if (input.setActive && test.success) {
      const active = await activateConfiguration(tx, id);
      await appendAuditLog(tx, {
        actionType: 'config_activated',
        entityType: 'configuration',
        entityId: id,
        ...actor,
      });
      return active;
    }
    return created;
  });
  const { projects: _p, ...testResult } = test;
  return { configuration: toConfigurationView(configuration), testResult };
}

/**
 * Updates name/organization/PAT; a new PAT or organization resets the test result. A stored PAT stays
 * bound to the organization it was entered for: moving to another base URL needs its PAT in the same
 * request (else 400 naming `organization`, nothing written).
 */
export async function changeConfiguration(id: string, body: unknown, actor: Actor, deps: ConfigurationDeps) {
  const input = parse(UpdateConfigurationBody, body);
  const current = await getConfiguration(deps.db, id);
  const organizationChanged = input.organization !== undefined && input.organization !== current.organization;
  const targetChanged =
    input.organization !== undefined &&
    (targetOf(input.organization) === undefined ||
      targetOf(input.organization) !== targetOf(current.organization));
  if (targetChanged && input.patToken === undefined) {
    const message = 'a new organization needs its own PAT: send patToken in the same request';
    throw new ValidationError(`Invalid request: organization: ${message}`, [
      { path: 'organization', message },
    ]);
  }
  if (input.patToken !== undefined) {
    checkDestination(deps, input.organization ?? current.organization, input.patToken);
  }
  const secretRef = input.patToken ? await deps.secrets.put(id, input.patToken) : undefined;
  const reset = input.patToken !== undefined || organizationChanged;
  const updated = await deps.db.transaction(async (tx) => {
    const record = await updateConfiguration(tx, id, {
      ...(input.name ? { name: input.name } : {}),
      ...(input.organization ? { organization: input.organization } : {}),
      ...(secretRef ? { secretRef } : {}),
      ...(reset ? { isTested: false, testPassed: false, testError: null } : {}),
    });
    await appendAuditLog(tx, {
      actionType: 'config_updated',
      entityType: 'configuration',
      entityId: id,
      ...actor,
      details: {
        fields: Object.keys(input).map((k) => (k === 'patToken' ? 'pat' : k)),
        ...(organizationChanged
          ? { organization: { from: current.organization, to: input.organization } }
          : {}),
      },
    });
    return record;
  });
  return toConfigurationView(updated);
}

export async function removeConfiguration(id: string, actor: Actor, deps: ConfigurationDeps) {
  const removed = await deps.db.transaction(async (tx) => {
    const record = await deleteConfiguration(tx, id);
    await appendAuditLog(tx, {
      actionType: 'config_deleted',
      entityType: 'configuration',
      entityId: id,
      ...actor,
      details: { name: record.name },
    });
    return record;
  });
  await deps.secrets.delete(removed.secretRef).catch(() => undefined);
  return toConfigurationView(removed);
}

/** Activates a configuration whose connection test passed (400 otherwise). */
export async function makeActive(id: string, actor: Actor, deps: ConfigurationDeps) {
  const current = await getConfiguration(deps.db, id);
  if (!current.testPassed) {
    throw new ValidationError('Only a configuration whose connection test passed can be activated', [
      { path: 'id', message: 'connection test has not passed' },
    ]);
  }
  const active = await deps.db.transaction(async (tx) => {
    const record = await activateConfiguration(tx, id);
    await appendAuditLog(tx, {
      actionType: 'config_activated',
      entityType: 'configuration',
      entityId: id,
      ...actor,
    });
    return record;
  });
  return toConfigurationView(active);
}

/** Tests a stored configuration's connection, stores the result and audits it. */
export async function testConnection(id: string, actor: Actor, deps: ConfigurationDeps) {
  const current = await getConfiguration(deps.db, id);
  const test = await runTest(deps, current.organization, await deps.secrets.get(current.secretRef));
  const updated = await deps.db.transaction(async (tx) => {
    const record = await updateConfiguration(tx, id, {
      isTested: true,
      testPassed: test.success,
      testError: test.success ? null : test.message,
    });
    await appendAuditLog(tx, {
      actionType: 'connection_tested',
      entityType: 'configuration',
      entityId: id,
      ...actor,
      details: { success: test.success, message: test.message },
    });
    return record;
  });
  return {
    success: test.success,
    message: test.message,
    data: {
      projects: test.projects ?? [],
      projectCount: test.projectCount ?? 0,
      timestamp: deps.now().toISOString(),
    },
    configuration: toConfigurationView(updated),
  };
}
