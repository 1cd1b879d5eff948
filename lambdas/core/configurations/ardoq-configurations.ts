import { randomUUID } from 'node:crypto';
import { parseArdoqHost } from '#core/domain/ardoq.ts';
import {
  type ArdoqConfigurationView,
  type ArdoqTarget,
  type ConfigurationRecord,
  toConfigurationView,
} from '#core/domain/configuration.ts';
import type { Actor } from '#core/domain/sync-model.ts';
import { ValidationError } from '#core/errors.ts';
import {
  type ArdoqClientFactory,
  ArdoqHostNotAllowedError,
  type ArdoqIdentity,
  describeArdoqFailure,
} from '#core/ports/ardoq.ts';
import type { Clock } from '#core/ports/clock.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import { activateTested, auditEntry, removeStored, replacingSecret } from './configuration-service.ts';
import { resolveTestedConfiguration } from './resolve.ts';

export interface ArdoqConfigurationDeps {
  ardoqConfigurations: ConfigurationStore<ArdoqTarget>;
  secrets: SecretStore;
  ardoq: ArdoqClientFactory;
  clock: Clock;
  /** `ARDOQ_ALLOWED_ORIGINS`: hosts a token may go to besides `https://*.ardoq.com`. */
  ardoqAllowedOrigins: readonly string[];
}

/** A new Ardoq configuration (validated at the edge: the route's body schema). */
export interface NewArdoqConfigurationInput {
  name: string;
  apiToken: string;
  apiHost?: string;
  orgLabel?: string;
  setActive?: boolean;
}

/** A change; absent fields stay. `isActive` activates (only a tested one) or deactivates. */
export interface ArdoqConfigurationChangeInput {
  name?: string;
  apiToken?: string;
  apiHost?: string;
  orgLabel?: string;
  isActive?: boolean;
}

export interface ArdoqTestResult extends ArdoqIdentity {
  success: boolean;
  error?: string;
  timestamp: string;
}

const SYSTEM = { system: 'ardoq' } as const;

const view = (record: ConfigurationRecord<ArdoqTarget>): ArdoqConfigurationView =>
  toConfigurationView(record);

/** The origin a token may be sent to, or a 400 naming `apiHost` (nothing sent, nothing written). */
function hostOf(deps: ArdoqConfigurationDeps, apiHost: string | undefined): string {
  const host = parseArdoqHost(apiHost, deps.ardoqAllowedOrigins);
  if (!host.ok)
    throw new ValidationError(`Invalid request: apiHost: ${host.problem}`, [
      { path: 'apiHost', message: host.problem },
    ]);
  return host.apiHost;
}

/** `GET /api/v2/me` with the token: passed, or our sentence (never the token, never Ardoq's text). */
async function runTest(
  deps: ArdoqConfigurationDeps,
  target: ArdoqTarget,
  token: string,
): Promise<ArdoqTestResult> {
  const timestamp = () => deps.clock.now().toISOString();
  try {
    const identity = await deps
      .ardoq({ apiHost: target.apiHost, token, ...(target.orgLabel ? { orgLabel: target.orgLabel } : {}) })
      .me();
    return { success: true, ...identity, timestamp: timestamp() };
  } catch (error) {
    if (error instanceof ArdoqHostNotAllowedError) {
      throw new ValidationError(`Invalid request: apiHost: ${error.problem}`, [
        { path: 'apiHost', message: error.problem },
      ]);
    }
    return { success: false, error: describeArdoqFailure(error), timestamp: timestamp() };
  }
}

/**
 * Creates an Ardoq configuration (WORKFLOW.md §3.3): tests the token first, then stores the
 * configuration whatever the outcome, with the token in the secret store; activates it only when asked
 * and the test passed. 409 for a name already used (whatever its case).
 */
export async function createArdoqConfiguration(
  input: NewArdoqConfigurationInput,
  actor: Actor,
  deps: ArdoqConfigurationDeps,
): Promise<{ configuration: ArdoqConfigurationView; testResult: ArdoqTestResult; message: string }> {
  const target: ArdoqTarget = {
    apiHost: hostOf(deps, input.apiHost),
    ...(input.orgLabel ? { orgLabel: input.orgLabel } : {}),
  };
  const test = await runTest(deps, target, input.apiToken);
  const id = randomUUID();
  const secretRef = await deps.secrets.put(id, input.apiToken);
  const activate = input.setActive === true && test.success;
  try {
    const record = await deps.ardoqConfigurations.create(
      {
        id,
        name: input.name,
        secretRef,
        isTested: true,
        testPassed: test.success,
        ...(test.error ? { testError: test.error } : {}),
        ...target,
      },
      {
        activate,
        audit: [
          auditEntry('config_created', id, actor, {
            ...SYSTEM,
            name: input.name,
            api_host: target.apiHost,
            test_passed: test.success,
          }),
          ...(activate ? [auditEntry('config_activated', id, actor, SYSTEM)] : []),
        ],
      },
    );
    const message = test.success
      ? `Configuration created; the connection test passed${activate ? ' and it is now active' : ''}`
      : `Configuration created, but the connection test failed: ${test.error}${input.setActive ? ' (not activated)' : ''}`;
    return { configuration: view(record), testResult: test, message };
  } catch (error) {
    await deps.secrets.delete(secretRef).catch(() => undefined);
    throw error;
  }
}

/**
 * Changes an Ardoq configuration. A token stays bound to the host it was entered for: a new host
 * without a new token in the same request is a 400 naming `apiHost`. A new token or host resets the
 * test result. `isActive: true` activates (only a configuration whose test passed, else 400);
 * `isActive: false` deactivates it (the frontend's edit form always sends `isActive`: saving the
 * active configuration without ticking "set active" leaves no Ardoq configuration active, as the old
 * backend did; the answer's message says so).
 */
export async function changeArdoqConfiguration(
  id: string,
  input: ArdoqConfigurationChangeInput,
  actor: Actor,
  deps: ArdoqConfigurationDeps,
): Promise<{ configuration: ArdoqConfigurationView; message: string }> {
  const current = await deps.ardoqConfigurations.get(id);
  const apiHost = input.apiHost !== undefined ? hostOf(deps, input.apiHost) : current.apiHost;
  const hostChanged = apiHost !== current.apiHost;
  if (hostChanged && input.apiToken === undefined) {
    const problem = 'a new host needs its own API token: send apiToken in the same request';
    throw new ValidationError(`Invalid request: apiHost: ${problem}`, [
      { path: 'apiHost', message: problem },
    ]);
  }
  const orgLabelChanged = input.orgLabel !== undefined && input.orgLabel !== (current.orgLabel ?? '');
  if (input.isActive === true && !current.testPassed && input.apiToken === undefined && !hostChanged) {
    throw new ValidationError('Only a configuration whose connection test passed can be activated', [
      { path: 'isActive', message: 'connection test has not passed' },
    ]);
  }
  const reset = input.apiToken !== undefined || hostChanged || orgLabelChanged;
  let record = await replacingSecret(deps.secrets, id, current.secretRef, input.apiToken, (secretRef) =>
    deps.ardoqConfigurations.update(
      id,
      {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(hostChanged ? { apiHost } : {}),
        ...(orgLabelChanged ? { orgLabel: input.orgLabel === '' ? null : (input.orgLabel ?? null) } : {}),
        ...(secretRef ? { secretRef } : {}),
        ...(reset ? { isTested: false, testPassed: false, testError: null } : {}),
      },
      [
        auditEntry('config_updated', id, actor, {
          ...SYSTEM,
          fields: Object.keys(input).map((key) => (key === 'apiToken' ? 'token' : key)),
          ...(hostChanged ? { api_host: { from: current.apiHost, to: apiHost } } : {}),
        }),
      ],
    ),
  );
  let message = 'Configuration updated';
  if (input.isActive === true && !record.isActive) {
    if (record.testPassed) {
      record = await activateTested(deps.ardoqConfigurations, id, actor, SYSTEM);
      message = 'Configuration updated and activated';
    } else {
      message = 'Configuration updated; not activated: its connection must be tested again first';
    }
  } else if (input.isActive === false && record.isActive) {
    record = await deps.ardoqConfigurations.deactivate(id, [
      auditEntry('config_updated', id, actor, { ...SYSTEM, fields: ['isActive'] }),
    ]);
    message = 'Configuration updated and deactivated: no Ardoq configuration is active now';
  }
  return { configuration: view(record), message };
}

export async function removeArdoqConfiguration(
  id: string,
  actor: Actor,
  deps: ArdoqConfigurationDeps,
): Promise<ArdoqConfigurationView> {
  return view(await removeStored(deps.ardoqConfigurations, deps.secrets, id, actor, SYSTEM));
}

export async function activateArdoqConfiguration(
  id: string,
  actor: Actor,
  deps: ArdoqConfigurationDeps,
): Promise<ArdoqConfigurationView> {
  return view(await activateTested(deps.ardoqConfigurations, id, actor, SYSTEM));
}

/**
 * Tests a stored configuration (the one `configId` names, else the active one: 400 when none) with its
 * token, stores the result and audits it. A failed test is an answer, not an HTTP error.
 */
export async function testArdoqConnection(
  configId: string | undefined,
  actor: Actor,
  deps: ArdoqConfigurationDeps,
) {
  const current =
    configId !== undefined ? await deps.ardoqConfigurations.get(configId) : await resolveActive(deps);
  const test = await runTest(deps, current, await deps.secrets.get(current.secretRef));
  const updated = await deps.ardoqConfigurations.update(
    current.id,
    { isTested: true, testPassed: test.success, testError: test.success ? null : (test.error ?? null) },
    [
      auditEntry('connection_tested', current.id, actor, {
        ...SYSTEM,
        success: test.success,
        ...(test.error ? { message: test.error } : {}),
      }),
    ],
  );
  const { success, error, ...data } = test;
  return {
    message: success ? 'Connection test passed' : `Connection test failed: ${error}`,
    data,
    configuration: view(updated),
  };
}

/** The active Ardoq configuration, tested or not (the test route tests it); 400 when none. */
async function resolveActive(deps: ArdoqConfigurationDeps): Promise<ConfigurationRecord<ArdoqTarget>> {
  const active = await deps.ardoqConfigurations.active();
  if (active) return active;
  // Same sentence as every browsing route.
  return resolveTestedConfiguration(deps.ardoqConfigurations, undefined, 'Ardoq');
}
