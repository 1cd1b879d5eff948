import type { ConfigurationRecord } from '#core/domain/configuration.ts';
import { ConflictError, UpstreamError, ValidationError } from '#core/errors.ts';
import type { ConnectionCache } from '#core/pipeline/connection.ts';
import type { Clock } from '#core/ports/clock.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { Log } from '#core/ports/observability.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import {
  AdoAuthError,
  type AdoOperation,
  type AdoProject,
  AdoRejectedError,
  type WorkItemTrackerFactory,
} from '#core/ports/work-item-tracker.ts';
import { testedTracker, upstreamFailure } from '../configurations/resolve.ts';

export interface ProjectDeps {
  configurations: Pick<ConfigurationStore, 'get' | 'active'>;
  secrets: Pick<SecretStore, 'get'>;
  trackers: WorkItemTrackerFactory;
  connections: ConnectionCache;
  clock: Clock;
  log: Log;
  /** How long a project create waits for its operation before answering 202 (default 10 s). */
  projectCreateWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A process as the frontend reads it (WORKFLOW.md §5.3). */
export interface ProcessTemplate {
  typeId: string;
  name: string;
  description: string;
  isDefault: boolean;
  isEnabled: boolean;
  /** The system process an inherited one derives from (absent for a system process). */
  parentProcessTypeId?: string;
}

/** A project to create, validated at the edge (the route's body schema). */
export interface NewProjectInput {
  name: string;
  description?: string;
  visibility?: 'private' | 'public';
  processTypeId?: string;
  sourceControl?: 'Git' | 'Tfvc';
}

const SYSTEM_PARENT = '00000000-0000-0000-0000-000000000000';

/** Runs Azure DevOps work, its failures as our answers; a refused PAT is forgotten by the cache. */
async function upstream<R>(
  deps: ProjectDeps,
  configuration: ConfigurationRecord,
  work: () => Promise<R>,
): Promise<R> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AdoAuthError) deps.connections.forget(configuration.id);
    throw upstreamFailure(error);
  }
}

/** `GET /api/azure-devops/projects`: every project of the organization, every page. */
export async function listProjects(deps: ProjectDeps, configId: string | undefined): Promise<AdoProject[]> {
  const { tracker, configuration } = await testedTracker(deps, configId);
  return upstream(deps, configuration, () => tracker.listProjects());
}

/** `GET /api/azure-devops/processes`: the enabled processes (a disabled one cannot create a project). */
export async function listProcesses(
  deps: ProjectDeps,
  configId: string | undefined,
): Promise<ProcessTemplate[]> {
  const { tracker, configuration } = await testedTracker(deps, configId);
  const processes = await upstream(deps, configuration, () => tracker.listProcesses());
  return processes
    .filter((p) => p.isEnabled)
    .map((p) => ({
      typeId: p.typeId,
      name: p.name,
      description: p.description,
      isDefault: p.isDefault,
      isEnabled: p.isEnabled,
      ...(p.parentProcessTypeId && p.parentProcessTypeId !== SYSTEM_PARENT
        ? { parentProcessTypeId: p.parentProcessTypeId }
        : {}),
    }));
}

const TERMINAL: ReadonlySet<AdoOperation['status']> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * `POST /api/azure-devops/projects`: creates a project (WORKFLOW.md §5.2). Without a process, Agile
 * (found by name among the organization's processes; 400 when it has none); Git unless Tfvc is asked
 * for. Azure DevOps creates it asynchronously: the answer waits for the operation up to
 * `projectCreateWaitMs` (done: `succeeded`; else still `queued`/`inProgress`, and a sync started on it
 * meanwhile waits for it in its prepare step). A name already taken is a 409.
 */
export async function createProject(
  deps: ProjectDeps,
  configId: string | undefined,
  input: NewProjectInput,
): Promise<{ operation: AdoOperation; created: boolean }> {
  const { tracker, configuration } = await testedTracker(deps, configId);
  return upstream(deps, configuration, async () => {
    let processTypeId = input.processTypeId;
    if (processTypeId === undefined) {
      const agile = (await tracker.listProcesses()).find(
        (p) => p.name.toLowerCase() === 'agile' && p.isEnabled,
      );
      if (!agile) {
        throw new ValidationError(
          'The Agile process is not available in this organization: choose a process',
          [
            {
              path: 'capabilities.processTemplate.templateTypeId',
              message: 'required: Agile is not available',
            },
          ],
        );
      }
      processTypeId = agile.typeId;
    }
    let operation: AdoOperation;
    try {
      operation = await tracker.createProject({
        name: input.name,
        ...(input.description ? { description: input.description } : {}),
        visibility: input.visibility ?? 'private',
        processTypeId,
        sourceControl: input.sourceControl ?? 'Git',
      });
    } catch (error) {
      if (error instanceof AdoRejectedError && (error.status === 409 || error.code === 'TF200019')) {
        throw new ConflictError(`An Azure DevOps project named "${input.name}" already exists`);
      }
      if (error instanceof AdoRejectedError && error.status === 400) {
        throw new ValidationError(
          `Azure DevOps refused the project${error.code ? ` (${error.code})` : ''}: check its name and process`,
          [{ path: 'name', message: 'refused by Azure DevOps' }],
        );
      }
      throw error;
    }
    deps.log.info('project creation queued', { project: input.name, operationId: operation.id });
    const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const until = deps.clock.now().getTime() + (deps.projectCreateWaitMs ?? 10_000);
    while (!TERMINAL.has(operation.status) && deps.clock.now().getTime() < until) {
      await sleep(500);
      operation = await tracker.getOperation(operation.id);
    }
    if (operation.status === 'failed' || operation.status === 'cancelled') {
      // Azure DevOps' result message is its own text: our sentence goes to the client.
      throw new UpstreamError(
        `Azure DevOps could not create the project "${input.name}" (operation ${operation.status})`,
      );
    }
    const { resultMessage: _upstreamText, ...reported } = operation;
    return { operation: reported, created: operation.status === 'succeeded' };
  });
}
