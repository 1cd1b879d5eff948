import type { ProcessName } from './types.ts';

/** Process templates: work item types, their fields and states, as the four stock processes define them. */

export type FieldKind = 'string' | 'html' | 'integer' | 'double' | 'dateTime' | 'identity' | 'treePath';

export interface FieldDef {
  referenceName: string;
  name: string;
  kind: FieldKind;
  /** Set by the service only: writing it without bypassRules fails with TF401326 ReadOnly. */
  readOnly?: boolean;
  alwaysRequired?: boolean;
  allowedValues?: readonly (string | number)[];
  defaultValue?: string | number;
}

const f = (referenceName: string, name: string, kind: FieldKind, more: Partial<FieldDef> = {}): FieldDef => ({
  referenceName,
  name,
  kind,
  ...more,
});

/** Every field the simulator knows, by short key. */
export const FIELDS = {
  id: f('System.Id', 'ID', 'integer', { readOnly: true }),
  rev: f('System.Rev', 'Rev', 'integer', { readOnly: true }),
  type: f('System.WorkItemType', 'Work Item Type', 'string', { readOnly: true }),
  project: f('System.TeamProject', 'Team Project', 'string', { readOnly: true }),
  title: f('System.Title', 'Title', 'string', { alwaysRequired: true }),
  description: f('System.Description', 'Description', 'html'),
  tags: f('System.Tags', 'Tags', 'string'),
  state: f('System.State', 'State', 'string'),
  reason: f('System.Reason', 'Reason', 'string'),
  areaPath: f('System.AreaPath', 'Area Path', 'treePath'),
  iterationPath: f('System.IterationPath', 'Iteration Path', 'treePath'),
  assignedTo: f('System.AssignedTo', 'Assigned To', 'identity'),
  history: f('System.History', 'History', 'html'),
  createdBy: f('System.CreatedBy', 'Created By', 'identity', { readOnly: true }),
  createdDate: f('System.CreatedDate', 'Created Date', 'dateTime', { readOnly: true }),
  changedBy: f('System.ChangedBy', 'Changed By', 'identity', { readOnly: true }),
  changedDate: f('System.ChangedDate', 'Changed Date', 'dateTime', { readOnly: true }),
  commentCount: f('System.CommentCount', 'Comment Count', 'integer', { readOnly: true }),
  priority: f('Microsoft.VSTS.Common.Priority', 'Priority', 'integer', {
    allowedValues: [1, 2, 3, 4],
    defaultValue: 2,
  }),
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
  remainingWork: f('Microsoft.VSTS.Scheduling.RemainingWork', 'Remaining Work', 'double'),
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

type Row = [name: string, color: string, icon: string, states: string, extra: FieldKey[]];

// Type-specific fields beyond COMMON. Read a row as: type, colour, icon, states (first = initial), extra fields.
// AcceptanceCriteria: User Story, Product Backlog Item, Requirement, and Feature in Agile/Scrum.
// Risk: User Story/Feature/Epic in Agile, Requirement in CMMI. Basic has neither.
// biome-ignore format: one row per type reads as a table
const AGILE: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'New,Active,Resolved,Closed,Removed', ['priority', 'risk', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate']],
  ['Feature', '773B93', 'icon_trophy', 'New,Active,Resolved,Closed,Removed', ['priority', 'risk', 'acceptance', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate']],
  ['User Story', '009CCC', 'icon_book', 'New,Active,Resolved,Closed,Removed', ['priority', 'risk', 'acceptance', 'valueArea', 'storyPoints']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'New,Active,Closed,Removed', ['priority', 'activity', 'remainingWork']],
  ['Bug', 'CC293D', 'icon_insect', 'New,Active,Resolved,Closed', ['priority', 'severity', 'reproSteps', 'storyPoints', 'valueArea']],
  ['Issue', 'B4009E', 'icon_traffic_cone', 'Active,Closed', ['priority', 'dueDate']],
];
// biome-ignore format: one row per type reads as a table
const SCRUM: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'New,In Progress,Done,Removed', ['priority', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate']],
  ['Feature', '773B93', 'icon_trophy', 'New,In Progress,Done,Removed', ['priority', 'acceptance', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate']],
  ['Product Backlog Item', '009CCC', 'icon_list', 'New,Approved,Committed,Done,Removed', ['priority', 'acceptance', 'valueArea', 'businessValue', 'effort']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'To Do,In Progress,Done,Removed', ['priority', 'activity', 'remainingWork']],
  ['Bug', 'CC293D', 'icon_insect', 'New,Approved,Committed,Done,Removed', ['priority', 'severity', 'reproSteps', 'effort']],
  ['Impediment', 'B4009E', 'icon_traffic_cone', 'Open,Closed', ['priority', 'resolution']],
];
// biome-ignore format: one row per type reads as a table
const CMMI: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'Proposed,Active,Resolved,Closed,Removed', ['priority', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate']],
  ['Feature', '773B93', 'icon_trophy', 'Proposed,Active,Resolved,Closed,Removed', ['priority', 'valueArea', 'businessValue', 'timeCriticality', 'effort', 'startDate', 'targetDate']],
  ['Requirement', '009CCC', 'icon_list', 'Proposed,Active,Resolved,Closed', ['priority', 'acceptance', 'risk', 'requirementType', 'size', 'valueArea']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'Proposed,Active,Resolved,Closed', ['priority', 'activity', 'remainingWork']],
  ['Bug', 'CC293D', 'icon_insect', 'Proposed,Active,Resolved,Closed', ['priority', 'severity', 'reproSteps']],
  ['Risk', '5688E0', 'icon_airplane', 'Proposed,Active,Resolved,Closed', ['priority', 'severity', 'probability']],
  ['Issue', 'B4009E', 'icon_traffic_cone', 'Proposed,Active,Resolved,Closed', ['priority', 'dueDate']],
  ['Change Request', '4F9FF6', 'icon_list', 'Proposed,Active,Resolved,Closed', ['priority']],
];
// biome-ignore format: one row per type reads as a table
const BASIC: Row[] = [
  ['Epic', 'FF7B00', 'icon_crown', 'To Do,Doing,Done', ['priority', 'startDate', 'targetDate']],
  ['Issue', '339947', 'icon_clipboard', 'To Do,Doing,Done', ['priority', 'effort']],
  ['Task', 'F2CB1D', 'icon_clipboard', 'To Do,Doing,Done', ['priority', 'activity', 'remainingWork']],
];
/** Hidden types every process has (test management); they are listed but not part of any backlog. */
// biome-ignore format: one row per type reads as a table
const HIDDEN: Row[] = [
  ['Test Case', '004B50', 'icon_test_case', 'Design,Ready,Closed', ['priority', 'steps']],
  ['Test Plan', '004B50', 'icon_test_plan', 'Active,Inactive', ['startDate']],
  ['Test Suite', '004B50', 'icon_test_suite', 'In Planning,In Progress,Completed', []],
];

const toType = ([name, color, icon, states, extra]: Row): TypeDef => ({
  name,
  referenceName: `Microsoft.VSTS.WorkItemTypes.${name.replace(/ /g, '')}`,
  color,
  icon,
  states: states.split(','),
  fields: [...COMMON, ...extra].map((key) => FIELDS[key]),
});

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

/** Finds a field of a type by reference name or friendly name, case-insensitively (as the service does). */
export function findField(type: TypeDef, name: string): FieldDef | undefined {
  const wanted = name.toLowerCase();
  return type.fields.find((d) => d.referenceName.toLowerCase() === wanted || d.name.toLowerCase() === wanted);
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
