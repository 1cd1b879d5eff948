import type { ConfigurationRecord } from '#core/configurations/configuration-repository.ts';
import { AdoAuthError, AdoRejectedError } from '#core/ports/work-item-tracker.ts';
import { closeSync } from '#core/sync/sync-history-repository.ts';
import type { PipelineDeps } from './deps.ts';

/** The clear sentence a user reads in `error_message` when a whole sync could not run. */
export function describeSyncFailure(
  error: unknown,
  project: string,
  configuration?: ConfigurationRecord,
): string {
  const where = configuration
    ? ` (configuration "${configuration.name}", organization ${configuration.organization})`
    : '';
  if (error instanceof AdoAuthError) {
    return `Azure DevOps refused the credentials${where}: the PAT is wrong, expired or lacks the Work Items (Read & write) scope`;
  }
  if (error instanceof AdoRejectedError && error.projectMissing) {
    return `Azure DevOps project "${project}" does not exist or is not visible${where}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Fails a sync (skipping every node that had not started) and logs why. */
export async function failSync(deps: PipelineDeps, syncId: string, reason: string): Promise<void> {
  const closed = await closeSync(deps.db, 'failed', {
    syncId,
    reason,
    skipReason: `Not attempted: the sync failed (${reason})`.slice(0, 10_000),
  });
  if (closed) {
    deps.metrics.count('SyncsFinished');
    deps.log.warn('sync failed', { syncId, reason });
  }
}
