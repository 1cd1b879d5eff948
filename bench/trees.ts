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

/**
 * The Ardoq values a 20-rows-per-level field mapping reads (bench section 8), added to every node of a
 * tree: top-level `tags`, `componentKey` and `description`, `customFields` (snake_case, as Ardoq's
 * editor names them, found by the mapping's camelCase ↔ snake_case lookup) and `_meta`. Every value
 * fits its Azure DevOps field in the simulator's Agile process; `project` is the project's name (its
 * root area and iteration path). The nodes keep what `buildTree` gave them (a story's description and
 * numeric priority): the tree stays the same for a sync without a mapping.
 */
export function withMappedFields(body: SyncBody, project: string): SyncBody {
  let n = 0;
  const RISKS = ['high', 'medium', 'low'] as const;
  const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
  const enrich = (node: TreeNode): TreeNode => {
    const i = n++;
    const level = node.type === 'Epic' ? 'epic' : node.type === 'Feature' ? 'feature' : 'story';
    const customFields: Record<string, unknown> = {
      category: ['Platform', 'Customer', 'Compliance'][i % 3],
      lifecycle_phase: i % 2 ? 'Live' : 'Planned',
      team: `Team ${String.fromCharCode(65 + (i % 5))}`,
      theme: `Theme ${i % 7}`,
      risk: RISKS[i % 3],
      value_area: i % 4 === 0 ? 'Architectural' : 'Business',
      owner: 'simulator.user@example.com',
      stack_rank: 1_000 + i,
      state: 'New',
      reason: 'New',
      notes: `Imported from Ardoq (${level} ${i})`,
      area_path: project,
      iteration_path: project,
      acceptance_criteria: 'Given a planned change\nWhen it ships\nThen the <capability> is live & measured',
    };
    if (level !== 'story') {
      Object.assign(customFields, {
        priority: PRIORITIES[i % 4],
        business_value: 100 + (i % 400),
        time_criticality: (i % 10) + 0.5,
        effort: (i % 13) + 1,
        start_date: '2025-03-01',
        // Epoch milliseconds: the date transform reads those too.
        target_date: Date.UTC(2025, 5, 30, 12),
      });
    } else {
      customFields.story_points = [1, 2, 3, 5, 8][i % 5];
    }
    if (level === 'feature') {
      Object.assign(customFields, {
        context_description: `Why ${node.name} matters`,
        purpose: 'Reduce lead time',
        input: 'Roadmap item',
        output_definition_of_done: 'Released to all customers',
        approach: 'Incremental',
      });
    }
    return {
      ...node,
      ...(node.description === undefined ? { description: `${node.name}: what and why` } : {}),
      componentKey: node.componentKey ?? `CMP-${i}`,
      tags: ['bench', `wave-${i % 3}`],
      customFields,
      _meta: { lastModifiedByName: 'Bench Planner', lastUpdated: '2025-01-15T09:30:00Z' },
      ...(node.children ? { children: node.children.map(enrich) } : {}),
    };
  };
  return { ...body, epics: body.epics.map(enrich) };
}
