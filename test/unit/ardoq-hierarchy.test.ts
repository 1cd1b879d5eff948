import { describe, expect, it } from 'vitest';
import {
  type ArdoqComponent,
  DEFAULT_ARDOQ_HOST,
  DEFAULT_HIERARCHY_TYPES,
  parseArdoqHost,
  parseHierarchyTypes,
  WorkspaceHierarchy,
} from '#core/domain/ardoq.ts';

const WS = 'ws1';
let next = 0;
/** A raw component as Ardoq sends it (extra keys kept). */
const c = (
  type: string,
  name: string,
  parent: string | null,
  extra: Record<string, unknown> = {},
): ArdoqComponent => ({
  _id: `c${++next}`,
  name,
  type,
  parent,
  rootWorkspace: WS,
  componentKey: `K-${next}`,
  customFields: { priority: 'High' },
  _meta: { lastModifiedByName: 'Ada' },
  ...extra,
});

function tree() {
  next = 0;
  const domain = c('Domain', 'Customer', null);
  const initiative = c('Initiative', 'Onboarding', domain._id);
  const other = c('Initiative', 'Other', domain._id);
  const epicB = c('Epic', 'B epic', initiative._id, { customFields: { capability_map_order_level_0: 2 } });
  const epicA = c('Epic', 'A epic', initiative._id, { customFields: { capability_map_order_level_0: 10 } });
  const epicC = c('Epic', 'C epic', initiative._id);
  const feature = c('Feature', 'Sign-up', epicB._id);
  const story = c('User Story', 'As a user', feature._id, { children: ['stray'] });
  const app = c('Application', 'CRM', null);
  return { domain, initiative, other, epicA, epicB, epicC, feature, story, app };
}

/** The components in the given order, split over pages of `size`. */
function read(components: ArdoqComponent[], keep?: string, size = 3) {
  const hierarchy = new WorkspaceHierarchy(WS, DEFAULT_HIERARCHY_TYPES, keep);
  for (let i = 0; i < components.length; i += size) hierarchy.add(components.slice(i, i + size));
  return hierarchy;
}

describe('WorkspaceHierarchy', () => {
  it('builds an initiative’s tree from components in any order: every raw key kept, stories without children', () => {
    const t = tree();
    // Children before parents, other types mixed in.
    const hierarchy = read(
      [t.story, t.app, t.feature, t.epicC, t.epicA, t.epicB, t.other, t.initiative, t.domain],
      t.initiative._id,
    );

    const result = hierarchy.hierarchy(t.initiative._id);

    expect(result?.skipped).toEqual([]);
    const root = result?.tree as Record<string, unknown> & { children: Array<Record<string, unknown>> };
    expect(root).toMatchObject({
      _id: t.initiative._id,
      name: 'Onboarding',
      componentKey: t.initiative.componentKey,
    });
    // Siblings: by capability_map_order_level_0, then name; none last.
    expect(root.children.map((e) => e.name)).toEqual(['B epic', 'A epic', 'C epic']);
    const epic = root.children[0] as { children: Array<Record<string, unknown>> } & Record<string, unknown>;
    expect(epic).toMatchObject({ customFields: { capability_map_order_level_0: 2 }, rootWorkspace: WS });
    const feature = epic.children[0] as { children: Array<Record<string, unknown>> };
    const story = feature.children[0] as Record<string, unknown>;
    expect(story).toMatchObject({
      _id: t.story._id,
      componentKey: t.story.componentKey,
      _meta: { lastModifiedByName: 'Ada' },
    });
    expect(story).not.toHaveProperty('children');
    expect((root.children[2] as { children: unknown[] }).children).toEqual([]);
    expect(hierarchy.componentsRead).toBe(9);
  });

  it('lists domains (nested ones too) and the initiatives directly under one domain', () => {
    const t = tree();
    const nested = c('Domain', 'Nested', t.domain._id);
    const under = c('Initiative', 'Under nested', nested._id);
    const hierarchy = read([t.domain, t.initiative, t.other, nested, under]);

    expect(hierarchy.domains().map((d) => d.name)).toEqual(['Customer', 'Nested']);
    expect(hierarchy.initiatives(t.domain._id)).toEqual([
      { id: t.initiative._id, name: 'Onboarding', type: 'Initiative', parent: t.domain._id },
      { id: t.other._id, name: 'Other', type: 'Initiative', parent: t.domain._id },
    ]);
    expect(hierarchy.initiatives(nested._id).map((i) => i.name)).toEqual(['Under nested']);
    expect(hierarchy.initiatives('unknown')).toEqual([]);
  });

  it('skips misplaced components and their subtrees with a reason, never fails, never loops', () => {
    const t = tree();
    const orphan = c('Epic', 'Orphan epic', 'missing-id');
    const underOrphan = c('Feature', 'Under orphan', orphan._id);
    const wrongLevel = c('Feature', 'Feature under initiative', t.initiative._id);
    const cycleA = c('Feature', 'Cycle A', 'placeholder');
    const cycleB = c('Feature', 'Cycle B', cycleA._id);
    cycleA.parent = cycleB._id;
    const self = c('Epic', 'Self', null);
    self.parent = self._id;
    const rootless = c('Epic', 'No parent', null);
    const components = [
      t.domain,
      t.initiative,
      t.epicA,
      t.feature,
      t.epicB,
      orphan,
      underOrphan,
      wrongLevel,
      cycleA,
      cycleB,
      self,
      rootless,
    ];

    const result = read(components, t.initiative._id).hierarchy(t.initiative._id);

    const reasons = new Map(result?.skipped.map((s) => [s.name, s.reason]));
    expect(reasons.get('Orphan epic')).toMatch(/parent missing-id is not a planning component/);
    expect(reasons.get('Under orphan')).toMatch(/ancestor .* is not placed/);
    expect(reasons.get('Feature under initiative')).toMatch(/is an initiative, not an epic/);
    expect(reasons.get('Cycle A')).toMatch(/is a feature, not an epic/);
    expect(reasons.get('Cycle B')).toMatch(/is a feature, not an epic/);
    expect(reasons.get('Self')).toMatch(/is an epic, not an initiative/);
    expect(reasons.get('No parent')).toMatch(/an epic needs a parent: an initiative/);
    // The placed part is intact.
    const names = JSON.stringify(result?.tree);
    expect(names).toContain('Sign-up');
    expect(names).not.toContain('Orphan epic');
  });

  it('finds no hierarchy for an unknown id, a non-initiative or a skipped initiative', () => {
    const t = tree();
    const lost = c('Initiative', 'Lost', 'nowhere');
    const hierarchy = read([t.domain, t.initiative, t.epicA, lost], t.initiative._id);
    expect(hierarchy.hierarchy('nope')).toBeNull();
    expect(hierarchy.hierarchy(t.epicA._id)).toBeNull();
    expect(hierarchy.hierarchy(lost._id)).toBeNull();
  });

  it('matches type names whatever their case and spacing, and follows configured names', () => {
    next = 0;
    const d = c('domain', 'D', null);
    const i = c(' INITIATIVE ', 'I', d._id);
    const e = c('Epic', 'E', i._id);
    const f = c('Feature', 'F', e._id);
    const s = c('user   story', 'S', f._id);
    const tree1 = read([d, i, e, f, s], i._id).hierarchy(i._id)?.tree;
    expect(JSON.stringify(tree1)).toContain('"S"');

    const types = parseHierarchyTypes('Area, Programme ,Theme,Capability,Backlog Item');
    const area = c('Area', 'A', null);
    const programme = c('Programme', 'P', area._id);
    const theme = c('Theme', 'T', programme._id);
    const custom = new WorkspaceHierarchy(WS, types, programme._id);
    custom.add([area, programme, theme]);
    expect(
      (custom.hierarchy(programme._id)?.tree as { children: Array<{ name: string }> } | undefined)
        ?.children[0]?.name,
    ).toBe('T');
  });

  it('keeps one copy of a component Ardoq sends twice', () => {
    const t = tree();
    const hierarchy = read([t.domain, t.initiative, t.epicA, t.epicA, t.app], t.initiative._id);
    const root = hierarchy.hierarchy(t.initiative._id)?.tree as { children: unknown[] };
    expect(root.children).toHaveLength(1);
  });
});

describe('parseHierarchyTypes', () => {
  it.each([
    ['four names', 'A,B,C,D'],
    ['an empty name', 'A,,C,D,E'],
    ['a duplicate (any case)', 'A,B,C,D,a'],
  ])('refuses %s', (_label, text) => {
    expect(() => parseHierarchyTypes(text)).toThrow(/ARDOQ_HIERARCHY_TYPES/);
  });
});

describe('parseArdoqHost', () => {
  const allowed = ['http://127.0.0.1:8082', 'https://ardoq.corp.example'];
  it.each([
    [undefined, DEFAULT_ARDOQ_HOST],
    ['', DEFAULT_ARDOQ_HOST],
    ['https://app.ardoq.com', 'https://app.ardoq.com'],
    ['https://app.ardoq.com/', 'https://app.ardoq.com'],
    ['https://acme.ardoq.com', 'https://acme.ardoq.com'],
    ['HTTPS://EU.Ardoq.com', 'https://eu.ardoq.com'],
    ['http://127.0.0.1:8082', 'http://127.0.0.1:8082'],
    ['https://ardoq.corp.example', 'https://ardoq.corp.example'],
  ])('allows %s as %s', (input, origin) => {
    expect(parseArdoqHost(input, allowed)).toEqual({ ok: true, apiHost: origin });
  });

  it.each([
    ['a host of nobody’s list', 'https://evil.example.com'],
    ['a look-alike host', 'https://app.ardoq.com.evil.com'],
    ['ardoq.com on another port', 'https://app.ardoq.com:8443'],
    ['plain http to Ardoq', 'http://app.ardoq.com'],
    ['plain http to a listed https origin', 'http://ardoq.corp.example'],
    ['loopback not listed', 'http://127.0.0.1:9001'],
    ['userinfo', 'https://user:pw@app.ardoq.com'],
    ['userinfo trick', 'https://app.ardoq.com@evil.com'],
    ['a query', 'https://app.ardoq.com/?x=1'],
    ['a fragment', 'https://app.ardoq.com/#x'],
    ['a path', 'https://app.ardoq.com/api/v2'],
    ['another scheme', 'ftp://app.ardoq.com'],
    ['no URL', 'app.ardoq.com'],
  ])('refuses %s', (_label, input) => {
    const host = parseArdoqHost(input, allowed);
    expect(host.ok).toBe(false);
    if (!host.ok) expect(host.problem.length).toBeGreaterThan(10);
  });
});
