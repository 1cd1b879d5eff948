import type { ConfigurationRecord } from '#core/domain/configuration.ts';
import {
  ConflictError,
  NotFoundError,
  UnavailableError,
  UpstreamError,
  ValidationError,
} from '#core/errors.ts';
import type { ConnectionCache } from '#core/pipeline/connection.ts';
import {
  ArdoqError,
  ArdoqNotFoundError,
  ArdoqThrottledError,
  describeArdoqFailure,
} from '#core/ports/ardoq.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import {
  AdoError,
  AdoThrottledError,
  describeAdoFailure,
  type WorkItemTracker,
  type WorkItemTrackerFactory,
} from '#core/ports/work-item-tracker.ts';

export type SystemName = 'Ardoq' | 'Azure DevOps';

/**
 * The configuration a browsing or project route uses (WORKFLOW.md §1): the one `configId` names
 * (404 when unknown), else the active one (400 when none: there is no fallback to environment
 * credentials); 409 when it has not passed its connection test.
 */
export async function resolveTestedConfiguration<T extends object>(
  store: Pick<ConfigurationStore<T>, 'get' | 'active'>,
  configId: string | undefined,
  system: SystemName,
): Promise<ConfigurationRecord<T>> {
  let configuration: ConfigurationRecord<T> | null;
  if (configId !== undefined) {
    configuration = await store.get(configId);
  } else {
    configuration = await store.active();
    if (!configuration) {
      throw new ValidationError(
        `No active ${system} configuration: create and activate one, or pass configId`,
        [{ path: 'configId', message: `required when no ${system} configuration is active` }],
      );
    }
  }
  if (!configuration.testPassed) {
    throw new ConflictError(
      `${system} configuration "${configuration.name}" has not passed the connection test: test it first`,
    );
  }
  return configuration;
}

/** What reaching Azure DevOps through a stored configuration needs. */
export interface TrackerDeps {
  configurations: Pick<ConfigurationStore, 'get' | 'active'>;
  secrets: Pick<SecretStore, 'get'>;
  trackers: WorkItemTrackerFactory;
  connections: ConnectionCache;
}

/**
 * The tracker of the Azure DevOps configuration a route uses (`configId`, or the active one; the rules
 * of {@link resolveTestedConfiguration}), through the connection cache; a failure to connect is an
 * upstream failure.
 */
export async function testedTracker(
  deps: TrackerDeps,
  configId: string | undefined,
): Promise<{ tracker: WorkItemTracker; configuration: ConfigurationRecord }> {
  const configuration = await resolveTestedConfiguration(deps.configurations, configId, 'Azure DevOps');
  try {
    const { tracker } = await deps.connections.connect(deps, configuration.id);
    return { tracker, configuration };
  } catch (error) {
    throw upstreamFailure(error);
  }
}

/**
 * An upstream failure as our answer (WORKFLOW.md §1): a 404 only for an id the client sent that the
 * system does not know; throttling that outlasts our waits a 503 with Retry-After; anything else
 * (refused credentials, 5xx, timeouts, HTML) a 502 with our sentence and the upstream status, never
 * the upstream body and never our own 401.
 */
export function upstreamFailure(error: unknown, notFound?: string): Error {
  if (error instanceof ArdoqNotFoundError && notFound) return new NotFoundError(notFound);
  if (error instanceof ArdoqThrottledError) {
    return new UnavailableError(
      describeArdoqFailure(error),
      Math.max(1, Math.ceil(error.retryAfterMs / 1_000)),
    );
  }
  if (error instanceof ArdoqError) return new UpstreamError(describeArdoqFailure(error));
  if (error instanceof AdoThrottledError) {
    return new UnavailableError(
      describeAdoFailure(error),
      Math.max(1, Math.ceil(error.retryAfterMs / 1_000)),
    );
  }
  if (error instanceof AdoError) return new UpstreamError(describeAdoFailure(error));
  return error instanceof Error ? error : new Error(String(error));
}
