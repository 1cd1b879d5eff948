import type { ProcessName } from './types.ts';

/** Process templates: work item types, their fields and states, as the four stock processes define them. */

/**
 * How the simulator stores and checks a field. The service's field type (`GET _apis/wit/fields`) follows from
 * it (`fieldTypeOf` in field-wire.ts): every kind is its FieldType name, except `identity`, which the
 * service lists as `string` with `isIdentity: true`.
 */
export type FieldKind =
  | 'string'
  | 'plainText'
  | 'html'
  | 'history'
  | 'integer'
  | 'double'
  | 'dateTime'
  | 'identity'
  | 'treePath';

export interface FieldDef {
  referenceName: string;
  name: string;
  kind: FieldKind;
  /** Set by the service only: writing it without bypassRules fails with TF401326 ReadOnly. */
  readOnly?: boolean;
  /**
   * What `GET _apis/wit/fields` says of it when that differs from `readOnly`: the service lists
   * System.ChangedBy, System.WorkItemType and System.TeamProject as writable (`readOnly: false`).
   */
  listReadOnly?: boolean;
  /** Required on every type that has it (per-type requirements are set by the process rows). */
  alwaysRequired?: boolean;
  /** A rule limits the values (ALLOWEDVALUES): no picklist, the service lists such fields `isPicklist: false`. */
  allowedValues?: readonly (string | number)[];
  defaultValue?: string | number;
}

const f = (referenceName: string, name: string, kind: FieldKind, more: Partial<FieldDef> = {}): FieldDef => ({
  referenceName,
  name,
  kind,
  ...more,
});

/**
 * Every field the simulator knows, by short key. Kinds as a real organization's `GET _apis/wit/fields`
 * lists them (captured 2026): Description, Acceptance Criteria, Repro Steps, Resolution and Steps html,
 * History history, Tags plainText, Priority, Business Value and Probability integer (with allowed values
 * for Priority, still `isPicklist: false`), Stack Rank, Backlog Priority, Story Points, Effort, Size,
 * Time Criticality and the work estimates double, Start/Target/Due Date dateTime, Risk, Value Area,
 * Severity, Activity and Requirement Type string.
 */
export const FIELDS = {
  id: f('System.Id', 'ID', 'integer', { readOnly: true }),
  rev: f('System.Rev', 'Rev', 'integer', { readOnly: true }),
  type: f('System.WorkItemType', 'Work Item Type', 'string', { readOnly: true, listReadOnly: false }),
  project: f('System.TeamProject', 'Team Project', 'string', { readOnly: true, listReadOnly: false }),
  title: f('System.Title', 'Title', 'string', { alwaysRequired: true }),
  description: f('System.Description', 'Description', 'html'),
  tags: f('System.Tags', 'Tags', 'plainText'),
  state: f('System.State', 'State', 'string'),
  reason: f('System.Reason', 'Reason', 'string'),
  areaPath: f('System.AreaPath', 'Area Path', 'treePath'),
  iterationPath: f('System.IterationPath', 'Iteration Path', 'treePath'),
  assignedTo: f('System.AssignedTo', 'Assigned To', 'identity'),
  history: f('System.History', 'History', 'history'),
  createdBy: f('System.CreatedBy', 'Created By', 'identity', { readOnly: true }),
  createdDate: f('System.CreatedDate', 'Created Date', 'dateTime', { readOnly: true }),
  changedBy: f('System.ChangedBy', 'Changed By', 'identity', { readOnly: true, listReadOnly: false }),
  changedDate: f('System.ChangedDate', 'Changed Date', 'dateTime', { readOnly: true }),
  commentCount: f('System.CommentCount', 'Comment Count', 'integer', { readOnly: true }),
  priority: f('Microsoft.VSTS.Common.Priority', 'Priority', 'integer', {
    allowedValues: [1, 2, 3, 4],
    defaultValue: 2,
  }),
  stackRank: f('Microsoft.VSTS.Common.StackRank', 'Stack Rank', 'double'),
  backlogPriority: f('Microsoft.VSTS.Common.BacklogPriority', 'Backlog Priority', 'double'),
  acceptance: f('Microsoft.VSTS.Common.AcceptanceCriteria', 'Acceptance Criteria', 'html'),
  risk: f('Microsoft.VSTS.Common.Risk', 'Risk', 'string', {
    allowedValues: ['1 - High', '2 - Medium', '3 - Low'],
  }),
  valueArea: f('Microsoft.VSTS.Common.ValueArea', 'Value Area', 'string', {
    allowedValues: ['Architectural', 'Business'],
    defaultValue: 'Business',
  }),
  businessValue: f('Microsoft.VSTS.Common.BusinessValue', 'Business Value', 'integer'),
  timeCriticality: f('Microsoft.VSTS.Common.TimeCriticality', 'Time Criticality', 'double'),
  severity: f('Microsoft.VSTS.Common.Severity', 'Severity', 'string', {
    allowedValues: ['1 - Critical', '2 - High', '3 - Medium', '4 - Low'],
    defaultValue: '3 - Medium',
  }),
  activity: f('Microsoft.VSTS.Common.Activity', 'Activity', 'string'),
  effort: f('Microsoft.VSTS.Scheduling.Effort', 'Effort', 'double'),
  storyPoints: f('Microsoft.VSTS.Scheduling.StoryPoints', 'Story Points', 'double'),
  originalEstimate: f('Microsoft.VSTS.Scheduling.OriginalEstimate', 'Original Estimate', 'double'),
  remainingWork: f('Microsoft.VSTS.Scheduling.RemainingWork', 'Remaining Work', 'double'),
  completedWork: f('Microsoft.VSTS.Scheduling.CompletedWork', 'Completed Work', 'double'),
  startDate: f('Microsoft.VSTS.Scheduling.StartDate', 'Start Date', 'dateTime'),
  targetDate: f('Microsoft.VSTS.Scheduling.TargetDate', 'Target Date', 'dateTime'),
  dueDate: f('Microsoft.VSTS.Scheduling.DueDate', 'Due Date', 'dateTime'),
  reproSteps: f('Microsoft.VSTS.TCM.ReproSteps', 'Repro Steps', 'html'),
  resolution: f('Microsoft.VSTS.Common.Resolution', 'Resolution', 'html'),
  size: f('Microsoft.VSTS.Scheduling.Size', 'Size', 'double'),
  requirementType: f('Microsoft.VSTS.CMMI.RequirementType', 'Requirement Type', 'string', {
    allowedValues: ['Business Objective', 'Feature', 'Functional', 'Interface', 'Operational', 'Scenario'],
    defaultValue: 'Functional',
  }),
  probability: f('Microsoft.VSTS.CMMI.Probability', 'Probability', 'integer'),
  steps: f('Microsoft.VSTS.TCM.Steps', 'Steps', 'html'),
} satisfies Record<string, FieldDef>;

type FieldKey = keyof typeof FIELDS;

/** Fields on every type of every process. */
// biome-ignore format: a list of names
const COMMON: readonly FieldKey[] = [
  'id', 'rev', 'type', 'project', 'title', 'description', 'tags', 'state', 'reason', 'areaPath',
  'iterationPath', 'assignedTo', 'history', 'createdBy', 'createdDate', 'changedBy', 'changedDate', 'commentCount',
];

export interface TypeDef {
  name: string;
  referenceName: string;
  color: string;
  icon: string;
  /** The first state is the only one a new work item may take. */
  states: readonly string[];
  fields: readonly FieldDef[];
}

/** A type's extra field; `!` marks it required on that type (Basic's Epic requires Priority). */
type Extra = FieldKey | `${FieldKey}!`;
type Row = [name: string, color: string, icon: string, states: string, extra: Extra[]];

// Type-specific fields beyond COMMON. Read a row as: type, colour, icon, states (first = initial), extra fields.
// AcceptanceCriteria: User Story, Product Backlog Item, Requirement, and Feature in Agile/Scrum. CMMI's
// stock Requirement may have none (its field reference lists Impact Assessment instead; unverified live):
// kept because the tracker contract (test/support/tracker-contract.ts) relies on it.
// Risk: Epic, Feature and User Story in Agile; Epic, Feature and Requirement in CMMI. Basic has neither.
// Ordering field: Stack Rank in Agile, CMMI and Basic, Backlog Priority in Scrum.
// Basic follows a 2026 capture of the service's Basic process (`work/processes/{id}/workItemTypes/{ref}/
// fields`): Epic Priority (required, default 2), Stack Rank, Start/Target Date; Issue Priority, Stack Rank,
// Effort; Task Priority, Stack Rank, Activity, Remaining and Completed Work; its colours and icons too.
// biome-ignore format: one row per type reads as a table
const AGILE: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'New,Active,Resolved,Closed,Removed', ['priority', 'risk', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate', 'stackRank']],
  ['Feature', '773B93', 'icon_trophy', 'New,Active,Resolved,Closed,Removed', ['priority', 'risk', 'acceptance', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate', 'stackRank']],
  ['User Story', '009CCC', 'icon_book', 'New,Active,Resolved,Closed,Removed', ['priority', 'risk', 'acceptance', 'valueArea', 'storyPoints', 'stackRank']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'New,Active,Closed,Removed', ['priority', 'activity', 'originalEstimate', 'remainingWork', 'completedWork', 'stackRank']],
  ['Bug', 'CC293D', 'icon_insect', 'New,Active,Resolved,Closed', ['priority', 'severity', 'reproSteps', 'storyPoints', 'valueArea', 'stackRank']],
  ['Issue', 'B4009E', 'icon_traffic_cone', 'Active,Closed', ['priority', 'dueDate', 'stackRank']],
];
// biome-ignore format: one row per type reads as a table
const SCRUM: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'New,In Progress,Done,Removed', ['priority', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate', 'backlogPriority']],
  ['Feature', '773B93', 'icon_trophy', 'New,In Progress,Done,Removed', ['priority', 'acceptance', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate', 'backlogPriority']],
  ['Product Backlog Item', '009CCC', 'icon_list', 'New,Approved,Committed,Done,Removed', ['priority', 'acceptance', 'valueArea', 'businessValue', 'effort', 'backlogPriority']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'To Do,In Progress,Done,Removed', ['priority', 'activity', 'remainingWork', 'backlogPriority']],
  ['Bug', 'CC293D', 'icon_insect', 'New,Approved,Committed,Done,Removed', ['priority', 'severity', 'reproSteps', 'effort', 'backlogPriority']],
  ['Impediment', 'B4009E', 'icon_traffic_cone', 'Open,Closed', ['priority', 'resolution']],
];
// biome-ignore format: one row per type reads as a table
const CMMI: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'Proposed,Active,Resolved,Closed,Removed', ['priority', 'risk', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate', 'stackRank']],
  ['Feature', '773B93', 'icon_trophy', 'Proposed,Active,Resolved,Closed,Removed', ['priority', 'risk', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate', 'stackRank']],
  ['Requirement', '009CCC', 'icon_list', 'Proposed,Active,Resolved,Closed', ['priority', 'acceptance', 'risk', 'requirementType', 'size', 'valueArea', 'stackRank']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'Proposed,Active,Resolved,Closed', ['priority', 'activity', 'originalEstimate', 'remainingWork', 'completedWork', 'stackRank']],
  ['Bug', 'CC293D', 'icon_insect', 'Proposed,Active,Resolved,Closed', ['priority', 'severity', 'reproSteps', 'stackRank']],
  ['Risk', '5688E0', 'icon_airplane', 'Proposed,Active,Resolved,Closed', ['priority', 'severity', 'probability']],
  ['Issue', 'B4009E', 'icon_traffic_cone', 'Proposed,Active,Resolved,Closed', ['priority', 'dueDate']],
  ['Change Request', '4F9FF6', 'icon_list', 'Proposed,Active,Resolved,Closed', ['priority']],
];
// biome-ignore format: one row per type reads as a table
const BASIC: Row[] = [
  ['Epic', 'E06C00', 'icon_crown', 'To Do,Doing,Done', ['priority!', 'stackRank', 'startDate', 'targetDate']],
  ['Issue', '339947', 'icon_clipboard_issue', 'To Do,Doing,Done', ['priority', 'stackRank', 'effort']],
  ['Task', 'A4880A', 'icon_check_box', 'To Do,Doing,Done', ['priority', 'stackRank', 'activity', 'remainingWork', 'completedWork']],
];
/** Hidden types every process has (test management); they are listed but not part of any backlog. */
// biome-ignore format: one row per type reads as a table
const HIDDEN: Row[] = [
  ['Test Case', '004B50', 'icon_test_case', 'Design,Ready,Closed', ['priority', 'steps']],
  ['Test Plan', '004B50', 'icon_test_plan', 'Active,Inactive', ['startDate']],
  ['Test Suite', '004B50', 'icon_test_suite', 'In Planning,In Progress,Completed', []],
];

/**
 * A type's own view of a field: State is required with the initial state as default (as the service lists
 * it), a `!` extra is required. Other fields are the shared FIELDS objects.
 */
function instance(extra: Extra, initialState: string): FieldDef {
  const required = extra.endsWith('!');
  const field = FIELDS[(required ? extra.slice(0, -1) : extra) as FieldKey];
  if (field === FIELDS.state) return { ...field, alwaysRequired: true, defaultValue: initialState };
  return required ? { ...field, alwaysRequired: true } : field;
}

const toType = ([name, color, icon, states, extra]: Row): TypeDef => {
  const stateNames = states.split(',');
  return {
    name,
    referenceName: `Microsoft.VSTS.WorkItemTypes.${name.replace(/ /g, '')}`,
    color,
    icon,
    states: stateNames,
    fields: [...COMMON, ...extra].map((key) => instance(key, stateNames[0] ?? 'New')),
  };
};

export const PROCESSES: Record<ProcessName, readonly TypeDef[]> = {
  Agile: [...AGILE, ...HIDDEN].map(toType),
  Scrum: [...SCRUM, ...HIDDEN].map(toType),
  CMMI: [...CMMI, ...HIDDEN].map(toType),
  Basic: [...BASIC, ...HIDDEN].map(toType),
};

export const PROCESS_NAMES: readonly ProcessName[] = ['Agile', 'Scrum', 'CMMI', 'Basic'];

export function findType(process: ProcessName, name: string): TypeDef | undefined {
  const wanted = name.toLowerCase();
  return PROCESSES[process].find((t) => t.name.toLowerCase() === wanted);
}

/** A type by its reference name (`Microsoft.VSTS.WorkItemTypes.UserStory`), case-insensitively. */
export function findTypeByReference(process: ProcessName, referenceName: string): TypeDef | undefined {
  const wanted = referenceName.toLowerCase();
  return PROCESSES[process].find((t) => t.referenceName.toLowerCase() === wanted);
}

/**
 * Orders names as the service lists them (English, ignoring case and accents). One collator for all:
 * `localeCompare` with a locale builds one per comparison, tens of µs each.
 */
export const compareNames: (a: string, b: string) => number = new Intl.Collator('en', {
  sensitivity: 'base',
}).compare;
const byName = (a: FieldDef, b: FieldDef) => compareNames(a.name, b.name);
const sharedField = (field: FieldDef): FieldDef =>
  Object.values(FIELDS).find((d) => d.referenceName === field.referenceName) ?? field;

/**
 * The fields the given processes' types use, once each, as the organization defines them (a type's own
 * requirement or default is not part of the definition), ordered by name as the service lists them.
 */
export function fieldsOf(processes: readonly ProcessName[]): FieldDef[] {
  const seen = new Map<string, FieldDef>();
  for (const process of processes)
    for (const type of PROCESSES[process])
      for (const field of type.fields)
        if (!seen.has(field.referenceName)) seen.set(field.referenceName, sharedField(field));
  return [...seen.values()].sort(byName);
}

const fieldIndex = new WeakMap<TypeDef, Map<string, FieldDef>>();

/** Finds a field of a type by reference name or friendly name, case-insensitively (as the service does). */
export function findField(type: TypeDef, name: string): FieldDef | undefined {
  let index = fieldIndex.get(type);
  if (!index) {
    // The first field, in the type's order, whose reference name or name it is (as a search would find).
    index = new Map();
    for (const field of type.fields)
      for (const key of [field.referenceName.toLowerCase(), field.name.toLowerCase()])
        if (!index.has(key)) index.set(key, field);
    fieldIndex.set(type, index);
  }
  return index.get(name.toLowerCase());
}

/** Any known field, whatever the type (WIQL checks field names against the organization's fields). */
export function knownField(name: string): FieldDef | undefined {
  const wanted = name.toLowerCase();
  return Object.values(FIELDS).find(
    (d) => d.referenceName.toLowerCase() === wanted || d.name.toLowerCase() === wanted,
  );
}

/** Type id of "no parent": the parentProcessTypeId of the system processes. */
export const NO_PARENT_PROCESS = '00000000-0000-0000-0000-000000000000';

export interface SystemProcessDef {
  name: ProcessName;
  typeId: string;
  description: string;
  isDefault: boolean;
}

/**
 * The four system processes with the service's type ids and descriptions, in the order an organization's
 * `GET /_apis/work/processes` was seen to list them (CMMI, Scrum, Basic, Agile).
 */
export const SYSTEM_PROCESSES: readonly SystemProcessDef[] = [
  {
    name: 'CMMI',
    typeId: '27450541-8e31-4150-9947-dc59f998fc01',
    description:
      'This template is for more formal projects requiring a framework for process improvement and an auditable record of decisions.',
    isDefault: false,
  },
  {
    name: 'Scrum',
    typeId: '6b724908-ef14-45cf-84f8-768b5384da45',
    description: 'This template is for teams who follow the Scrum framework.',
    isDefault: false,
  },
  {
    name: 'Basic',
    typeId: 'b8a3a935-7e91-48b8-a94c-606d37c3e9f2',
    description:
      'This template is flexible for any process and great for teams getting started with Azure DevOps.',
    isDefault: false,
  },
  {
    name: 'Agile',
    typeId: 'adcc42ab-9882-485e-a3ed-7678f01f66bc',
    description:
      'This template is flexible and will work great for most teams using Agile planning methods, including those practicing Scrum.',
    isDefault: true,
  },
];
