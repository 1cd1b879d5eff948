/** Request bodies for `POST /api/azure-devops/projects/{project}/workitems`. */

export interface TreeNode {
  _id: string;
  name: string;
  type: 'Epic' | 'Feature' | 'User Story';
  children?: TreeNode[];
  [key: string]: unknown;
}

export interface SyncBody {
  epics: TreeNode[];
}

const story = (id: string, title: string, s: number): TreeNode => ({
  _id: id,
  name: title,
  type: 'User Story',
  description: 'As a planner\nI want <this> to reach Azure DevOps',
  priority: (s % 4) + 1,
});

/**
 * `epics` epics, each with `features` features; stories are given per feature by `storiesOf`
 * (e, f) so a tree can have an exact node count. Ids and titles are unique per `prefix`.
 */
export function buildTree(
  epics: number,
  features: number,
  storiesOf: (e: number, f: number) => number,
  prefix: string,
): SyncBody {
  return {
    epics: Array.from({ length: epics }, (_, e) => ({
      _id: `${prefix}-e${e}`,
      name: `${prefix} Epic ${e}`,
      type: 'Epic',
      componentKey: `${prefix.toUpperCase()}-${e}`,
      children: Array.from({ length: features }, (_, f) => ({
        _id: `${prefix}-e${e}-f${f}`,
        name: `${prefix} Feature ${e}.${f}`,
        type: 'Feature',
        children: Array.from({ length: storiesOf(e, f) }, (_, s) =>
          story(`${prefix}-e${e}-f${f}-s${s}`, `${prefix} Story ${e}.${f}.${s}`, s),
        ),
      })),
    })),
  };
}

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
