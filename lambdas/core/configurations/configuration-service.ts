import { randomUUID } from 'node:crypto';
import { parseOrganization } from '#core/domain/ado-organization.ts';
import type { NewAuditLog } from '#core/domain/audit.ts';
import {
  type ConfigurationRecord,
  type ConfigurationView,
  toConfigurationView,
} from '#core/domain/configuration.ts';
import type { Actor } from '#core/domain/sync-model.ts';
import { ValidationError } from '#core/errors.ts';
import type { Clock } from '#core/ports/clock.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import {
  AdoHostNotAllowedError,
  describeAdoFailure,
  type WorkItemTrackerFactory,
} from '#core/ports/work-item-tracker.ts';

/** A new configuration (validated at the edge: the route's body schema). */
export interface NewConfigurationInput {
  name: string;
  organization: string;
  patToken: string;
  setActive?: boolean;
}

/** A change of a configuration; absent fields stay. */
export type ConfigurationChangeInput = Partial<Omit<NewConfigurationInput, 'setActive'>>;

export interface ConfigurationDeps {
  configurations: ConfigurationStore;
  secrets: SecretStore;
  trackers: WorkItemTrackerFactory;
  clock: Clock;
}

export interface TestResult {
  success: boolean;
  message: string;
  projectCount?: number;
}

/** An audit entry about one configuration, by the actor who changed it. */
export const auditEntry = (
  actionType: NewAuditLog['actionType'],
  id: string,
  actor: Actor,
  details?: Record<string, unknown>,
): NewAuditLog => ({
  actionType,
  entityType: 'configuration',
  entityId: id,
  ...actor,
  ...(details ? { details } : {}),
});

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
export async function createConfiguration(
  input: NewConfigurationInput,
  actor: Actor,
  deps: ConfigurationDeps,
): Promise<{ configuration: ConfigurationView; testResult: TestResult }> {
  checkDestination(deps, input.organization, input.patToken);
  const id = randomUUID();
  const secretRef = await deps.secrets.put(id, input.patToken);
  try {
    const test = await runTest(deps, input.organization, input.patToken);
    const activate = input.setActive === true && test.success;
    const configuration = await deps.configurations.create(
      {
        id,
        name: input.name,
        organization: input.organization,
        secretRef,
        isTested: true,
        testPassed: test.success,
        ...(test.success ? {} : { testError: test.message }),
      },
      {
        activate,
        audit: [
          auditEntry('config_created', id, actor, {
            name: input.name,
            organization: input.organization,
            test_passed: test.success,
          }),
          ...(activate ? [auditEntry('config_activated', id, actor)] : []),
        ],
      },
    );
    const { projects: _p, ...testResult } = test;
    return { configuration: toConfigurationView(configuration), testResult };
  } catch (error) {
    // No configuration was stored (a name already used, the database down): leave no secret behind.
    await deps.secrets.delete(secretRef).catch(() => undefined);
    throw error;
  }
}

/**
 * Updates name/organization/PAT; a new PAT or organization resets the test result. A stored PAT stays
 * bound to the organization it was entered for: moving to another base URL needs its PAT in the same
 * request (else 400 naming `organization`, nothing written).
 */
export async function changeConfiguration(
  id: string,
  input: ConfigurationChangeInput,
  actor: Actor,
  deps: ConfigurationDeps,
): Promise<ConfigurationView> {
  const current = await deps.configurations.get(id);
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
  const reset = input.patToken !== undefined || organizationChanged;
  const updated = await replacingSecret(
    deps.secrets,
    id,
    current.secretRef,
    input.patToken || undefined,
    (secretRef) =>
      deps.configurations.update(
        id,
        {
          ...(input.name ? { name: input.name } : {}),
          ...(input.organization ? { organization: input.organization } : {}),
          ...(secretRef ? { secretRef } : {}),
          ...(reset ? { isTested: false, testPassed: false, testError: null } : {}),
        },
        [
          auditEntry('config_updated', id, actor, {
            fields: Object.keys(input).map((k) => (k === 'patToken' ? 'pat' : k)),
            ...(organizationChanged
              ? { organization: { from: current.organization, to: input.organization } }
              : {}),
          }),
        ],
      ),
  );
  return toConfigurationView(updated);
}

/**
 * Writes a configuration's new credential, then its record. When the record is refused (a name taken,
 * the row gone), the previous credential is put back: a stored token stays with the host it was
 * entered for, never the new token beside the old host.
 */
export async function replacingSecret<T>(
  secrets: SecretStore,
  id: string,
  currentRef: string,
  secret: string | undefined,
  write: (secretRef: string | undefined) => Promise<T>,
): Promise<T> {
  if (secret === undefined) return write(undefined);
  const previous = await secrets.get(currentRef);
  const secretRef = await secrets.put(id, secret);
  try {
    return await write(secretRef);
  } catch (error) {
    await secrets.put(id, previous);
    throw error;
  }
}

export async function removeConfiguration(
  id: string,
  actor: Actor,
  deps: ConfigurationDeps,
): Promise<ConfigurationView> {
  return toConfigurationView(await removeStored(deps.configurations, deps.secrets, id, actor));
}

/** Deletes a configuration (audited) and then its credential; `details` add to the audit entry. */
export async function removeStored<T extends object>(
  store: ConfigurationStore<T>,
  secrets: SecretStore,
  id: string,
  actor: Actor,
  details: Record<string, unknown> = {},
): Promise<ConfigurationRecord<T>> {
  const current = await store.get(id);
  const removed = await store.remove(id, [
    auditEntry('config_deleted', id, actor, { name: current.name, ...details }),
  ]);
  await secrets.delete(removed.secretRef).catch(() => undefined);
  return removed;
}

/** Activates a configuration whose connection test passed (400 otherwise). */
export async function makeActive(
  id: string,
  actor: Actor,
  deps: ConfigurationDeps,
): Promise<ConfigurationView> {
  return toConfigurationView(await activateTested(deps.configurations, id, actor));
}

/** Makes a configuration the only active one, when its connection test passed (else 400, nothing written). */
export async function activateTested<T extends object>(
  store: ConfigurationStore<T>,
  id: string,
  actor: Actor,
  details?: Record<string, unknown>,
): Promise<ConfigurationRecord<T>> {
  const current = await store.get(id);
  if (!current.testPassed) {
    throw new ValidationError('Only a configuration whose connection test passed can be activated', [
      { path: 'id', message: 'connection test has not passed' },
    ]);
  }
  return store.activate(id, [auditEntry('config_activated', id, actor, details)]);
}

/** Tests a stored configuration's connection, stores the result and audits it. */
export async function testConnection(id: string, actor: Actor, deps: ConfigurationDeps) {
  const current = await deps.configurations.get(id);
  const test = await runTest(deps, current.organization, await deps.secrets.get(current.secretRef));
  const updated = await deps.configurations.update(
    id,
    { isTested: true, testPassed: test.success, testError: test.success ? null : test.message },
    [auditEntry('connection_tested', id, actor, { success: test.success, message: test.message })],
  );
  return {
    success: test.success,
    message: test.message,
    data: {
      projects: test.projects ?? [],
      projectCount: test.projectCount ?? 0,
      timestamp: deps.clock.now().toISOString(),
    },
    configuration: toConfigurationView(updated),
  };
}
