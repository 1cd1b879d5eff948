import {
  type ArdoqComponent,
  type HierarchyTypes,
  type SkippedComponent,
  WorkspaceHierarchy,
} from '#core/domain/ardoq.ts';
import type { ArdoqTarget } from '#core/domain/configuration.ts';
import { NotFoundError } from '#core/errors.ts';
import { type ArdoqClient, type ArdoqClientFactory, ArdoqHostNotAllowedError } from '#core/ports/ardoq.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { Log } from '#core/ports/observability.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import { resolveTestedConfiguration, upstreamFailure } from '../configurations/resolve.ts';

export interface BrowseDeps {
  ardoqConfigurations: Pick<ConfigurationStore<ArdoqTarget>, 'get' | 'active'>;
  secrets: Pick<SecretStore, 'get'>;
  ardoq: ArdoqClientFactory;
  log: Log;
  /** The component type names of the five levels (`ARDOQ_HIERARCHY_TYPES`). */
  hierarchyTypes: HierarchyTypes;
}

/** The client of the configuration `configId` names (or the active one), per WORKFLOW.md §1. */
async function clientFor(deps: BrowseDeps, configId: string | undefined): Promise<ArdoqClient> {
  const configuration = await resolveTestedConfiguration(deps.ardoqConfigurations, configId, 'Ardoq');
  const token = await deps.secrets.get(configuration.secretRef);
  try {
    return deps.ardoq({
      apiHost: configuration.apiHost,
      token,
      ...(configuration.orgLabel ? { orgLabel: configuration.orgLabel } : {}),
    });
  } catch (error) {
    // A stored host no longer allowed (ARDOQ_ALLOWED_ORIGINS changed): nothing is sent.
    if (error instanceof ArdoqHostNotAllowedError) throw upstreamFailure(error);
    throw error;
  }
}

/** Runs one Ardoq read, its failures as our answers (404 only for `notFound`, the id the client sent). */
async function upstream<R>(work: () => Promise<R>, notFound?: string): Promise<R> {
  try {
    return await work();
  } catch (error) {
    throw upstreamFailure(error, notFound);
  }
}

/** `GET /api/ardoq/workspaces`: every workspace, every page. */
export async function listWorkspaces(deps: BrowseDeps, configId: string | undefined) {
  const client = await clientFor(deps, configId);
  return upstream(async () => {
    const values: ArdoqComponent[] = [];
    for await (const page of client.workspaces()) values.push(...page);
    return { values, _meta: { count: values.length } };
  });
}

export async function getWorkspace(deps: BrowseDeps, configId: string | undefined, id: string) {
  const client = await clientFor(deps, configId);
  return upstream(() => client.workspace(id), `Ardoq workspace ${id} not found`);
}

export async function getWorkspaceContext(deps: BrowseDeps, configId: string | undefined, id: string) {
  const client = await clientFor(deps, configId);
  return upstream(() => client.context(id), `Ardoq workspace ${id} not found`);
}

/** Most raw components one answer carries (API Gateway and Lambda answer at most 6 MB). */
export const MAX_RAW_COMPONENTS = 5_000;

/** `GET …/workspaces/{id}/components`: the raw components (no page in the UI calls it), at most 5,000. */
export async function listComponents(deps: BrowseDeps, configId: string | undefined, workspaceId: string) {
  const client = await clientFor(deps, configId);
  return upstream(async () => {
    const values: ArdoqComponent[] = [];
    let truncated = false;
    for await (const page of client.components(workspaceId)) {
      for (const component of page) {
        if (values.length < MAX_RAW_COMPONENTS) values.push(component);
        else truncated = true;
      }
      if (truncated) break;
    }
    return { values, truncated };
  });
}

/** Reads a workspace's components page by page into the hierarchy's structure (see WorkspaceHierarchy). */
async function readHierarchy(
  deps: BrowseDeps,
  configId: string | undefined,
  workspaceId: string,
  keepInitiative?: string,
): Promise<WorkspaceHierarchy> {
  const client = await clientFor(deps, configId);
  return upstream(async () => {
    const hierarchy = new WorkspaceHierarchy(workspaceId, deps.hierarchyTypes, keepInitiative);
    for await (const page of client.components(workspaceId)) hierarchy.add(page);
    return hierarchy;
  });
}

/** `GET …/workspaces/{ws}/domains`: every domain component (nested ones too). */
export async function listDomains(deps: BrowseDeps, configId: string | undefined, workspaceId: string) {
  return (await readHierarchy(deps, configId, workspaceId)).domains();
}

/** `GET …/domains/{domainId}/initiatives`: the initiatives directly under that domain. */
export async function listInitiatives(
  deps: BrowseDeps,
  configId: string | undefined,
  workspaceId: string,
  domainId: string,
) {
  return (await readHierarchy(deps, configId, workspaceId)).initiatives(domainId);
}

/**
 * `GET …/initiatives/{id}/hierarchy`: the initiative with its epics, features and user stories (every
 * raw key kept), misplaced components skipped and listed in `_skipped` (WORKFLOW.md §4.3).
 */
export async function getHierarchy(
  deps: BrowseDeps,
  configId: string | undefined,
  workspaceId: string,
  initiativeId: string,
): Promise<ArdoqComponent & { children: ArdoqComponent[]; _skipped?: SkippedComponent[] }> {
  const hierarchy = await readHierarchy(deps, configId, workspaceId, initiativeId);
  const result = hierarchy.hierarchy(initiativeId);
  if (!result)
    throw new NotFoundError(`Initiative ${initiativeId} not found in Ardoq workspace ${workspaceId}`);
  const tree = result.tree as ArdoqComponent & { children: ArdoqComponent[] };
  if (result.skipped.length > 0) {
    deps.log.warn('ardoq components skipped', {
      workspaceId,
      initiativeId,
      skipped: result.skipped.length,
      first: result.skipped.slice(0, 5).map((s) => ({ id: s.id, reason: s.reason })),
    });
    return { ...tree, _skipped: result.skipped };
  }
  return tree;
}
