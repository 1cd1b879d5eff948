import { randomBytes } from 'node:crypto';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import { type AdoSimulator, startAdoSimulator } from '#sim/ado/index.ts';

export const SIMULATOR_CONFIG_NAME = 'Local ADO simulator';

export interface ConfigurationOptions {
  /** 'auto': start the simulator when no configuration exists or the active one is the simulator. */
  simulator?: 'auto' | 'never';
  simulatorPort?: number;
  /** The simulator's PAT on first start (default: random); later starts reuse the stored one. */
  simulatorPat?: string;
  /** A simulator started elsewhere (with knobs of its own) to use instead. */
  simulatorInstance?: AdoSimulator;
  /** A real organization to configure when none exists (ADO_ORGANIZATION + ADO_PAT). */
  organization?: { name: string; pat: string };
}

/**
 * Makes sure there is an active configuration: a real organization from the options, else the
 * built-in simulator (started, and configured on first run), through the configuration store (each
 * with its audit entry). Returns the simulator when it runs.
 */
export async function ensureConfiguration(
  configurations: ConfigurationStore,
  secrets: SecretStore,
  options: ConfigurationOptions,
): Promise<AdoSimulator | undefined> {
  const all = await configurations.list();
  const active = await configurations.active();
  const created = (id: string, source: string) => [
    {
      actionType: 'config_created' as const,
      entityType: 'configuration' as const,
      entityId: id,
      details: { source },
    },
  ];
  if (options.organization && all.length === 0) {
    const id = `local-${randomBytes(4).toString('hex')}`;
    const secretRef = await secrets.put(id, options.organization.pat);
    await configurations.create(
      { id, name: options.organization.name, organization: options.organization.name, secretRef },
      { activate: true, audit: created(id, 'ADO_ORGANIZATION') },
    );
    return undefined;
  }
  const wantSimulator =
    options.simulator !== 'never' && (all.length === 0 || active?.name === SIMULATOR_CONFIG_NAME);
  if (!wantSimulator) return undefined;

  let pat: string;
  if (active?.name === SIMULATOR_CONFIG_NAME) pat = await secrets.get(active.secretRef);
  else pat = options.simulatorPat ?? randomBytes(24).toString('base64url');
  const simulator =
    options.simulatorInstance ?? (await startAdoSimulator({ pat, port: options.simulatorPort ?? 0 }));
  if (active?.name === SIMULATOR_CONFIG_NAME) {
    // The simulator listens on a new port after a restart: the same configuration follows it.
    if (active.organization !== simulator.url) {
      await configurations.update(active.id, { organization: simulator.url }, [
        {
          actionType: 'config_updated',
          entityType: 'configuration',
          entityId: active.id,
          details: {
            source: 'local simulator',
            organization: { from: active.organization, to: simulator.url },
          },
        },
      ]);
    }
  } else {
    const id = 'local-ado-simulator';
    const secretRef = await secrets.put(id, pat);
    await configurations.create(
      {
        id,
        name: SIMULATOR_CONFIG_NAME,
        organization: simulator.url,
        secretRef,
        isTested: true,
        testPassed: true,
      },
      { activate: true, audit: created(id, 'local simulator') },
    );
  }
  return simulator;
}
