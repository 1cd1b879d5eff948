/**
 * The metamodel of the simulated workspaces: a product-planning model (Domain → Initiative → Epic → Feature →
 * User Story) plus two types outside the hierarchy, their custom fields and reference types. It is plausible,
 * not copied from a real tenant: Ardoq models are defined by each customer.
 */

export interface TypeDef {
  name: string;
  /** Depth in the model's type hierarchy (0 = top). */
  level: number;
  color: string;
  icon: string;
}

export const PLANNING_TYPES = ['Domain', 'Initiative', 'Epic', 'Feature', 'User Story'] as const;
export type PlanningType = (typeof PLANNING_TYPES)[number];

export const MODEL_TYPES: readonly TypeDef[] = [
  { name: 'Domain', level: 0, color: '#1f4e79', icon: 'fa-layer-group' },
  { name: 'Initiative', level: 1, color: '#2e75b6', icon: 'fa-flag' },
  { name: 'Epic', level: 2, color: '#7030a0', icon: 'fa-bolt' },
  { name: 'Feature', level: 3, color: '#00b050', icon: 'fa-puzzle-piece' },
  { name: 'User Story', level: 4, color: '#ffc000', icon: 'fa-user' },
  { name: 'Application', level: 0, color: '#595959', icon: 'fa-desktop' },
  { name: 'Capability', level: 0, color: '#c55a11', icon: 'fa-cubes' },
];

export const REFERENCE_TYPES = ['Depends on', 'Implements', 'Realizes', 'Supports'] as const;

export interface FieldDef {
  name: string;
  label: string;
  /** Ardoq field types: Text, TextArea, Number, List, SelectMultipleList, ... */
  type: string;
  /** Type names the field is defined on. */
  on: readonly string[];
}

const PLANNING = ['Initiative', 'Epic', 'Feature', 'User Story'];

export const MODEL_FIELDS: readonly FieldDef[] = [
  { name: 'priority', label: 'Priority', type: 'List', on: PLANNING },
  {
    name: 'capability_map_order_level_0',
    label: 'Capability map order (level 0)',
    type: 'Number',
    on: ['Domain', 'Initiative', 'Epic', 'Feature', 'Capability'],
  },
  { name: 'context_description', label: 'Context description', type: 'TextArea', on: ['Epic', 'Feature'] },
  { name: 'purpose', label: 'Purpose', type: 'TextArea', on: ['Domain', 'Initiative', 'Feature'] },
  { name: 'input', label: 'Input', type: 'TextArea', on: ['Feature'] },
  {
    name: 'output_definition_of_done',
    label: 'Output / definition of done',
    type: 'TextArea',
    on: ['Feature'],
  },
  { name: 'approach', label: 'Approach', type: 'TextArea', on: ['Feature'] },
  { name: 'acceptance_criteria', label: 'Acceptance criteria', type: 'TextArea', on: ['User Story'] },
  { name: 'risk', label: 'Risk', type: 'Number', on: ['Epic', 'Feature', 'User Story'] },
  { name: 'tags', label: 'Tags', type: 'SelectMultipleList', on: [...PLANNING, 'Application'] },
  { name: 'lifecycle_phase', label: 'Lifecycle phase', type: 'List', on: ['Application'] },
];

const FIELDS_BY_TYPE = new Map<string, string[]>();
for (const field of MODEL_FIELDS) {
  for (const type of field.on) FIELDS_BY_TYPE.set(type, [...(FIELDS_BY_TYPE.get(type) ?? []), field.name]);
}

/**
 * The custom fields of a component of `type` as Ardoq answers them: every field the model defines on the type
 * is present, null when it has no value. (Unverified against a real tenant whether unset fields come as null
 * or are left out; a client must accept both.)
 */
export function customFieldsFor(type: string, values: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const name of FIELDS_BY_TYPE.get(type) ?? []) fields[name] = null;
  for (const [name, value] of Object.entries(values)) if (value !== undefined) fields[name] = value;
  return fields;
}
