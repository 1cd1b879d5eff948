/** Request bodies for `POST /api/azure-devops/projects/{project}/workitems` (tests and the bench). */

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
  description: 'As a user\nI want <things>',
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
