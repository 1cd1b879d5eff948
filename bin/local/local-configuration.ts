import { randomBytes } from 'node:crypto';
import type { NewAuditLog } from '#core/domain/audit.ts';
import type { ArdoqTarget } from '#core/domain/configuration.ts';
import { createMappingConfig, type MappingDeps } from '#core/mapping/mapping-configs.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import { type AdoSimulator, startAdoSimulator } from '#sim/ado/index.ts';
import { type ArdoqSimulator, startArdoqSimulator } from '#sim/ardoq/index.ts';

export const SIMULATOR_CONFIG_NAME = 'Local ADO simulator';

/** The audit entry of a configuration the local runtime creates (no user: the runtime did it). */
const createdEntry = (id: string, details: Record<string, unknown>): NewAuditLog => ({
  actionType: 'config_created',
  entityType: 'configuration',
  entityId: id,
  details,
});

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
  const created = (id: string, source: string) => [createdEntry(id, { source })];
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

export const ARDOQ_SIMULATOR_CONFIG_NAME = 'Local Ardoq simulator';
/** The organization label the Ardoq simulator asks for in `X-org`, as app.ardoq.com does. */
const ARDOQ_SIMULATOR_ORG = 'demo-org';

export interface ArdoqConfigurationOptions {
  /** 'auto': start the Ardoq simulator when no Ardoq configuration exists or the active one is it. */
  ardoqSimulator?: 'auto' | 'never';
  ardoqSimulatorPort?: number;
  /** An Ardoq simulator started elsewhere to use instead (tests, bench). */
  ardoqSimulatorInstance?: ArdoqSimulator;
  /** A real Ardoq to configure when none is (ARDOQ_API_HOST + ARDOQ_API_TOKEN [+ ARDOQ_ORG_LABEL]). */
  ardoq?: { apiHost: string; token: string; orgLabel?: string };
}

/**
 * Makes sure Ardoq can be browsed: a real Ardoq from the options (stored untested: its first test
 * runs from the frontend or `GET /api/ardoq/test-connection`), else the Ardoq simulator with its demo
 * workspace, configured (tested, active) on first run and followed to its port after a restart.
 * Returns the simulator when it runs.
 */
export async function ensureArdoqConfiguration(
  configurations: ConfigurationStore<ArdoqTarget>,
  secrets: SecretStore,
  options: ArdoqConfigurationOptions,
): Promise<ArdoqSimulator | undefined> {
  const all = await configurations.list();
  const active = await configurations.active();
  const created = (id: string, source: string) => [createdEntry(id, { system: 'ardoq', source })];
  if (options.ardoq && all.length === 0) {
    const id = `local-ardoq-${randomBytes(4).toString('hex')}`;
    const secretRef = await secrets.put(id, options.ardoq.token);
    await configurations.create(
      {
        id,
        name: 'Ardoq',
        apiHost: options.ardoq.apiHost,
        ...(options.ardoq.orgLabel ? { orgLabel: options.ardoq.orgLabel } : {}),
        secretRef,
      },
      { activate: true, audit: created(id, 'ARDOQ_API_HOST') },
    );
    return undefined;
  }
  const isSimulator = active?.name === ARDOQ_SIMULATOR_CONFIG_NAME;
  if (options.ardoqSimulator === 'never' || !(all.length === 0 || isSimulator)) return undefined;
  const token = active && isSimulator ? await secrets.get(active.secretRef) : randomBytes(24).toString('hex');
  const simulator =
    options.ardoqSimulatorInstance ??
    (await startArdoqSimulator({
      token,
      orgLabel: ARDOQ_SIMULATOR_ORG,
      port: options.ardoqSimulatorPort ?? 0,
    }));
  if (active && isSimulator) {
    if (active.apiHost !== simulator.url) {
      await configurations.update(active.id, { apiHost: simulator.url }, [
        {
          actionType: 'config_updated',
          entityType: 'configuration',
          entityId: active.id,
          details: {
            system: 'ardoq',
            source: 'local simulator',
            api_host: { from: active.apiHost, to: simulator.url },
          },
        },
      ]);
    }
    return simulator;
  }
  const id = 'local-ardoq-simulator';
  const secretRef = await secrets.put(id, simulator.token);
  await configurations.create(
    {
      id,
      name: ARDOQ_SIMULATOR_CONFIG_NAME,
      apiHost: simulator.url,
      ...(simulator.orgLabel ? { orgLabel: simulator.orgLabel } : {}),
      secretRef,
      isTested: true,
      testPassed: true,
    },
    { activate: true, audit: created(id, 'local simulator') },
  );
  return simulator;
}

export const SEEDED_MAPPING_NAME = 'Ardoq planning fields (example)';

/**
 * With the built-in simulator, one mapping configuration for its Agile project, so the README's
 * walk-through can sync with a saved mapping: the Agile template's rows plus the last update date into
 * the epics' Start Date. Saved through the API's use case (checked against the project, which resolves
 * its GUID, so the Field Mapping page finds it too). Seeded once: a configuration of that name is never
 * replaced.
 */
export async function ensureMappingConfiguration(deps: MappingDeps, simulatorRuns: boolean): Promise<void> {
  if (!simulatorRuns) return;
  const project = 'Agile Project';
  if ((await deps.fieldMappings.configs(project)).some((c) => c.name === SEEDED_MAPPING_NAME)) return;
  const template = await deps.fieldMappings.template('Agile');
  await createMappingConfig(
    {
      name: SEEDED_MAPPING_NAME,
      description:
        'Seeded by npm start: the Agile template, plus the last update date into Start Date for epics',
      projectId: project,
      processTemplateName: 'Agile',
      mappings: [
        ...(template?.mappings ?? []),
        {
          ardoqField: 'lastUpdatedDate',
          azureDevOpsField: 'Microsoft.VSTS.Scheduling.StartDate',
          workItemType: 'epic',
        },
      ],
    },
    {},
    deps,
  );
}
