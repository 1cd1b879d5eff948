import { customFieldsFor } from './model.ts';
import { oid, seededRandom, seedOf, shuffle } from './random.ts';
import { type ComponentRecord, EPOCH_MS, isoAt, type SimState, type WorkspaceRecord } from './state.ts';
import type { EdgeCaseKey, EdgeCaseWorkspace } from './types.ts';

/**
 * The "Edge cases" workspace: 21 components whose hierarchy is wrong in every way a client must survive.
 * Names are fixed (EDGE_CASES below); ids depend on the seed (read them from `sim.edgeCases.ids`).
 * Its wire order is shuffled too.
 */

export const EDGE_CASES_WORKSPACE_NAME = 'Edge cases';
export const EMPTY_WORKSPACE_NAME = 'Empty workspace';

export interface EdgeCaseDef {
  type: string;
  name: string;
  /** Another edge case's key, 'missing' (an id no component has), or null (a root). */
  parent: EdgeCaseKey | 'missing' | null;
  note: string;
}

/** Each edge case, in creation order (componentKey EDGE-1 … EDGE-21 follows this order). */
export const EDGE_CASES: Readonly<Record<EdgeCaseKey, EdgeCaseDef>> = {
  domain: { type: 'Domain', name: 'Edge Domain', parent: null, note: 'a normal root Domain' },
  initiative: {
    type: 'Initiative',
    name: 'Normal Initiative',
    parent: 'domain',
    note: 'normal tree: Initiative under the Domain',
  },
  epic: { type: 'Epic', name: 'Normal Epic', parent: 'initiative', note: 'normal tree: Epic' },
  feature: { type: 'Feature', name: 'Normal Feature', parent: 'epic', note: 'normal tree: Feature' },
  story1: { type: 'User Story', name: 'Normal Story 1', parent: 'feature', note: 'normal tree: User Story' },
  story2: { type: 'User Story', name: 'Normal Story 2', parent: 'feature', note: 'normal tree: User Story' },
  longNameStory: {
    type: 'User Story',
    name: `A story with a very long name 🚀 ${'and more words '.repeat(20).trim()} — end`,
    parent: 'feature',
    note: 'normal tree, but the name is over 255 characters and has an emoji (a title must be cut)',
  },
  orphanInitiative: {
    type: 'Initiative',
    name: 'Orphan Initiative',
    parent: 'missing',
    note: 'its parent id (missingParentId) belongs to no component',
  },
  epicUnderOrphan: {
    type: 'Epic',
    name: 'Epic under the orphan',
    parent: 'orphanInitiative',
    note: 'well placed, but under the orphan Initiative',
  },
  featureUnderInitiative: {
    type: 'Feature',
    name: 'Feature directly under an Initiative',
    parent: 'initiative',
    note: 'wrong level: a Feature whose parent is an Initiative (the Epic level is skipped)',
  },
  storyUnderMisplacedFeature: {
    type: 'User Story',
    name: 'Story under the misplaced Feature',
    parent: 'featureUnderInitiative',
    note: 'well placed under a misplaced Feature',
  },
  epicUnderEpic: {
    type: 'Epic',
    name: 'Epic under an Epic',
    parent: 'epic',
    note: 'wrong level: an Epic whose parent is another Epic',
  },
  featureUnderNestedEpic: {
    type: 'Feature',
    name: 'Feature under the nested Epic',
    parent: 'epicUnderEpic',
    note: 'well placed under the Epic that is under an Epic',
  },
  cycleA: {
    type: 'Feature',
    name: 'Cycle Feature A',
    parent: 'cycleB',
    note: 'a two-component cycle: A → B',
  },
  cycleB: {
    type: 'Feature',
    name: 'Cycle Feature B',
    parent: 'cycleA',
    note: 'a two-component cycle: B → A',
  },
  storyUnderCycle: {
    type: 'User Story',
    name: 'Story under the cycle',
    parent: 'cycleA',
    note: 'hangs from the cycle: no root above it',
  },
  selfParent: {
    type: 'Feature',
    name: 'Feature that is its own parent',
    parent: 'selfParent',
    note: 'a one-component cycle: parent === _id',
  },
  nestedDomain: {
    type: 'Domain',
    name: 'Nested Domain',
    parent: 'domain',
    note: 'a Domain under a Domain',
  },
  initiativeUnderNestedDomain: {
    type: 'Initiative',
    name: 'Initiative under the nested Domain',
    parent: 'nestedDomain',
    note: 'an Initiative under the nested Domain',
  },
  epicUnderNestedDomain: {
    type: 'Epic',
    name: 'Epic under the nested Domain’s Initiative',
    parent: 'initiativeUnderNestedDomain',
    note: 'well placed below the nested Domain',
  },
  capabilityUnderEpic: {
    type: 'Capability',
    name: 'Capability under an Epic',
    parent: 'epic',
    note: 'a type outside the planning hierarchy, inside the tree',
  },
};

export function seedEdgeCasesWorkspace(state: SimState): EdgeCaseWorkspace {
  const random = seededRandom(seedOf(state.seed, 'edge-cases'));
  const createdMs = EPOCH_MS + 10 * 86_400_000;
  const workspace = state.createWorkspace(
    'edge-cases',
    EDGE_CASES_WORKSPACE_NAME,
    'Hierarchy mistakes a sync must survive: orphans, wrong levels, cycles, nested domains.',
    createdMs,
  );
  const keys = Object.keys(EDGE_CASES) as EdgeCaseKey[];
  const ids = Object.fromEntries(
    keys.map((key, index) => [key, oid(createdMs + (index + 1) * 60_000, state.seed, 'edge-case', key)]),
  ) as Record<EdgeCaseKey, string>;
  const missingParentId = oid(createdMs, state.seed, 'edge-case', 'missing-parent');
  const records: ComponentRecord[] = keys.map((key, index) => {
    const def = EDGE_CASES[key];
    const at = isoAt(createdMs + (index + 1) * 60_000);
    return {
      _id: ids[key],
      name: def.name,
      type: state.type(workspace, def.type),
      parent: def.parent === null ? null : def.parent === 'missing' ? missingParentId : ids[def.parent],
      rootWorkspace: workspace._id,
      description: `Edge case: ${def.note}.`,
      componentKey: state.nextComponentKey(workspace),
      customFields: customFieldsFor(def.type, def.type === 'User Story' ? { priority: 2 } : {}),
      created: at,
      lastUpdated: at,
      author: 1,
      version: 1,
    };
  });
  for (const record of shuffle(records, random)) state.register(workspace, record);
  return { id: workspace._id, name: workspace.name, ids, missingParentId };
}

export function seedEmptyWorkspace(state: SimState): WorkspaceRecord {
  return state.createWorkspace(
    'empty',
    EMPTY_WORKSPACE_NAME,
    'A workspace with no components.',
    EPOCH_MS + 20 * 86_400_000,
  );
}
