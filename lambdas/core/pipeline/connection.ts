import type { ConfigurationRecord } from '#core/domain/configuration.ts';
import { ValidationError } from '#core/errors.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { WorkItemTracker, WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';
import { PromiseCache } from '../promise-cache.ts';

/** A configuration with a tracker holding its PAT. */
export interface Connection {
  configuration: ConfigurationRecord;
  tracker: WorkItemTracker;
}

const TTL_MS = 60_000;

/**
 * The trackers of the configurations in use, one cache per cold start (built with the deps): item
 * processors reuse the configuration and the PAT instead of reading them for every item, and notice a
 * changed PAT within a minute. The nodes of a batch connect at the same moment: they share one read
 * (a failed read is not kept).
 */
export class ConnectionCache {
  readonly #cache: PromiseCache<Connection>;

  constructor(now: () => number = Date.now) {
    this.#cache = new PromiseCache({ ttlMs: TTL_MS, now });
  }

  /** A tracker for a configuration, with its PAT from the secret store. */
  connect(
    deps: {
      configurations: Pick<ConfigurationStore, 'get'>;
      secrets: Pick<SecretStore, 'get'>;
      trackers: WorkItemTrackerFactory;
    },
    configId: string,
  ): Promise<Connection> {
    return this.#cache.get(configId, async () => {
      const configuration = await deps.configurations.get(configId);
      const pat = await deps.secrets.get(configuration.secretRef);
      return { configuration, tracker: deps.trackers({ organization: configuration.organization, pat }) };
    });
  }

  /** Forgets a cached connection (after an authentication failure or a configuration change). */
  forget(configId: string): void {
    this.#cache.forget(configId);
  }
}

/** The configuration a sync names, or the active one; 404/400 with a clear message otherwise. */
export async function resolveConfiguration(
  deps: { configurations: Pick<ConfigurationStore, 'get' | 'active'> },
  configId: string | undefined,
): Promise<ConfigurationRecord> {
  if (configId) return deps.configurations.get(configId);
  const active = await deps.configurations.active();
  if (!active) {
    throw new ValidationError('No Azure DevOps configuration is active: create one or pass configId', [
      { path: 'configId', message: 'required when no configuration is active' },
    ]);
  }
  return active;
}
