import { isLoopbackHost } from './ado-organization.ts';

/** Where an Ardoq configuration points when it names no host. */
export const DEFAULT_ARDOQ_HOST = 'https://app.ardoq.com';

/** `https://<label>.ardoq.com`: Ardoq's own hosts (app, and customers' custom domains), port 443 only. */
const ARDOQ_HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+ardoq\.com$/;

export type ArdoqHostShape = { ok: true; apiHost: string } | { ok: false; problem: string };

/**
 * The origin an Ardoq API token may be sent to (WORKFLOW.md §3.3): `https://app.ardoq.com` when none is
 * given; any `https://*.ardoq.com`; any other origin only when `ARDOQ_ALLOWED_ORIGINS` lists it (plain
 * http only ever for a loopback host). No userinfo, query, fragment or path: the answer is the origin.
 */
export function parseArdoqHost(input: string | undefined, allowedOrigins: readonly string[]): ArdoqHostShape {
  const text = (input ?? '').trim();
  if (text === '') return { ok: true, apiHost: DEFAULT_ARDOQ_HOST };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'must be a URL such as https://app.ardoq.com' };
  }
  if (url.username || url.password || text.includes('@')) {
    return { ok: false, problem: 'must not carry credentials' };
  }
  if (/[?#]/.test(text)) return { ok: false, problem: 'must not have a query or a fragment' };
  if (url.pathname !== '/')
    return { ok: false, problem: 'must be an origin (https://host[:port]), without a path' };
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, problem: 'must use https://' };
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return { ok: false, problem: 'must use https:// (plain http only for a loopback host)' };
  }
  if (url.protocol === 'https:' && url.port === '' && ARDOQ_HOST.test(url.hostname)) {
    return { ok: true, apiHost: url.origin };
  }
  if (allowedOrigins.includes(url.origin)) return { ok: true, apiHost: url.origin };
  return {
    ok: false,
    problem: `${url.origin} is not an Ardoq host (https://*.ardoq.com) nor listed in ARDOQ_ALLOWED_ORIGINS`,
  };
}

/** An Ardoq component as Ardoq returns it: every key kept (WORKFLOW.md §4.4). */
export type ArdoqComponent = Record<string, unknown> & { _id: string; name?: unknown; type?: unknown };

/** The five levels of the planning hierarchy, by their component type names in Ardoq. */
export interface HierarchyTypes {
  domain: string;
  initiative: string;
  epic: string;
  feature: string;
  userStory: string;
}

export const DEFAULT_HIERARCHY_TYPES: HierarchyTypes = {
  domain: 'Domain',
  initiative: 'Initiative',
  epic: 'Epic',
  feature: 'Feature',
  userStory: 'User Story',
};

const LEVELS = ['domain', 'initiative', 'epic', 'feature', 'userStory'] as const;

/**
 * `ARDOQ_HIERARCHY_TYPES`: the five type names, comma-separated, from domain to user story (a
 * deployment whose Ardoq model names them otherwise sets it). Throws naming what is wrong.
 */
export function parseHierarchyTypes(text: string): HierarchyTypes {
  const names = text.split(',').map((name) => name.trim().replace(/\s+/g, ' '));
  if (names.length !== 5 || names.some((name) => name === '' || name.length > 100)) {
    throw new Error(
      'ARDOQ_HIERARCHY_TYPES must name 5 component types, comma-separated: domain, initiative, epic, feature, user story',
    );
  }
  if (new Set(names.map((name) => name.toLowerCase())).size !== 5) {
    throw new Error('ARDOQ_HIERARCHY_TYPES must name 5 different component types');
  }
  const [domain, initiative, epic, feature, userStory] = names as [string, string, string, string, string];
  return { domain, initiative, epic, feature, userStory };
}
type Level = 0 | 1 | 2 | 3 | 4;

/** A type name as compared: trimmed, case and inner spacing ignored ("user  story" = "User Story"). */
const typeKey = (name: unknown) =>
  typeof name === 'string' ? name.trim().replace(/\s+/g, ' ').toLowerCase() : '';

/** A component that was left out of the hierarchy, and why (WORKFLOW.md §4.3: skipped, never fatal). */
export interface SkippedComponent {
  id: string;
  name: string;
  type: string;
  reason: string;
}

interface Node {
  id: string;
  name: string;
  level: Level;
  parent: string | null;
  order: number | undefined;
}

/** The order key of a sibling: `customFields.capability_map_order_level_0` when it is a number. */
function orderOf(component: ArdoqComponent): number | undefined {
  const fields = component.customFields;
  if (typeof fields !== 'object' || fields === null) return undefined;
  const value = (fields as Record<string, unknown>).capability_map_order_level_0;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Reads a workspace's components page by page and keeps only what the hierarchy routes need: the
 * structure of the five levels (id, name, level, parent, order) and, for the components that may be
 * sent on (epics, features, user stories and one initiative), their raw JSON text. Other types and
 * the pages themselves are not kept, so memory grows with the planning components alone.
 */
export class WorkspaceHierarchy {
  readonly #nodes = new Map<string, Node>();
  readonly #raw = new Map<string, string>();
  readonly #levels: Map<string, Level>;
  #read = 0;

  constructor(
    readonly workspaceId: string,
    types: HierarchyTypes = DEFAULT_HIERARCHY_TYPES,
    /** The initiative whose raw keys are kept (the hierarchy route); none for the lists. */
    private readonly keepInitiative?: string,
    /** Keep raw JSON of epics, features and stories (only the hierarchy route needs it). */
    private readonly keepRaw = keepInitiative !== undefined,
  ) {
    this.#levels = new Map(LEVELS.map((level, index) => [typeKey(types[level]), index as Level]));
  }

  /** Components read so far (every type). */
  get componentsRead(): number {
    return this.#read;
  }

  add(page: readonly ArdoqComponent[]): void {
    for (const component of page) {
      this.#read += 1;
      const level = this.#levels.get(typeKey(component.type));
      if (level === undefined || typeof component._id !== 'string' || this.#nodes.has(component._id))
        continue;
      const parent =
        typeof component.parent === 'string' && component.parent !== '' ? component.parent : null;
      const name = typeof component.name === 'string' ? component.name : '';
      this.#nodes.set(component._id, { id: component._id, name, level, parent, order: orderOf(component) });
      if (this.keepRaw && (level >= 2 || component._id === this.keepInitiative)) {
        this.#raw.set(component._id, JSON.stringify(component));
      }
    }
  }

  /**
   * Which components stand in the hierarchy: a domain anywhere (nested ones too), anything else when
   * its parent is of the level just above and stands itself. The others are skipped with a reason; a
   * parent chain that loops is reported as a cycle and never followed twice.
   */
  #placement(): { placed: Set<string>; skipped: SkippedComponent[] } {
    const name = (level: Level) => {
      const word = LEVELS[level] === 'userStory' ? 'user story' : LEVELS[level];
      return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
    };
    // null: placed; a text: why not. Each node is judged once; a chain is walked up to the first node
    // already judged, a domain, or a problem, then settled from the top down.
    const verdict = new Map<string, string | null>();
    const notPlacedBelow = (above: Node) =>
      verdict.get(above.id) === null ? null : `its ancestor ${above.id} is not placed`;
    for (const start of this.#nodes.values()) {
      if (verdict.has(start.id)) continue;
      const chain: Node[] = [];
      const onChain = new Set<string>();
      let top: string | null = null;
      let node: Node = start;
      for (;;) {
        if (onChain.has(node.id)) {
          top = `its parent chain loops through ${node.id}`;
          break;
        }
        chain.push(node);
        onChain.add(node.id);
        if (node.level === 0) break; // a domain, wherever it is
        const parent = node.parent ? this.#nodes.get(node.parent) : undefined;
        if (!parent) {
          top = node.parent
            ? `its parent ${node.parent} is not a planning component of this workspace`
            : `${name(node.level)} needs a parent: ${name((node.level - 1) as Level)}`;
          break;
        }
        if (parent.level !== node.level - 1) {
          top = `its parent ${parent.id} is ${name(parent.level)}, not ${name((node.level - 1) as Level)}`;
          break;
        }
        if (verdict.has(parent.id)) {
          top = notPlacedBelow(parent);
          break;
        }
        node = parent;
      }
      for (let i = chain.length - 1; i >= 0; i--) {
        const below = chain[i + 1];
        verdict.set((chain[i] as Node).id, i === chain.length - 1 ? top : notPlacedBelow(below as Node));
      }
    }
    const placed = new Set<string>();
    const skipped: SkippedComponent[] = [];
    for (const node of this.#nodes.values()) {
      const reason = verdict.get(node.id) ?? null;
      if (reason === null) placed.add(node.id);
      else skipped.push({ id: node.id, name: node.name, type: LEVELS[node.level], reason });
    }
    return { placed, skipped };
  }

  /** Children of each placed node, in sibling order (order key, then name, then id). */
  #children(placed: Set<string>): Map<string, Node[]> {
    const children = new Map<string, Node[]>();
    for (const node of this.#nodes.values()) {
      if (!placed.has(node.id) || node.level === 0 || !node.parent) continue;
      const list = children.get(node.parent) ?? [];
      list.push(node);
      children.set(node.parent, list);
    }
    for (const list of children.values()) list.sort(compareSiblings);
    return children;
  }

  /** Every domain (nested ones too), in sibling order. */
  domains(): Array<{ id: string; name: string; type: 'Domain' }> {
    const { placed } = this.#placement();
    return [...this.#nodes.values()]
      .filter((node) => node.level === 0 && placed.has(node.id))
      .sort(compareSiblings)
      .map((node) => ({ id: node.id, name: node.name, type: 'Domain' as const }));
  }

  /** The initiatives directly under one domain, in sibling order. */
  initiatives(domainId: string): Array<{ id: string; name: string; type: 'Initiative'; parent: string }> {
    const { placed } = this.#placement();
    return (this.#children(placed).get(domainId) ?? [])
      .filter((node) => node.level === 1)
      .map((node) => ({ id: node.id, name: node.name, type: 'Initiative' as const, parent: domainId }));
  }

  /**
   * The initiative with its epics → features → user stories, every node with all its raw keys and
   * `children` (user stories have none), or null when no placed initiative has that id. `skipped`
   * lists the components of this initiative's subtree that could not be placed, plus every misplaced
   * planning component of the workspace whose chain does not reach a domain.
   */
  hierarchy(initiativeId: string): { tree: Record<string, unknown>; skipped: SkippedComponent[] } | null {
    const { placed, skipped } = this.#placement();
    const initiative = this.#nodes.get(initiativeId);
    if (initiative?.level !== 1 || !placed.has(initiativeId)) return null;
    const children = this.#children(placed);
    const build = (node: Node): Record<string, unknown> => {
      const raw = JSON.parse(
        this.#raw.get(node.id) ?? JSON.stringify({ _id: node.id, name: node.name }),
      ) as Record<string, unknown>;
      if (node.level === 4) {
        const { children: _ignored, ...story } = raw;
        return story;
      }
      return { ...raw, children: (children.get(node.id) ?? []).map(build) };
    };
    return { tree: build(initiative), skipped: skipped.filter((s) => s.type !== 'domain') };
  }
}

/** `localeCompare(…, 'en')` with one collator: that call builds a collator per comparison. */
const compareEnglish = new Intl.Collator('en').compare;

function compareSiblings(a: Node, b: Node): number {
  if (a.order !== b.order) {
    if (a.order === undefined) return 1;
    if (b.order === undefined) return -1;
    return a.order - b.order;
  }
  const byName = compareEnglish(a.name, b.name);
  return byName !== 0 ? byName : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
