/** Request bodies for `POST /api/azure-devops/projects/{project}/workitems`. */
import { buildTree, type SyncBody, type TreeNode } from '#test/support/trees.ts';

export type { SyncBody, TreeNode } from '#test/support/trees.ts';

/** epics × features × stories, like test/support/e2e.ts `tree()`: e + e·f + e·f·s nodes. */
export const uniformTree = (epics: number, features: number, stories: number, prefix: string): SyncBody =>
  buildTree(epics, features, () => stories, prefix);

/**
 * A tree of exactly `total` nodes: `epics` × `features` with the remaining nodes spread as evenly as
 * possible as stories (10 × 20 with 9,790 stories = 10,000 nodes: 190 features of 49, 10 of 48).
 */
export function treeOfSize(total: number, epics: number, features: number, prefix: string): SyncBody {
  const featureCount = epics * features;
  const stories = total - epics - featureCount;
  if (stories < 0) throw new Error(`a tree of ${total} nodes cannot have ${epics} × ${features} parents`);
  const base = Math.floor(stories / featureCount);
  const extra = stories - base * featureCount;
  return buildTree(epics, features, (e, f) => base + (e * features + f < extra ? 1 : 0), prefix);
}

/** The shape used for the request-size workload at each N. */
export function acceptanceTree(total: number, prefix: string): SyncBody {
  if (total >= 10_000) return treeOfSize(total, 10, 20, prefix);
  if (total >= 1_000) return treeOfSize(total, 5, 10, prefix);
  return treeOfSize(total, 2, 4, prefix);
}

export function countNodes(body: SyncBody): number {
  const walk = (nodes: readonly TreeNode[] | undefined): number =>
    (nodes ?? []).reduce((n, node) => n + 1 + walk(node.children), 0);
  return walk(body.epics);
}
