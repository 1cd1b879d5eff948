import { describe, expect, it } from 'vitest';
import { type MappingSnapshot, MappingValueError } from '#core/domain/field-mapping.ts';
import { applyMappings } from '#core/mapping/apply-mapping.ts';
import { ardoqComponentUrl, mapNodeToWorkItem, SYNC_TAG } from '#core/mapping/field-mapping.ts';
import { toPriority, toRisk, toTags, toTitle } from '#core/mapping/field-values.ts';
import { escapeHtml, textToHtml } from '#core/mapping/html.ts';
import {
  type HierarchyTypes,
  type ProcessName,
  resolveHierarchyTypes,
  UnsupportedProcessError,
} from '#core/mapping/work-item-types.ts';

const PROJECT_TYPES: Record<ProcessName, string[]> = {
  Agile: ['Bug', 'Epic', 'Feature', 'Issue', 'Task', 'Test Case', 'User Story'],
  Scrum: ['Bug', 'Epic', 'Feature', 'Impediment', 'Product Backlog Item', 'Task'],
  CMMI: ['Bug', 'Change Request', 'Epic', 'Feature', 'Issue', 'Requirement', 'Review', 'Risk', 'Task'],
  Basic: ['Epic', 'Issue', 'Task', 'Test Case'],
};

const COMMON = ['System.Title', 'System.Description', 'System.Tags', 'Microsoft.VSTS.Common.Priority'];
/** Fields of the lowest level per process (Basic's Task has neither AcceptanceCriteria nor Risk). */
const STORY_FIELDS: Record<ProcessName, ReadonlySet<string>> = {
  Agile: new Set([...COMMON, 'Microsoft.VSTS.Common.AcceptanceCriteria', 'Microsoft.VSTS.Common.Risk']),
  Scrum: new Set([...COMMON, 'Microsoft.VSTS.Common.AcceptanceCriteria']),
  CMMI: new Set([...COMMON, 'Microsoft.VSTS.Common.AcceptanceCriteria']),
  Basic: new Set(COMMON),
};

const OPTIONS = { ardoqBaseUrl: 'https://acme.ardoq.com/', marker: 'ardoq-sync:sync-1:comp 1' };

/** A full raw Ardoq node; every test changes what it is about. */
function node(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _id: 'comp 1',
    name: '  Pay by card  ',
    type: 'User Story',
    description: 'Line 1\nLine <2> & "3"',
    componentKey: 'ACME-12',
    priority: 'High',
    tags: ['checkout', { name: 'Payments' }],
    acceptanceCriteria: "Given a card\r\nThen it's charged",
    risk: 'medium',
    customFields: { foo: 'bar' },
    _meta: { workspaceId: 'ws1' },
    ...overrides,
  };
}

describe('resolveHierarchyTypes', () => {
  it.each<[ProcessName, Omit<HierarchyTypes, 'process'>]>([
    ['Agile', { epic: 'Epic', feature: 'Feature', userStory: 'User Story' }],
    ['Scrum', { epic: 'Epic', feature: 'Feature', userStory: 'Product Backlog Item' }],
    ['CMMI', { epic: 'Epic', feature: 'Feature', userStory: 'Requirement' }],
    ['Basic', { epic: 'Epic', feature: 'Issue', userStory: 'Task' }],
  ])('discovers %s from the project types', (process, levels) => {
    expect(resolveHierarchyTypes(PROJECT_TYPES[process])).toEqual({ process, ...levels });
  });

  it("lets the project's types win over a contradicting hint", () => {
    expect(resolveHierarchyTypes(PROJECT_TYPES.Scrum, 'Agile').process).toBe('Scrum');
    expect(resolveHierarchyTypes(PROJECT_TYPES.Basic, 'CMMI').process).toBe('Basic');
    // Agile has an Issue type too, but it has Feature: not Basic.
    expect(resolveHierarchyTypes(PROJECT_TYPES.Agile, 'Basic').process).toBe('Agile');
  });

  it('uses the hint to break a tie between processes the project fits', () => {
    const custom = ['Epic', 'Feature', 'User Story', 'Product Backlog Item', 'Task'];
    expect(resolveHierarchyTypes(custom).process).toBe('Agile');
    expect(resolveHierarchyTypes(custom, 'Scrum')).toEqual({
      process: 'Scrum',
      epic: 'Epic',
      feature: 'Feature',
      userStory: 'Product Backlog Item',
    });
  });

  it("returns the project's own spelling of a type", () => {
    expect(resolveHierarchyTypes(['epic', 'FEATURE', 'user story']).userStory).toBe('user story');
  });

  it('names the missing type', () => {
    const error = (() => {
      try {
        resolveHierarchyTypes(['Epic', 'User Story', 'Task']);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedProcessError);
    expect((error as Error).name).toBe('UnsupportedProcessError');
    expect((error as Error).message).toMatch(/Agile.*Feature/);
    expect(() => resolveHierarchyTypes(['Epic', 'Issue'])).toThrow(/Basic.*Task/);
    expect(() => resolveHierarchyTypes(['Bug', 'Task'])).toThrow(UnsupportedProcessError);
    expect(() => resolveHierarchyTypes(['Epic', 'Feature', 'Task'], 'Scrum')).toThrow(/Product Backlog Item/);
  });
});

describe('mapNodeToWorkItem', () => {
  it.each<ProcessName>(['Agile', 'Scrum', 'CMMI', 'Basic'])(
    'maps a user story node for %s, writing only fields the type has',
    (process) => {
      const types = resolveHierarchyTypes(PROJECT_TYPES[process]);
      const item = mapNodeToWorkItem(node(), 'user_story', types, STORY_FIELDS[process], {
        ...OPTIONS,
        parentId: 41,
      });
      const expected: Record<string, string | number> = {
        'System.Title': 'Pay by card',
        'System.Description': 'Line 1<br>Line &lt;2&gt; &amp; &quot;3&quot;',
        'System.Tags': 'ardoq-sync; ACME-12; checkout; Payments',
        'Microsoft.VSTS.Common.Priority': 2,
      };
      if (process !== 'Basic') {
        expected['Microsoft.VSTS.Common.AcceptanceCriteria'] = 'Given a card<br>Then it&#39;s charged';
      }
      if (process === 'Agile') expected['Microsoft.VSTS.Common.Risk'] = '2 - Medium';
      expect(item).toEqual({
        type: types.userStory,
        fields: expected,
        parentId: 41,
        hyperlink: {
          url: 'https://acme.ardoq.com/app/view/component/comp%201',
          comment: 'ardoq-sync:sync-1:comp 1',
        },
      });
    },
  );

  it('uses the level to pick the type and omits parentId when there is none', () => {
    const types = resolveHierarchyTypes(PROJECT_TYPES.Basic);
    const epic = mapNodeToWorkItem(node(), 'epic', types, STORY_FIELDS.Basic, OPTIONS);
    expect(epic.type).toBe('Epic');
    expect('parentId' in epic).toBe(false);
    expect(mapNodeToWorkItem(node(), 'feature', types, STORY_FIELDS.Basic, OPTIONS).type).toBe('Issue');
  });

  it('writes only the title when the type has nothing else', () => {
    const types = resolveHierarchyTypes(PROJECT_TYPES.Agile);
    const item = mapNodeToWorkItem(node(), 'feature', types, new Set(['System.Title']), OPTIONS);
    expect(item.fields).toEqual({ 'System.Title': 'Pay by card' });
  });

  it('leaves out description, priority, criteria and risk the node does not have', () => {
    const types = resolveHierarchyTypes(PROJECT_TYPES.Agile);
    const bare = { _id: 'x', name: 'Bare', type: 'Epic' };
    const item = mapNodeToWorkItem(bare, 'epic', types, STORY_FIELDS.Agile, OPTIONS);
    expect(item.fields).toEqual({ 'System.Title': 'Bare', 'System.Tags': 'ardoq-sync' });
    const blank = mapNodeToWorkItem(
      { ...bare, description: '   ', priority: 'whenever' },
      'epic',
      types,
      STORY_FIELDS.Agile,
      OPTIONS,
    );
    expect(blank.fields).toEqual({ 'System.Title': 'Bare', 'System.Tags': 'ardoq-sync' });
  });

  it('never writes ChangedBy or ChangedDate, even when the node and the type carry them', () => {
    const types = resolveHierarchyTypes(PROJECT_TYPES.Agile);
    const fields = new Set([...STORY_FIELDS.Agile, 'System.ChangedBy', 'System.ChangedDate']);
    const item = mapNodeToWorkItem(
      node({ 'System.ChangedBy': 'me', changedBy: 'me', ChangedDate: '2026-01-01' }),
      'user_story',
      types,
      fields,
      OPTIONS,
    );
    expect(Object.keys(item.fields)).not.toContain('System.ChangedBy');
    expect(Object.keys(item.fields)).not.toContain('System.ChangedDate');
  });

  it('refuses a type without System.Title and a node without a name', () => {
    const types = resolveHierarchyTypes(PROJECT_TYPES.Agile);
    expect(() => mapNodeToWorkItem(node(), 'epic', types, new Set(['System.Tags']), OPTIONS)).toThrow(
      UnsupportedProcessError,
    );
    expect(() => mapNodeToWorkItem(node({ name: '  ' }), 'epic', types, STORY_FIELDS.Agile, OPTIONS)).toThrow(
      /no name/,
    );
  });

  it('builds the Ardoq link with the id encoded', () => {
    expect(ardoqComponentUrl('https://x.ardoq.com//', 'a/b?c')).toBe(
      'https://x.ardoq.com/app/view/component/a%2Fb%3Fc',
    );
  });
});

describe('title', () => {
  it('trims and collapses line breaks', () => {
    expect(toTitle('  One\r\n two\tthree  ')).toBe('One two three');
  });

  it('keeps 255 characters as they are', () => {
    const name = 'a'.repeat(255);
    expect(toTitle(name)).toBe(name);
  });

  it('cuts longer titles to 255 characters ending with an ellipsis', () => {
    const title = toTitle('b'.repeat(300));
    expect(title).toHaveLength(255);
    expect(title).toBe(`${'b'.repeat(254)}…`);
  });

  it('never splits a surrogate pair at the boundary', () => {
    // The emoji occupies code units 253 and 254: a cut at 254 would keep half of it.
    const title = toTitle(`${'c'.repeat(253)}😀${'d'.repeat(50)}`);
    expect(title).toBe(`${'c'.repeat(253)}…`);
    expect(title.length).toBeLessThanOrEqual(255);
    // Just before the boundary the emoji fits whole.
    const kept = toTitle(`${'c'.repeat(252)}😀${'d'.repeat(50)}`);
    expect(kept).toBe(`${'c'.repeat(252)}😀…`);
    expect(kept).toHaveLength(255);
  });
});

describe('HTML', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
  });

  it('keeps every kind of line break as <br>', () => {
    expect(textToHtml('a\nb\r\nc\rd\n\ne')).toBe('a<br>b<br>c<br>d<br><br>e');
  });
});

describe('priority', () => {
  it.each<[unknown, number | undefined]>([
    [1, 1],
    [4, 4],
    [0, 1],
    [-3, 1],
    [9, 4],
    [2.4, 2],
    [2.6, 3],
    ['3', 3],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    ['Critical', 1],
    ['HIGHEST', 1],
    ['urgent', 1],
    [' high ', 2],
    ['Medium', 3],
    ['normal', 3],
    ['Low', 4],
    ['lowest', 4],
    ['someday', undefined],
    [null, undefined],
    [undefined, undefined],
    [{ level: 1 }, undefined],
  ])('%s → %s', (value, expected) => {
    expect(toPriority(value)).toBe(expected);
  });
});

describe('risk', () => {
  it('maps high/medium/low words and passes other text through', () => {
    expect(toRisk('High')).toBe('1 - High');
    expect(toRisk(' low ')).toBe('3 - Low');
    expect(toRisk('2 - Medium')).toBe('2 - Medium');
    expect(toRisk('')).toBeUndefined();
    expect(toRisk(undefined)).toBeUndefined();
  });
});

describe('tags', () => {
  it('combines the sync tag, the component key and the node tags', () => {
    expect(toTags('KEY-9', ['alpha', { name: 'Beta' }, { id: 'no-name' }, 42])).toBe(
      `${SYNC_TAG}; KEY-9; alpha; Beta`,
    );
  });

  it('keeps the component key when the node has no tags (old defect 12)', () => {
    expect(toTags('KEY-9', undefined)).toBe('ardoq-sync; KEY-9');
  });

  it('trims, drops empty tags, replaces ; and de-duplicates case-insensitively', () => {
    expect(toTags(' key-9 ', ['  Alpha ', 'ALPHA', '', '  ', 'a;b', 'KEY-9', 'Ardoq-Sync'])).toBe(
      'ardoq-sync; key-9; Alpha; a,b',
    );
  });
});

describe('mapNodeToWorkItem with the sync’s mapping (rows resolved once per type, applied per item)', () => {
  const types = resolveHierarchyTypes(PROJECT_TYPES.Agile);
  const fields = new Set([...STORY_FIELDS.Agile, 'Microsoft.VSTS.Common.ValueArea', 'Custom.Team']);
  const snapshot: MappingSnapshot = {
    kind: 'config',
    id: 'cfg-1',
    name: 'Team mapping',
    mappings: [
      {
        ardoqField: 'valueArea',
        azureDevOpsField: 'Microsoft.VSTS.Common.ValueArea',
        workItemType: 'user_story',
      },
      { ardoqField: 'team', azureDevOpsField: 'Custom.Team', workItemType: 'user_story', transform: 'text' },
      { ardoqField: 'componentKey', azureDevOpsField: 'System.Tags', workItemType: 'user_story' },
      { ardoqField: 'team', azureDevOpsField: 'System.Tags', workItemType: 'epic' },
    ],
  };
  const story = (valueArea: string, team: string) =>
    node({ customFields: { value_area: valueArea, team }, componentKey: `KEY-${team}` });
  const map = (
    n: Record<string, unknown>,
    level: 'epic' | 'user_story',
    fieldTypes?: Record<string, { type?: string; allowedValues?: string[] }>,
  ) =>
    mapNodeToWorkItem(n, level, types, fields, {
      ...OPTIONS,
      mapping: { snapshot, ...(fieldTypes ? { fieldTypes } : {}) },
    }).fields;

  it('gives each item its own values, the same as the rows applied afresh', () => {
    for (const [i, team] of ['Red', 'Blue', 'Green', 'Red'].entries()) {
      const n = story(i % 2 ? 'Business' : 'Architectural', team);
      const expected = applyMappings(
        n,
        'user_story',
        snapshot.mappings,
        new Map([...fields].map((referenceName) => [referenceName, { referenceName }])),
      ).fields;
      expect(map(n, 'user_story')).toEqual({
        ...expected,
        'System.Tags': `${SYNC_TAG}; ${expected['System.Tags']}`,
        'System.Title': 'Pay by card',
      });
      expect(map(n, 'user_story')).toMatchObject({
        'Custom.Team': team,
        'System.Tags': `${SYNC_TAG}; KEY-${team}`,
      });
    }
  });

  it('keeps each level’s rows apart for the same rows and fields', () => {
    const n = story('Business', 'Red');
    expect(map(n, 'user_story')['Custom.Team']).toBe('Red');
    expect(map(n, 'epic')).toEqual({ 'System.Title': 'Pay by card', 'System.Tags': `${SYNC_TAG}; Red` });
    expect(map(n, 'user_story')['Microsoft.VSTS.Common.ValueArea']).toBe('Business');
  });

  it('applies the field facts given with the call, not those of an earlier call with the same rows', () => {
    const n = story('Business', 'Red');
    expect(map(n, 'user_story')['Microsoft.VSTS.Common.ValueArea']).toBe('Business');
    const limited = {
      'Microsoft.VSTS.Common.ValueArea': { type: 'string', allowedValues: ['Architectural'] },
    };
    expect(() => map(n, 'user_story', limited)).toThrow(MappingValueError);
    expect(() => map(n, 'user_story', limited)).toThrow(/'Business' is not one of 'Architectural'/);
    expect(map(n, 'user_story')['Microsoft.VSTS.Common.ValueArea']).toBe('Business');
  });

  it('reads the fields of the set it is given: a field the type lacks is left out', () => {
    const n = story('Business', 'Red');
    const without = new Set([...fields].filter((f) => f !== 'Custom.Team'));
    const item = mapNodeToWorkItem(n, 'user_story', types, without, { ...OPTIONS, mapping: { snapshot } });
    expect(item.fields).not.toHaveProperty('Custom.Team');
    expect(map(n, 'user_story')['Custom.Team']).toBe('Red');
  });
});
