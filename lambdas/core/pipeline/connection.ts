import { ValidationError } from '#core/errors.ts';
import type { WorkItemTracker } from '#core/ports/work-item-tracker.ts';
import {
  type ConfigurationRecord,
  getActiveConfiguration,
  getConfiguration,
} from '#store/configuration-store.ts';
import type { PipelineDeps } from './deps.ts';

interface Connection {
  configuration: ConfigurationRecord;
  tracker: WorkItemTracker;
}

interface Cached {
  connection: Promise<Connection>;
  expiresAt: number;
}

// Per deps (one per cold start): item processors reuse the configuration and the PAT instead of
// reading them again for every item, and notice a changed PAT within a minute. The nodes of a batch
// connect at the same moment: they share one read (a failed read is not kept).
const caches = new WeakMap<PipelineDeps, Map<string, Cached>>();
const TTL_MS = 60_000;

/** The configuration a sync names, or the active one; 404/400 with a clear message otherwise. */
export async function resolveConfiguration(
  deps: PipelineDeps,
  configId: string | undefined,
): Promise<ConfigurationRecord> {
  if (configId) return getConfiguration(deps.db, configId);
  const active = await getActiveConfiguration(deps.db);
  if (!active) {
    throw new ValidationError('No Azure DevOps configuration is active: create one or pass configId', [
      { path: 'configId', message: 'required when no configuration is active' },
    ]);
  }
  return active;
}

/** A tracker for a configuration, with its PAT from the secret store. */
export function connect(deps: PipelineDeps, configId: string): Promise<Connection> {
  let cache = caches.get(deps);
  if (!cache) {
    cache = new Map();
    caches.set(deps, cache);
  }
  const now = deps.clock.now().getTime();
  const hit = cache.get(configId);
  if (hit && hit.expiresAt > now) return hit.connection;
  const connection = (async () => {
    const configuration = await getConfiguration(deps.db, configId);
    const pat = await deps.secrets.get(configuration.secretRef);
    return { configuration, tracker: deps.trackers({ organization: configuration.organization, pat }) };
  })();
  const entry = { connection, expiresAt: now + TTL_MS };
  cache.set(configId, entry);
  connection.catch(() => {
    if (cache.get(configId) === entry) cache.delete(configId);
  });
  return connection;
}

/** Forgets a cached connection (after an authentication failure or a configuration change). */
export function forgetConnection(deps: PipelineDeps, configId: string): void {
  caches.get(deps)?.delete(configId);
}
