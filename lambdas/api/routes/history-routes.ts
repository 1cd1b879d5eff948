import type { PipelineDeps } from '#core/pipeline/deps.ts';
import type { RouteDef } from '../router.ts';

/** History and audit queries (CONTRACT.md §4): wired once the query layer lands. */
export function historyRoutes(_deps: PipelineDeps): RouteDef[] {
  return [];
}
