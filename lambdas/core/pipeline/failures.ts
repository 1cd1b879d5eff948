import type { ConfigurationRecord } from '#core/domain/configuration.ts';
import {
  AdoAuthError,
  AdoError,
  AdoHostNotAllowedError,
  AdoRejectedError,
  describeAdoFailure,
} from '#core/ports/work-item-tracker.ts';
import type { FinalizeDeps } from './deps.ts';
import { close } from './finalize.ts';

/**
 * The clear sentence a user reads in `error_message` when a whole sync could not run: our words with
 * Azure DevOps' status and TF code, never text from its answer.
 */
export function describeSyncFailure(
  error: unknown,
  project: string,
  configuration?: ConfigurationRecord,
): string {
  const where = configuration
    ? ` (configuration "${configuration.name}", organization ${configuration.organization})`
    : '';
  const ref = error instanceof AdoError ? reference(error) : '';
  if (error instanceof AdoHostNotAllowedError) return `${describeAdoFailure(error)}${where}`;
  if (error instanceof AdoAuthError) {
    return `Azure DevOps refused the credentials${ref}${where}: the PAT is wrong, expired or lacks the Work Items (Read & write) scope`;
  }
  if (error instanceof AdoRejectedError && error.projectMissing) {
    return `Azure DevOps project "${project}" does not exist or is not visible${ref}${where}`;
  }
  if (error instanceof AdoError) return describeAdoFailure(error);
  return error instanceof Error ? error.message : String(error);
}

/** ` (HTTP 403, TF400813)` when known. */
function reference(error: AdoError): string {
  const parts = [
    ...(error.status !== undefined ? [`HTTP ${error.status}`] : []),
    ...(error.code !== undefined ? [error.code] : []),
  ];
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/**
 * Fails a sync: every node that had not started is skipped, and the sync becomes `failed` (with
 * `reason` as its error) once the creates already in flight have recorded their outcomes.
 */
export async function failSync(
  deps: FinalizeDeps,
  syncId: string,
  reason: string,
  options: { fromPrepare?: boolean; code?: string } = {},
): Promise<void> {
  const closing = await close(deps, syncId, 'failed', {
    reason,
    skipReason: `Not attempted: the sync failed (${reason})`.slice(0, 10_000),
    ...(options.fromPrepare ? { fromPrepare: true } : {}),
  });
  if (closing) {
    deps.log.warn('sync failing', { syncId, reason, ...(options.code ? { code: options.code } : {}) });
  }
}
