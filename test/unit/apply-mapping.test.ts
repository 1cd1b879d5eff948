import { describe, expect, it } from 'vitest';
import {
  FieldMappingRow,
  MappingValueError,
  type TargetField,
  TRANSFORMS,
  type Transform,
  type WorkItemLevel,
} from '#core/domain/field-mapping.ts';
import {
  applyMappings,
  FORBIDDEN_TARGETS,
  inferTransform,
  readArdoqValue,
  transformFits,
  transformValue,
} from '#core/mapping/apply-mapping.ts';

// ---------------------------------------------------------------------------------------------------
// Factories: raw Ardoq nodes as the sync request carries them (keys as sim/ardoq/seed-demo.ts makes them)

type Node = Record<string, unknown>;
interface NodeChanges {
  customFields?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
  [key: string]: unknown;
}

const META = {
  created: '2025-01-06T10:00:00.000Z',
  createdBy: '6571d0c4a0b1c2d3e4f50001',
  lastUpdated: '2025-02-03T10:00:00.000Z',
  lastModifiedBy: '6571d0c4a0b1c2d3e4f50001',
  lastModifiedByName: 'Dana Whitfield',
  lastModifiedByEmail: 'dana.whitfield@example.com',
};

/** A node: top-level keys replaced, `customFields`/`_meta` merged; a key set to `undefined` is removed. */
function withChanges(base: Node, changes: NodeChanges): Node {
  const { customFields, _meta, ...top } = changes;
  const merged: Node = {
    ...base,
    ...top,
    customFields: { ...(base.customFields as object), ...customFields },
    _meta: { ...(base._meta as object), ..._meta },
  };
  for (const record of [merged, merged.customFields as Node, merged._meta as Node]) {
    for (const [key, value] of Object.entries(record)) if (value === undefined) delete record[key];
  }
  return merged;
}

function epicNode(changes: NodeChanges = {}): Node {
  return withChanges(
    {
      _id: '65f1c0a0e4b0a1b2c3d40001',
      name: 'Account sign-up without sales contact',
      type: 'Epic',
      typeId: 'p1712345678901',
      parent: '65f1c0a0e4b0a1b2c3d40000',
      rootWorkspace: '65f1c0a0e4b0a1b2c3d4ffff',
      description: '**Account sign-up** is part of *Self-service Onboarding*.\n\n- Owner: Dana Whitfield',
      componentKey: 'DEM-12',
      customFields: {
        priority: 'High',
        capability_map_order_level_0: 10,
        context_description: 'Let a new customer sign up. This epic covers account sign-up.',
        risk: 2,
        tags: ['mvp', 'q3'],
      },
      _meta: META,
    },
    changes,
  );
}

function featureNode(changes: NodeChanges = {}): Node {
  return withChanges(
    {
      _id: '65f1c0a0e4b0a1b2c3d40002',
      name: 'Email sign-up',
      type: 'Feature',
      typeId: 'p1712345678902',
      parent: '65f1c0a0e4b0a1b2c3d40001',
      rootWorkspace: '65f1c0a0e4b0a1b2c3d4ffff',
      description: 'Email sign-up for account sign-up. Delivers a usable slice on its own.',
      componentKey: 'DEM-13',
      customFields: {
        priority: 2,
        capability_map_order_level_0: 10,
        context_description: 'Today the new customer works around the missing email sign-up by hand.',
        purpose: 'Make email sign-up part of the product.',
        input: 'Research notes and the current process map.',
        output_definition_of_done: 'Email sign-up is live, documented and monitored.',
        approach: 'Ship behind a feature flag to 5% of traffic, then widen weekly.',
        risk: null,
        tags: ['ux'],
      },
      _meta: META,
    },
    changes,
  );
}

function storyNode(changes: NodeChanges = {}): Node {
  return withChanges(
    {
      _id: '65f1c0a0e4b0a1b2c3d40003',
      name: 'As a new customer, I can start email sign-up from the home screen',
      type: 'User Story',
      typeId: 'p1712345678903',
      parent: '65f1c0a0e4b0a1b2c3d40002',
      rootWorkspace: '65f1c0a0e4b0a1b2c3d4ffff',
      description: 'As a new customer, I can start email sign-up from the home screen.',
      componentKey: 'DEM-14',
      customFields: {
        priority: 'Medium',
        acceptance_criteria:
          'Given I am a new customer\nWhen I use email sign-up\nThen I can start it from the home screen',
        risk: 3,
        tags: ['mvp', 'Payments'],
      },
      _meta: META,
    },
    changes,
  );
}

function field(referenceName: string, type?: string, allowedValues?: readonly string[]): TargetField {
  const result: TargetField = { referenceName };
  if (type !== undefined) result.type = type;
  if (allowedValues !== undefined) result.allowedValues = allowedValues;
  return result;
}

function fieldsOf(...fields: TargetField[]): ReadonlyMap<string, TargetField> {
  return new Map(fields.map((f) => [f.referenceName, f]));
}

function row(
  ardoqField: string,
  azureDevOpsField: string,
  workItemType: WorkItemLevel = 'user_story',
  transform?: Transform,
): FieldMappingRow {
  return FieldMappingRow.parse({ ardoqField, azureDevOpsField, workItemType, transform });
}

const F = {
  title: field('System.Title', 'string'),
  description: field('System.Description', 'html'),
  tags: field('System.Tags', 'plainText'),
  priority: field('Microsoft.VSTS.Common.Priority', 'integer', ['1', '2', '3', '4']),
  acceptance: field('Microsoft.VSTS.Common.AcceptanceCriteria', 'html'),
  risk: field('Microsoft.VSTS.Common.Risk', 'string', ['1 - High', '2 - Medium', '3 - Low']),
  assignedTo: field('System.AssignedTo', 'identity'),
  storyPoints: field('Microsoft.VSTS.Scheduling.StoryPoints', 'double'),
  targetDate: field('Microsoft.VSTS.Scheduling.TargetDate', 'dateTime'),
  valueArea: field('Microsoft.VSTS.Common.ValueArea', 'string', ['Architectural', 'Business']),
  changedBy: field('System.ChangedBy', 'identity'),
  changedDate: field('System.ChangedDate', 'dateTime'),
  notes: field('Custom.Notes', 'plainText'),
  summary: field('Custom.Summary', 'string'),
  order: field('Custom.Order', 'integer'),
};

/** An Agile User Story's fields (the ones these tests use), read-only ones included as Azure DevOps lists them. */
const STORY_FIELDS = fieldsOf(...Object.values(F));

/** The MappingValueError `run` throws (fails the test when it throws nothing or something else). */
function mappingError(run: () => unknown): MappingValueError {
  try {
    run();
  } catch (error) {
    if (error instanceof MappingValueError) return error;
    throw error;
  }
  throw new Error('expected a MappingValueError, nothing was thrown');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------

describe('readArdoqValue: the lookup order of §6.6 step 2', () => {
  describe('(a) exact key, dotted paths allowed', () => {
    it.each([
      ['componentKey', 'DEM-14'],
      ['description', 'As a new customer, I can start email sign-up from the home screen.'],
      ['customFields.priority', 'Medium'],
      ['customFields.acceptance_criteria', expect.stringContaining('Given I am a new customer')],
      ['_meta.lastModifiedByEmail', 'dana.whitfield@example.com'],
      ['_meta.created', '2025-01-06T10:00:00.000Z'],
    ])('%s', (ardoqField, expected) => {
      expect(readArdoqValue(storyNode(), ardoqField, 'user_story')).toEqual(expected);
    });

    it('reads a top-level key before customFields (a beats c)', () => {
      expect(readArdoqValue(storyNode({ priority: 1 }), 'priority', 'user_story')).toBe(1);
    });

    it('reads a literal dotted key before walking the path', () => {
      const node = storyNode({ 'customFields.priority': 'Low' });
      expect(readArdoqValue(node, 'customFields.priority', 'user_story')).toBe('Low');
    });

    it.each(['customFields.missing', 'customFields.priority.deeper', 'componentKey.length', 'nothing.here'])(
      'a dotted path that leads nowhere (%s) is absent',
      (ardoqField) => {
        expect(readArdoqValue(storyNode(), ardoqField, 'user_story')).toBeUndefined();
      },
    );
  });

  describe('(b) feature aliases in customFields', () => {
    it.each([
      ['purpose', {}, 'Make email sign-up part of the product.'],
      ['input', {}, 'Research notes and the current process map.'],
      ['approach', {}, 'Ship behind a feature flag to 5% of traffic, then widen weekly.'],
      ['output', {}, 'Email sign-up is live, documented and monitored.'],
      ['output', { output_definition_of_done: null, output: 'A shipped feature' }, 'A shipped feature'],
      ['output', { output_definition_of_done: '', definitionOfDone: 'Tests green' }, 'Tests green'],
      ['priority', {}, 2],
    ])('%s (customFields %j)', (ardoqField, customFields, expected) => {
      expect(readArdoqValue(featureNode({ customFields }), ardoqField, 'feature')).toEqual(expected);
    });

    it('description: context_description before customFields.description when the top level has none', () => {
      const node = featureNode({ description: undefined, customFields: { description: 'Secondary' } });
      expect(readArdoqValue(node, 'description', 'feature')).toBe(
        'Today the new customer works around the missing email sign-up by hand.',
      );
    });

    it('description: customFields.description when context_description is empty', () => {
      const node = featureNode({
        description: undefined,
        customFields: { context_description: '  ', description: 'Secondary' },
      });
      expect(readArdoqValue(node, 'description', 'feature')).toBe('Secondary');
    });

    it('the feature aliases apply to features only', () => {
      const node = storyNode({ customFields: { output_definition_of_done: 'Done means shipped' } });
      expect(readArdoqValue(node, 'output', 'user_story')).toBeUndefined();
      expect(readArdoqValue(node, 'output', 'feature')).toBe('Done means shipped');
    });
  });

  describe('(c) priority → customFields.priority', () => {
    it.each([
      ['epic', epicNode(), 'High'],
      ['feature', featureNode(), 2],
      ['user_story', storyNode(), 'Medium'],
    ] as const)('at the %s level', (level, node, expected) => {
      expect(readArdoqValue(node, 'priority', level)).toBe(expected);
    });

    it('an empty top-level priority falls through to customFields', () => {
      expect(readArdoqValue(storyNode({ priority: '' }), 'priority', 'user_story')).toBe('Medium');
    });
  });

  describe('(d) lastUpdatedBy / lastUpdatedDate from _meta', () => {
    it("lastUpdatedBy is the user's name first (not the Ardoq user id)", () => {
      expect(readArdoqValue(storyNode(), 'lastUpdatedBy', 'user_story')).toBe('Dana Whitfield');
    });

    it('then lastModifiedBy', () => {
      const node = storyNode({ _meta: { lastModifiedByName: undefined } });
      expect(readArdoqValue(node, 'lastUpdatedBy', 'user_story')).toBe('6571d0c4a0b1c2d3e4f50001');
    });

    it('then lastModifiedByEmail', () => {
      const node = storyNode({ _meta: { lastModifiedByName: null, lastModifiedBy: '' } });
      expect(readArdoqValue(node, 'lastUpdatedBy', 'user_story')).toBe('dana.whitfield@example.com');
    });

    it('lastUpdatedDate is _meta.lastUpdated', () => {
      expect(readArdoqValue(epicNode(), 'lastUpdatedDate', 'epic')).toBe('2025-02-03T10:00:00.000Z');
    });

    it('a top-level lastUpdatedBy still comes first (a)', () => {
      expect(readArdoqValue(storyNode({ lastUpdatedBy: 'Sam' }), 'lastUpdatedBy', 'user_story')).toBe('Sam');
    });
  });

  describe('(e) case-insensitive top-level key', () => {
    it.each([
      ['COMPONENTKEY', 'DEM-14'],
      ['ComponentKey', 'DEM-14'],
      ['owner', 'Dana Whitfield'],
      ['OWNER', 'Dana Whitfield'],
    ])('%s', (ardoqField, expected) => {
      expect(readArdoqValue(storyNode({ Owner: 'Dana Whitfield' }), ardoqField, 'user_story')).toBe(expected);
    });

    it('the first non-empty key of several spellings', () => {
      const node = storyNode({ owner: '', OWNER: 'Sam Lee' });
      expect(readArdoqValue(node, 'Owner', 'user_story')).toBe('Sam Lee');
    });
  });

  describe('(f) aliases, in any case', () => {
    /** _meta without who/when, so the aliases are what is left. */
    const NO_META = {
      lastModifiedByName: undefined,
      lastModifiedBy: undefined,
      lastModifiedByEmail: undefined,
      lastUpdated: undefined,
    };
    it.each([
      ['description', { description: undefined, desc: 'Short text' }, 'Short text'],
      ['description', { description: undefined, DESC: 'Upper text' }, 'Upper text'],
      ['acceptanceCriteria', { acceptance: 'Given/When/Then' }, 'Given/When/Then'],
      ['acceptanceCriteria', { Criteria: 'It works' }, 'It works'],
      ['lastUpdatedBy', { _meta: NO_META, updatedBy: 'Sam Lee' }, 'Sam Lee'],
      ['lastUpdatedBy', { _meta: NO_META, ChangedBy: 'Kim Park' }, 'Kim Park'],
      ['lastUpdatedDate', { _meta: NO_META, updatedDate: '2025-04-01' }, '2025-04-01'],
      ['lastUpdatedDate', { _meta: NO_META, CHANGEDDATE: '2025-04-02' }, '2025-04-02'],
    ])('%s ← %j', (ardoqField, changes, expected) => {
      expect(readArdoqValue(epicNode(changes), ardoqField, 'epic')).toBe(expected);
    });

    it('_meta comes before the aliases (d before f)', () => {
      expect(readArdoqValue(epicNode({ changedBy: 'Kim Park' }), 'lastUpdatedBy', 'epic')).toBe(
        'Dana Whitfield',
      );
    });
  });

  describe('(g) customFields by camelCase ↔ snake_case, and the editor names', () => {
    it.each([
      ['acceptanceCriteria', 'user_story', storyNode(), expect.stringContaining('Given I am a new customer')],
      ['capabilityMapOrder', 'epic', epicNode(), 10],
      ['capability_map_order_level_0', 'feature', featureNode(), 10],
      ['context', 'epic', epicNode(), 'Let a new customer sign up. This epic covers account sign-up.'],
      [
        'contextDescription',
        'epic',
        epicNode(),
        'Let a new customer sign up. This epic covers account sign-up.',
      ],
      ['risk', 'epic', epicNode(), 2],
      ['tags', 'epic', epicNode(), ['mvp', 'q3']],
      ['lifecyclePhase', 'epic', epicNode({ customFields: { lifecycle_phase: 'Plan' } }), 'Plan'],
      ['definition_of_done', 'epic', epicNode({ customFields: { definitionOfDone: 'Shipped' } }), 'Shipped'],
      ['Purpose', 'epic', epicNode({ customFields: { purpose: 'Why' } }), 'Why'],
    ] as const)('%s at the %s level', (ardoqField, level, node, expected) => {
      expect(readArdoqValue(node, ardoqField, level)).toEqual(expected);
    });

    it('features find other custom fields the same way', () => {
      expect(readArdoqValue(featureNode(), 'outputDefinitionOfDone', 'feature')).toBe(
        'Email sign-up is live, documented and monitored.',
      );
    });
  });

  describe('the order between the steps', () => {
    it.each([
      ['a before b', featureNode({ purpose: 'Top' }), 'purpose', 'feature', 'Top'],
      [
        'b before e',
        featureNode({ Purpose: 'Capitalised top' }),
        'purpose',
        'feature',
        'Make email sign-up part of the product.',
      ],
      ['c before e', storyNode({ Priority: 4 }), 'priority', 'user_story', 'Medium'],
      ['d before e', storyNode({ LastUpdatedBy: 'Top' }), 'lastUpdatedBy', 'user_story', 'Dana Whitfield'],
      [
        'e before f',
        epicNode({ description: undefined, Desc: 'alias', DESCRIPTION: 'same name' }),
        'description',
        'epic',
        'same name',
      ],
      ['f before g', storyNode({ acceptance: 'Top alias' }), 'acceptanceCriteria', 'user_story', 'Top alias'],
    ] as const)('%s', (_, node, ardoqField, level, expected) => {
      expect(readArdoqValue(node, ardoqField, level)).toBe(expected);
    });
  });

  describe('empty and absent values', () => {
    it.each([null, undefined, '', '   ', '\n\t', []])('%j is no value', (value) => {
      const node = storyNode({ customFields: { business_value: value } });
      expect(readArdoqValue(node, 'businessValue', 'user_story')).toBeUndefined();
    });

    it('a field found nowhere is undefined', () => {
      expect(readArdoqValue(storyNode(), 'noSuchField', 'user_story')).toBeUndefined();
    });

    it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
      'never reads inherited properties (%s)',
      (ardoqField) => {
        expect(readArdoqValue(storyNode(), ardoqField, 'user_story')).toBeUndefined();
      },
    );

    it('0 and false are values', () => {
      const node = storyNode({ customFields: { effort: 0, blocked: false } });
      expect(readArdoqValue(node, 'effort', 'user_story')).toBe(0);
      expect(readArdoqValue(node, 'blocked', 'user_story')).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('feature description: the composite text of §6.6 step 3', () => {
  const notes = fieldsOf(F.notes, F.description);
  const composite = (node: Node, level: WorkItemLevel = 'feature') =>
    applyMappings(node, level, [row('description', 'Custom.Notes', level, 'text')], notes);

  it('main text, a blank line, then one line per section', () => {
    expect(composite(featureNode()).fields).toEqual({
      'Custom.Notes': [
        'Today the new customer works around the missing email sign-up by hand.',
        '',
        'Purpose: Make email sign-up part of the product.',
        'Input: Research notes and the current process map.',
        'Output (Definition of Done): Email sign-up is live, documented and monitored.',
        'Approach: Ship behind a feature flag to 5% of traffic, then widen weekly.',
      ].join('\n'),
    });
  });

  it('only the sections present', () => {
    const node = featureNode({ customFields: { purpose: null, input: '', approach: undefined } });
    expect(composite(node).fields['Custom.Notes']).toBe(
      'Today the new customer works around the missing email sign-up by hand.\n\n' +
        'Output (Definition of Done): Email sign-up is live, documented and monitored.',
    );
  });

  it('the main text alone when no section is present', () => {
    const node = featureNode({
      customFields: { purpose: null, input: null, output_definition_of_done: null, approach: null },
    });
    expect(composite(node).fields['Custom.Notes']).toBe(
      'Today the new customer works around the missing email sign-up by hand.',
    );
  });

  it.each([
    [
      'customFields.description',
      { customFields: { context_description: null, description: 'Custom text' } },
      'Custom text',
    ],
    [
      'the top-level description',
      { customFields: { context_description: null } },
      'Email sign-up for account sign-up. Delivers a usable slice on its own.',
    ],
    [
      'the top-level context',
      { description: '', context: 'Top context', customFields: { context_description: null } },
      'Top context',
    ],
  ])('main text from %s', (_, changes, main) => {
    const node = featureNode({
      ...changes,
      customFields: {
        ...changes.customFields,
        purpose: null,
        input: null,
        output_definition_of_done: null,
        approach: null,
      },
    });
    expect(composite(node).fields['Custom.Notes']).toBe(main);
  });

  it('the sections alone when there is no main text', () => {
    const node = featureNode({ description: null, customFields: { context_description: null, input: null } });
    expect(composite(node).fields['Custom.Notes']).toBe(
      'Purpose: Make email sign-up part of the product.\n' +
        'Output (Definition of Done): Email sign-up is live, documented and monitored.\n' +
        'Approach: Ship behind a feature flag to 5% of traffic, then widen weekly.',
    );
  });

  it('the sections from the other output names', () => {
    const node = featureNode({
      customFields: {
        output_definition_of_done: null,
        definitionOfDone: 'All tests green',
        purpose: null,
        input: null,
        approach: null,
      },
    });
    expect(composite(node).fields['Custom.Notes']).toContain(
      '\n\nOutput (Definition of Done): All tests green',
    );
  });

  it('nothing at all → skipped with "no value"', () => {
    const node = featureNode({
      description: null,
      customFields: {
        context_description: null,
        purpose: null,
        input: null,
        output_definition_of_done: null,
        approach: null,
      },
    });
    expect(composite(node)).toEqual({
      fields: {},
      skipped: [{ azureDevOpsField: 'Custom.Notes', ardoqField: 'description', reason: 'no value' }],
    });
  });

  it('into System.Description (html inferred): escaped, lines as <br>', () => {
    const node = featureNode({
      customFields: {
        context_description: 'A < B & "C"',
        input: null,
        approach: null,
        output_definition_of_done: null,
      },
    });
    const result = applyMappings(
      node,
      'feature',
      [row('description', 'System.Description', 'feature')],
      notes,
    );
    expect(result.fields['System.Description']).toBe(
      'A &lt; B &amp; &quot;C&quot;<br><br>Purpose: Make email sign-up part of the product.',
    );
  });

  it('epics and user stories get their plain description', () => {
    const epic = epicNode({ customFields: { purpose: 'Why' } });
    expect(composite(epic, 'epic').fields['Custom.Notes']).toBe(epic.description);
    expect(composite(storyNode(), 'user_story').fields['Custom.Notes']).toBe(storyNode().description);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('transformValue', () => {
  describe('priority', () => {
    it.each([
      [1, 1],
      [4, 4],
      [2.0, 2],
      ['3', 3],
      [' 2 ', 2],
      ['Critical', 1],
      ['CRITICAL – fix now', 1],
      ['High', 2],
      ['very high', 2],
      ['medium', 3],
      ['Med', 3],
      ['low', 4],
      ['LOW', 4],
    ])('%j → %d', (value, expected) => {
      expect(transformValue('priority', value, F.priority)).toBe(expected);
    });

    it.each(['urgent', 0, 5, 2.5, '5', '0', '1.5', true, { level: 1 }, ['high']])(
      '%j is refused, naming the field',
      (value) => {
        const error = mappingError(() => transformValue('priority', value, F.priority));
        expect(error.azureDevOpsField).toBe('Microsoft.VSTS.Common.Priority');
        expect(error.message).toMatch(
          /^Field Microsoft\.VSTS\.Common\.Priority: '.*' is not a priority: use 1–4 or critical\/high\/medium\/low$/,
        );
      },
    );

    it('the sentence of the brief', () => {
      expect(() => transformValue('priority', 'urgent', F.priority)).toThrow(
        "Field Microsoft.VSTS.Common.Priority: 'urgent' is not a priority: use 1–4 or critical/high/medium/low",
      );
    });
  });

  describe('tags', () => {
    it.each([
      ['mvp', 'mvp'],
      ['mvp; ux', 'mvp; ux'],
      ['mvp,ux;  payments ', 'mvp; ux; payments'],
      [['mvp', ' ux ', '', 'Payments'], 'mvp; ux; Payments'],
      [[{ name: 'Checkout' }, 7, 'q3'], 'Checkout; 7; q3'],
      [['a;b'], 'a,b'],
      ['MVP, mvp, Mvp, ux', 'MVP; ux'],
      [42, '42'],
    ])('%j → %j', (value, expected) => {
      expect(transformValue('tags', value, F.tags)).toBe(expected);
    });

    it.each([' ; , ', [' ', ''], [null, {}], { id: 1 }])('%j gives no tag (skip)', (value) => {
      expect(transformValue('tags', value, F.tags)).toBeUndefined();
    });
  });

  describe('date', () => {
    it.each([
      [new Date('2025-03-31T08:30:00.000Z'), '2025-03-31T08:30:00.000Z'],
      ['2025-03-31', '2025-03-31T00:00:00.000Z'],
      ['2025-03-31T14:05:00Z', '2025-03-31T14:05:00.000Z'],
      ['2025-03-31T14:05:00.123Z', '2025-03-31T14:05:00.123Z'],
      ['2025-03-31T14:05:00+02:00', '2025-03-31T12:05:00.000Z'],
      ['2025-03-31T14:05:00-0130', '2025-03-31T15:35:00.000Z'],
      ['2025-03-31T14:05', '2025-03-31T14:05:00.000Z'],
      ['2025-03-31 14:05:09', '2025-03-31T14:05:09.000Z'],
      ['2024-02-29', '2024-02-29T00:00:00.000Z'],
      [1735689600000, '2025-01-01T00:00:00.000Z'],
      [0, '1970-01-01T00:00:00.000Z'],
    ])('%j → %s', (value, expected) => {
      expect(transformValue('date', value, F.targetDate)).toBe(expected);
    });

    it('an ISO time without an offset is UTC, whatever the machine zone', () => {
      expect(transformValue('date', '2025-06-01T00:00:00', F.targetDate)).toBe('2025-06-01T00:00:00.000Z');
    });

    it.each([
      'next week',
      '31/03/2025',
      'March 31, 2025',
      '2025-02-30',
      '2025-02-29',
      '2025-13-01',
      '2025-00-10',
      '2025-03-31T25:00:00Z',
      '2025-03-31T10:61',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      9e15,
      new Date('not a date'),
      true,
      { year: 2025 },
    ])('%j is refused, naming the field', (value) => {
      const error = mappingError(() => transformValue('date', value, F.targetDate));
      expect(error.azureDevOpsField).toBe('Microsoft.VSTS.Scheduling.TargetDate');
      expect(error.message).toMatch(/^Field Microsoft\.VSTS\.Scheduling\.TargetDate: '.*' is not a date/);
    });
  });

  describe('identity', () => {
    it.each([
      ['Dana Whitfield', 'Dana Whitfield'],
      ['  dana.whitfield@example.com ', 'dana.whitfield@example.com'],
      ['Dana Whitfield <dana.whitfield@example.com>', 'Dana Whitfield <dana.whitfield@example.com>'],
      [42, '42'],
      [{ displayName: 'Dana Whitfield', uniqueName: 'dana@example.com' }, 'dana@example.com'],
      [{ name: 'Sam Lee', email: 'sam@example.com' }, 'sam@example.com'],
      [{ name: 'Sam Lee' }, 'Sam Lee'],
    ])('%j → %j', (value, expected) => {
      expect(transformValue('identity', value, F.assignedTo)).toBe(expected);
    });

    it.each([{ id: 7 }, [null], { name: '' }])('%j has no identity text: skipped', (value) => {
      expect(transformValue('identity', value, F.assignedTo)).toBeUndefined();
    });
  });

  describe('risk', () => {
    it.each([
      [1, '1 - High'],
      [2, '2 - Medium'],
      [3, '3 - Low'],
      ['1', '1 - High'],
      [' 3 ', '3 - Low'],
      ['high', '1 - High'],
      ['MEDIUM', '2 - Medium'],
      ['Low', '3 - Low'],
      ['1 - High', '1 - High'],
      ['2 - medium', '2 - Medium'],
      ['3 - LOW', '3 - Low'],
    ])('%j → %s', (value, expected) => {
      expect(transformValue('risk', value, F.risk)).toBe(expected);
    });

    it.each([0, 4, 1.5, '4', 'severe', 'very high', '1 - Critical', true, { level: 1 }])(
      '%j is refused, naming the field',
      (value) => {
        const error = mappingError(() => transformValue('risk', value, F.risk));
        expect(error.message).toMatch(/^Field Microsoft\.VSTS\.Common\.Risk: '.*' is not a risk: use 1–3/);
      },
    );

    it('a custom field listing only High/Medium/Low gets those words', () => {
      const custom = field('Custom.Risk', 'picklistString', ['High', 'Medium', 'Low']);
      expect(transformValue('risk', 1, custom)).toBe('High');
      expect(transformValue('risk', 'low', custom)).toBe('Low');
    });

    it('a field without allowed values gets the full value', () => {
      expect(transformValue('risk', 'medium', field('Custom.Risk', 'string'))).toBe('2 - Medium');
    });
  });

  describe('html', () => {
    it.each([
      ['Line 1\nLine <2> & "3"', 'Line 1<br>Line &lt;2&gt; &amp; &quot;3&quot;'],
      ['a\r\nb\rc\nd', 'a<br>b<br>c<br>d'],
      ["it's fine", "it's fine"],
      ['  padded\n', 'padded'],
      ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
      [12, '12'],
      [{ a: '<b>' }, '{&quot;a&quot;:&quot;&lt;b&gt;&quot;}'],
    ])('%j → %j', (value, expected) => {
      expect(transformValue('html', value, F.description)).toBe(expected);
    });

    it('a long text is written whole', () => {
      const text = 'x'.repeat(100_000);
      expect(transformValue('html', text, F.description)).toBe(text);
    });
  });

  describe('text', () => {
    it.each([
      ['plain', 'plain'],
      ['  trimmed  ', 'trimmed'],
      [42, '42'],
      [0, '0'],
      [false, 'false'],
      [{ owner: 'Dana', count: 2 }, '{"owner":"Dana","count":2}'],
      [['mvp', 'ux'], '["mvp","ux"]'],
      [new Date('2025-03-31T00:00:00.000Z'), '2025-03-31T00:00:00.000Z'],
    ])('%j → %j', (value, expected) => {
      expect(transformValue('text', value, F.notes)).toBe(expected);
    });
  });

  describe('number', () => {
    it.each([
      [3, F.order, 3],
      ['10', F.order, 10],
      [' -4 ', F.order, -4],
      ['1e3', F.order, 1000],
      [2.5, F.storyPoints, 2.5],
      ['0.75', F.storyPoints, 0.75],
      ['.5', F.storyPoints, 0.5],
      ['8.0', F.order, 8],
    ])('%j into %o → %d', (value, target, expected) => {
      expect(transformValue('number', value, target)).toBe(expected);
    });

    it.each(['ten', '12abc', '1,5', '0x10', Number.NaN, Number.POSITIVE_INFINITY, true, { n: 1 }, [1]])(
      '%j is not a number',
      (value) => {
        const error = mappingError(() => transformValue('number', value, F.storyPoints));
        expect(error.message).toMatch(
          /^Field Microsoft\.VSTS\.Scheduling\.StoryPoints: '.*' is not a number$/,
        );
      },
    );

    it.each([2.5, '2.5'])('%j into an integer field is not a whole number', (value) => {
      expect(() => transformValue('number', value, F.order)).toThrow(
        `Field Custom.Order: '${value}' is not a whole number`,
      );
    });

    it('a whole number beyond 32 bits does not fit an integer field', () => {
      expect(() => transformValue('number', 3e10, F.order)).toThrow(/Custom\.Order: .* out of range/);
    });

    it('picklistInteger fields are integer fields', () => {
      expect(() => transformValue('number', 1.5, field('Custom.Size', 'picklistInteger'))).toThrow(
        MappingValueError,
      );
    });
  });

  describe('empty values are skipped, whatever the transform', () => {
    const cases = TRANSFORMS.flatMap((transform) =>
      [null, undefined, '', '  ', []].map((value) => [transform, value] as const),
    );
    it.each(cases)('%s of %j → undefined', (transform, value) => {
      expect(transformValue(transform, value, field('Custom.Any'))).toBeUndefined();
    });
  });

  describe('allowed values', () => {
    const lifecycle = field('Custom.Lifecycle', 'picklistString', ['Production', 'Phase out', 'Plan']);

    it('a value among them is written', () => {
      expect(transformValue('text', 'Phase out', lifecycle)).toBe('Phase out');
    });

    it('a value not among them is refused, listing them', () => {
      expect(() => transformValue('text', 'Retired', lifecycle)).toThrow(
        "Field Custom.Lifecycle: 'Retired' is not one of 'Production', 'Phase out', 'Plan'",
      );
    });

    it('compared as strings, case included', () => {
      expect(() => transformValue('text', 'plan', lifecycle)).toThrow(MappingValueError);
      const size = field('Custom.Size', 'picklistInteger', ['1', '2', '3']);
      expect(transformValue('number', '2', size)).toBe(2);
      expect(() => transformValue('number', 5, size)).toThrow(
        "Field Custom.Size: '5' is not one of '1', '2', '3'",
      );
    });

    it('lists at most 10 of them', () => {
      const many = field(
        'Custom.Team',
        'picklistString',
        Array.from({ length: 13 }, (_, i) => `Team ${i + 1}`),
      );
      const error = mappingError(() => transformValue('text', 'Team 99', many));
      expect(error.message).toBe(
        `Field Custom.Team: 'Team 99' is not one of ${Array.from({ length: 10 }, (_, i) => `'Team ${i + 1}'`).join(', ')} and 3 more`,
      );
    });

    it('applies after the transform (the written value is checked)', () => {
      expect(transformValue('priority', 'high', F.priority)).toBe(2);
      const onlyOneAndTwo = field('Microsoft.VSTS.Common.Priority', 'integer', ['1', '2']);
      expect(() => transformValue('priority', 'low', onlyOneAndTwo)).toThrow("'4' is not one of '1', '2'");
    });

    it('an empty list restricts nothing', () => {
      expect(transformValue('text', 'Anything', field('Custom.Free', 'string', []))).toBe('Anything');
    });
  });

  describe('the 255-character limit of string fields', () => {
    it('255 characters fit', () => {
      expect(transformValue('text', 'x'.repeat(255), F.summary)).toHaveLength(255);
    });

    it('256 characters are refused, naming the field', () => {
      const error = mappingError(() => transformValue('text', 'x'.repeat(256), F.summary));
      expect(error.azureDevOpsField).toBe('Custom.Summary');
      expect(error.message).toMatch(/^Field Custom\.Summary: 'x+…' is longer than 255 characters \(256\)$/);
    });

    it('counts what is written (html escaping included)', () => {
      expect(() => transformValue('html', '&'.repeat(60), F.summary)).toThrow('longer than 255 characters');
    });

    it.each([
      ['plainText', F.notes],
      ['html', F.description],
      ['unknown', field('Custom.Whatever')],
    ])('a %s field takes more', (_, target) => {
      expect(transformValue('text', 'y'.repeat(5000), target)).toHaveLength(5000);
    });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('inferTransform', () => {
  it.each([
    [F.priority, 'priority'],
    [field('Microsoft.VSTS.Common.Priority'), 'priority'],
    [F.tags, 'tags'],
    [field('System.Tags'), 'tags'],
    [F.risk, 'risk'],
    [field('Microsoft.VSTS.Common.Risk'), 'risk'],
    [F.assignedTo, 'identity'],
    [field('System.AssignedTo'), 'identity'],
    [field('Custom.Reviewer', 'identity'), 'identity'],
    [F.description, 'html'],
    [field('System.Description'), 'html'],
    [field('Microsoft.VSTS.Common.AcceptanceCriteria'), 'html'],
    [field('Custom.ReleaseNotes', 'html'), 'html'],
    [F.targetDate, 'date'],
    [field('Custom.Kickoff', 'dateTime'), 'date'],
    [field('Custom.ReviewDate'), 'date'],
    [field('Microsoft.VSTS.Scheduling.StartDate'), 'date'],
    [field('Custom.DueDate', 'string'), 'text'],
    [F.storyPoints, 'number'],
    [F.order, 'number'],
    [field('Custom.Size', 'picklistInteger'), 'number'],
    [field('Custom.Weight', 'picklistDouble'), 'number'],
    [F.summary, 'text'],
    [F.notes, 'text'],
    [F.valueArea, 'text'],
    [field('Custom.Lifecycle', 'picklistString'), 'text'],
    [field('Custom.Blocked', 'boolean'), 'text'],
    [field('System.AreaPath', 'treePath'), 'text'],
    [field('Custom.Anything'), 'text'],
    [field('Custom.candidate'), 'text'],
  ] as const)('%o → %s', (target, expected) => {
    expect(inferTransform(target)).toBe(expected);
  });

  it('an inferred transform other than text always fits its field', () => {
    for (const target of [
      ...STORY_FIELDS.values(),
      field('Custom.Reviewer', 'identity'),
      field('Custom.X', 'picklistDouble'),
    ]) {
      const transform = inferTransform(target);
      if (transform !== 'text') expect(transformFits(transform, target), target.referenceName).toBe(true);
    }
  });
});

describe('transformFits', () => {
  it.each([
    ['priority', F.priority, true],
    ['priority', field('Microsoft.VSTS.Common.Priority', 'string'), true],
    ['priority', F.order, true],
    ['priority', field('Custom.Rank', 'picklistInteger'), true],
    ['priority', F.storyPoints, false],
    ['priority', F.summary, false],
    ['tags', F.tags, true],
    ['tags', F.notes, false],
    ['tags', F.summary, false],
    ['date', F.targetDate, true],
    ['date', F.summary, false],
    ['date', field('Custom.DueDate', 'string'), false],
    ['identity', F.assignedTo, true],
    ['identity', field('Custom.Reviewer', 'identity'), true],
    ['identity', F.summary, false],
    ['risk', F.risk, true],
    ['risk', field('Custom.Risk', 'string'), true],
    ['risk', field('Custom.Risk', 'picklistString'), true],
    ['risk', F.order, false],
    ['risk', F.notes, false],
    ['html', F.description, true],
    ['html', F.summary, true],
    ['html', F.notes, true],
    ['html', F.order, false],
    ['html', field('Custom.Lifecycle', 'picklistString'), false],
    ['text', F.summary, true],
    ['text', F.notes, true],
    ['text', F.description, true],
    ['text', field('Custom.Lifecycle', 'picklistString'), true],
    ['text', F.order, false],
    ['text', F.targetDate, false],
    ['text', F.assignedTo, false],
    ['number', F.order, true],
    ['number', F.storyPoints, true],
    ['number', field('Custom.Size', 'picklistInteger'), true],
    ['number', field('Custom.Weight', 'picklistDouble'), true],
    ['number', F.summary, false],
    ['number', F.targetDate, false],
  ] as const)('%s into %o → %s', (transform, target, expected) => {
    expect(transformFits(transform, target)).toBe(expected);
  });

  it.each(TRANSFORMS)('%s fits a field whose type is unknown', (transform) => {
    expect(transformFits(transform, field('Custom.Unknown'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('applyMappings', () => {
  const AGILE_STORY_ROWS = [
    row('description', 'System.Description'),
    row('acceptanceCriteria', 'Microsoft.VSTS.Common.AcceptanceCriteria'),
    row('priority', 'Microsoft.VSTS.Common.Priority'),
    row('risk', 'Microsoft.VSTS.Common.Risk'),
    row('componentKey', 'System.Tags'),
    row('tags', 'System.Tags'),
    row('lastUpdatedBy', 'System.AssignedTo'),
    row('lastUpdatedDate', 'Microsoft.VSTS.Scheduling.TargetDate'),
  ];

  it('maps a seed user story with inferred transforms', () => {
    expect(applyMappings(storyNode(), 'user_story', AGILE_STORY_ROWS, STORY_FIELDS)).toEqual({
      fields: {
        'System.Description': 'As a new customer, I can start email sign-up from the home screen.',
        'Microsoft.VSTS.Common.AcceptanceCriteria':
          'Given I am a new customer<br>When I use email sign-up<br>Then I can start it from the home screen',
        'Microsoft.VSTS.Common.Priority': 3,
        'Microsoft.VSTS.Common.Risk': '3 - Low',
        'System.Tags': 'DEM-14; mvp; Payments',
        'System.AssignedTo': 'Dana Whitfield',
        'Microsoft.VSTS.Scheduling.TargetDate': '2025-02-03T10:00:00.000Z',
      },
      skipped: [],
    });
  });

  it('applies only the rows of the level', () => {
    const rows = [
      row('purpose', 'Custom.Notes', 'epic'),
      row('componentKey', 'Custom.Summary', 'user_story'),
    ];
    const result = applyMappings(epicNode({ customFields: { purpose: 'Why' } }), 'epic', rows, STORY_FIELDS);
    expect(result).toEqual({ fields: { 'Custom.Notes': 'Why' }, skipped: [] });
  });

  it('is pure: the node is not changed and the same input gives the same output', () => {
    const node = deepFreeze(featureNode());
    const rows = [row('description', 'System.Description', 'feature'), row('tags', 'System.Tags', 'feature')];
    const first = applyMappings(node, 'feature', rows, STORY_FIELDS);
    expect(applyMappings(node, 'feature', rows, STORY_FIELDS)).toEqual(first);
  });

  describe('tags', () => {
    it('merges every row targeting System.Tags, de-duplicated (first spelling), joined with "; "', () => {
      const node = storyNode({
        labels: 'payments, Checkout;dem-14',
        customFields: { tags: ['MVP', 'q3', 'mvp'] },
      });
      const rows = [
        row('componentKey', 'System.Tags'),
        row('tags', 'System.Tags'),
        row('labels', 'System.Tags'),
      ];
      const result = applyMappings(node, 'user_story', rows, STORY_FIELDS);
      expect(result).toEqual({
        fields: { 'System.Tags': 'DEM-14; MVP; q3; payments; Checkout' },
        skipped: [],
      });
    });

    it('a Tags row without a value is skipped; the others still merge', () => {
      const rows = [
        row('labels', 'System.Tags'),
        row('componentKey', 'System.Tags'),
        row('tags', 'System.Tags'),
      ];
      const result = applyMappings(storyNode(), 'user_story', rows, STORY_FIELDS);
      expect(result.fields).toEqual({ 'System.Tags': 'DEM-14; mvp; Payments' });
      expect(result.skipped).toEqual([
        { azureDevOpsField: 'System.Tags', ardoqField: 'labels', reason: 'no value' },
      ]);
    });

    it('a text row into System.Tags merges by its ";" pieces', () => {
      const node = storyNode({ team: 'Checkout; Payments' });
      const rows = [row('tags', 'System.Tags'), row('team', 'System.Tags', 'user_story', 'text')];
      expect(applyMappings(node, 'user_story', rows, STORY_FIELDS).fields).toEqual({
        'System.Tags': 'mvp; Payments; Checkout',
      });
    });

    it('does not add the sync tag (the caller does)', () => {
      const result = applyMappings(storyNode(), 'user_story', [row('tags', 'System.Tags')], STORY_FIELDS);
      expect(result.fields['System.Tags']).not.toContain('ardoq-sync');
    });
  });

  describe('one field, several rows', () => {
    it('the first row that yields a value wins; later ones are skipped', () => {
      const node = epicNode({ customFields: { purpose: 'Why' } });
      const rows = [row('purpose', 'Custom.Notes', 'epic'), row('context', 'Custom.Notes', 'epic')];
      expect(applyMappings(node, 'epic', rows, STORY_FIELDS)).toEqual({
        fields: { 'Custom.Notes': 'Why' },
        skipped: [
          {
            azureDevOpsField: 'Custom.Notes',
            ardoqField: 'context',
            reason: 'already written by an earlier row',
          },
        ],
      });
    });

    it('a first row without a value leaves the field to the next one', () => {
      const rows = [row('purpose', 'Custom.Notes', 'epic'), row('context', 'Custom.Notes', 'epic')];
      expect(applyMappings(epicNode(), 'epic', rows, STORY_FIELDS)).toEqual({
        fields: { 'Custom.Notes': 'Let a new customer sign up. This epic covers account sign-up.' },
        skipped: [{ azureDevOpsField: 'Custom.Notes', ardoqField: 'purpose', reason: 'no value' }],
      });
    });

    it('a later row is not even read (its bad value does not fail the item)', () => {
      const node = storyNode({ severity: 'urgent' });
      const rows = [
        row('priority', 'Microsoft.VSTS.Common.Priority'),
        row('severity', 'Microsoft.VSTS.Common.Priority'),
      ];
      const result = applyMappings(node, 'user_story', rows, STORY_FIELDS);
      expect(result.fields).toEqual({ 'Microsoft.VSTS.Common.Priority': 3 });
      expect(result.skipped[0]?.reason).toBe('already written by an earlier row');
    });
  });

  describe('rows left out', () => {
    it.each([...FORBIDDEN_TARGETS])('%s is reserved, even when the type has it', (target) => {
      const targets = fieldsOf(...STORY_FIELDS.values(), field(target, 'string'));
      const result = applyMappings(storyNode(), 'user_story', [row('componentKey', target)], targets);
      expect(result).toEqual({
        fields: {},
        skipped: [{ azureDevOpsField: target, ardoqField: 'componentKey', reason: 'reserved' }],
      });
    });

    it('reserved names in any case', () => {
      const result = applyMappings(
        storyNode(),
        'user_story',
        [row('lastUpdatedBy', 'system.changedby')],
        STORY_FIELDS,
      );
      expect(result.skipped).toEqual([
        { azureDevOpsField: 'system.changedby', ardoqField: 'lastUpdatedBy', reason: 'reserved' },
      ]);
    });

    it('a field the work item type does not have is skipped, not an error', () => {
      const result = applyMappings(storyNode(), 'user_story', [row('risk', 'Custom.Risk')], STORY_FIELDS);
      expect(result).toEqual({
        fields: {},
        skipped: [
          {
            azureDevOpsField: 'Custom.Risk',
            ardoqField: 'risk',
            reason: 'the work item type has no field Custom.Risk',
          },
        ],
      });
    });

    it.each([null, '', '   ', []])('an empty value (%j) is skipped with "no value"', (value) => {
      const node = storyNode({ customFields: { risk: value } });
      const result = applyMappings(
        node,
        'user_story',
        [row('risk', 'Microsoft.VSTS.Common.Risk')],
        STORY_FIELDS,
      );
      expect(result).toEqual({
        fields: {},
        skipped: [{ azureDevOpsField: 'Microsoft.VSTS.Common.Risk', ardoqField: 'risk', reason: 'no value' }],
      });
    });

    it('an absent value is skipped with "no value"', () => {
      const result = applyMappings(
        storyNode(),
        'user_story',
        [row('estimate', 'Custom.Order')],
        STORY_FIELDS,
      );
      expect(result.skipped).toEqual([
        { azureDevOpsField: 'Custom.Order', ardoqField: 'estimate', reason: 'no value' },
      ]);
    });

    it('an explicit transform that does not fit the field (older data) is skipped', () => {
      const rows = [row('description', 'Custom.Order', 'user_story', 'html')];
      expect(applyMappings(storyNode(), 'user_story', rows, STORY_FIELDS).skipped).toEqual([
        {
          azureDevOpsField: 'Custom.Order',
          ardoqField: 'description',
          reason: 'the html transform cannot write a field of type integer',
        },
      ]);
    });
  });

  it('writes under the field’s own reference name when the row spells it in another case', () => {
    const result = applyMappings(
      storyNode(),
      'user_story',
      [row('description', 'system.description')],
      STORY_FIELDS,
    );
    expect(Object.keys(result.fields)).toEqual(['System.Description']);
  });

  it('an explicit transform is used instead of the inferred one', () => {
    const rows = [row('description', 'System.Description', 'user_story', 'text')];
    const node = storyNode({ description: 'a < b' });
    expect(applyMappings(node, 'user_story', rows, STORY_FIELDS).fields).toEqual({
      'System.Description': 'a < b',
    });
  });

  describe('values that cannot be written fail the item, naming the field', () => {
    it.each([
      [
        'an unknown priority',
        storyNode({ customFields: { priority: 'urgent' } }),
        row('priority', 'Microsoft.VSTS.Common.Priority'),
        'Microsoft.VSTS.Common.Priority',
      ],
      [
        'an unparsable date',
        storyNode({ _meta: { lastUpdated: 'yesterday' } }),
        row('lastUpdatedDate', 'Microsoft.VSTS.Scheduling.TargetDate'),
        'Microsoft.VSTS.Scheduling.TargetDate',
      ],
      [
        'a value outside the list',
        storyNode({ area: 'Marketing' }),
        row('area', 'Microsoft.VSTS.Common.ValueArea'),
        'Microsoft.VSTS.Common.ValueArea',
      ],
      [
        'a string over 255 characters',
        storyNode({ summary: 's'.repeat(300) }),
        row('summary', 'Custom.Summary'),
        'Custom.Summary',
      ],
      [
        'a non-number',
        storyNode({ customFields: { story_points: 'big' } }),
        row('storyPoints', 'Microsoft.VSTS.Scheduling.StoryPoints'),
        'Microsoft.VSTS.Scheduling.StoryPoints',
      ],
    ])('%s', (_, node, mapping, target) => {
      const error = mappingError(() => applyMappings(node, 'user_story', [mapping], STORY_FIELDS));
      expect(error.azureDevOpsField).toBe(target);
      expect(error.message.startsWith(`Field ${target}: `)).toBe(true);
    });
  });

  it('never writes System.Title', () => {
    const result = applyMappings(storyNode(), 'user_story', [row('name', 'System.Title')], STORY_FIELDS);
    expect(result.fields).toEqual({});
    expect(result.skipped[0]?.reason).toBe('reserved');
  });
});

describe('FORBIDDEN_TARGETS', () => {
  it('holds the read-only and Azure DevOps-set fields, plus System.Title', () => {
    expect([...FORBIDDEN_TARGETS].sort()).toEqual(
      [
        'System.Id',
        'System.Rev',
        'System.ChangedBy',
        'System.ChangedDate',
        'System.CreatedBy',
        'System.CreatedDate',
        'System.AuthorizedAs',
        'System.AuthorizedDate',
        'System.RevisedDate',
        'System.Watermark',
        'System.TeamProject',
        'System.WorkItemType',
        'System.AreaId',
        'System.IterationId',
        'System.NodeName',
        'System.Title',
      ].sort(),
    );
  });
});
