/**
 * Section 8, field mapping overhead (issue 17): the pipeline of section 1 with a mapping configuration
 * of 20 rows per level (60 rows, every transform) against the same sync without one (the project's
 * process template: 14 rows), at 40 ms and 200 ms per Azure DevOps request. The two kinds take turns on
 * one running system in ABBA order (with, without, without, with…), as this machine's timings drift by
 * ±25 % from one run to the next; the medians are compared. The simulator's thread's CPU is reported
 * apart (Azure DevOps' work, more of it with more fields), and the mapping engine is timed alone. Every
 * run's work items are then read back from the simulator, so the mapped run is shown to have written
 * what its rows say.
 */
import { type FieldMappingRow, MappingSnapshot } from '#core/domain/field-mapping.ts';
import { StoredTypes } from '#core/domain/stored-types.ts';
import type { ItemType } from '#core/domain/sync-model.ts';
import { mapNodeToWorkItem } from '#core/mapping/field-mapping.ts';
import type { ProcessName } from '#core/mapping/work-item-types.ts';
import { sqlUuid } from '#store/database.ts';
import type { StatementEvent } from './counting-db.ts';
import { cpuBound, type MachineLoad, startMachineLoad } from './machine-load.ts';
import { idealMs, TREE_DEPTH } from './pipeline.ts';
import { type Figure, figure } from './report.ts';
import { dbLabel } from './sections.ts';
import { median, round } from './stats.ts';
import {
  BENCH_PROJECT,
  BenchSecretStore,
  type BenchSystem,
  type DbKind,
  serialise,
  startBenchSystem,
} from './system.ts';
import { countNodes, uniformTree, withMappedFields } from './trees.ts';

/** The issue's bound: the ratio with the mapping at most this much (%) above the one without. */
export const MAPPING_RATIO_DIFF_TARGET_PCT = 2;
export const MAPPING_LATENCIES = [40, 200] as const;

type Level = FieldMappingRow['workItemType'];
const row = (
  workItemType: Level,
  ardoqField: string,
  azureDevOpsField: string,
  transform?: FieldMappingRow['transform'],
): FieldMappingRow => ({ ardoqField, azureDevOpsField, workItemType, ...(transform ? { transform } : {}) });

/**
 * What every level writes besides its own rows: State and Reason (the initial ones), History, the root
 * area and iteration (no transform: none fits a history or tree path field; text is inferred), the
 * owner, stack rank, risk, value area and priority.
 */
function shared(level: Level): FieldMappingRow[] {
  return [
    row(level, 'description', 'System.Description', 'html'),
    row(level, 'priority', 'Microsoft.VSTS.Common.Priority', 'priority'),
    row(level, 'risk', 'Microsoft.VSTS.Common.Risk', 'risk'),
    row(level, 'valueArea', 'Microsoft.VSTS.Common.ValueArea', 'text'),
    row(level, 'stackRank', 'Microsoft.VSTS.Common.StackRank', 'number'),
    row(level, 'owner', 'System.AssignedTo', 'identity'),
    row(level, 'state', 'System.State', 'text'),
    row(level, 'reason', 'System.Reason', 'text'),
    row(level, 'notes', 'System.History'),
    row(level, 'areaPath', 'System.AreaPath'),
    row(level, 'iterationPath', 'System.IterationPath'),
    row(level, 'tags', 'System.Tags', 'tags'),
    row(level, 'componentKey', 'System.Tags', 'tags'),
    row(level, 'category', 'System.Tags', 'tags'),
  ];
}

/** Epic and Feature: the portfolio fields (values, effort, dates). */
const portfolio = (level: Level): FieldMappingRow[] => [
  row(level, 'businessValue', 'Microsoft.VSTS.Common.BusinessValue', 'number'),
  row(level, 'timeCriticality', 'Microsoft.VSTS.Common.TimeCriticality', 'number'),
  row(level, 'effort', 'Microsoft.VSTS.Scheduling.Effort', 'number'),
  row(level, 'startDate', 'Microsoft.VSTS.Scheduling.StartDate', 'date'),
  row(level, 'targetDate', 'Microsoft.VSTS.Scheduling.TargetDate', 'date'),
];

/**
 * 20 rows per level on fields the simulator's Agile Epic, Feature and User Story have (every transform
 * appears; several Ardoq fields merge into System.Tags), reading what `withMappedFields` puts on the
 * nodes of bench/trees.ts.
 */
export const BENCH_MAPPING_ROWS: readonly FieldMappingRow[] = [
  ...shared('epic'),
  ...portfolio('epic'),
  row('epic', 'lifecyclePhase', 'System.Tags', 'tags'),
  ...shared('feature'),
  ...portfolio('feature'),
  row('feature', 'acceptanceCriteria', 'Microsoft.VSTS.Common.AcceptanceCriteria', 'html'),
  ...shared('user_story'),
  row('user_story', 'acceptanceCriteria', 'Microsoft.VSTS.Common.AcceptanceCriteria', 'html'),
  row('user_story', 'storyPoints', 'Microsoft.VSTS.Scheduling.StoryPoints', 'number'),
  row('user_story', 'lifecyclePhase', 'System.Tags', 'tags'),
  row('user_story', 'team', 'System.Tags', 'tags'),
  row('user_story', 'theme', 'System.Tags', 'tags'),
  row('user_story', 'lastUpdatedBy', 'System.Tags', 'tags'),
];

/** Reference names a level's rows write (each once). */
export function mappedTargets(level: Level): string[] {
  return [
    ...new Set(BENCH_MAPPING_ROWS.filter((r) => r.workItemType === level).map((r) => r.azureDevOpsField)),
  ];
}

export type MappingKind = 'with' | 'without';

/** What the simulator holds for one sync's work items, read back after the run. */
export interface MappingCheck {
  /** Created work items read back. */
  read: number;
  /** Of those, the ones carrying every field their level's rows write (and a tag of each source kind). */
  complete: number;
  /** Per level: items, complete ones, and the mapped fields missing most often. */
  byLevel: Record<Level, { items: number; complete: number; missing: Record<string, number> }>;
  /** One user story's mapped fields as Azure DevOps stores them (the spot check). */
  sample?: Record<string, unknown>;
}

export interface MappingSyncRun {
  kind: MappingKind;
  syncId: string;
  /** 1-based order within this latency's measured runs. */
  order: number;
  items: number;
  status: string;
  created: number;
  failed: number;
  skipped: number;
  /** POST → the terminal statement's commit (or the 1 s poll's sighting, see terminalFromStatement). */
  wallMs: number;
  /** false: the terminal statement was not seen; wallMs is then late by up to the poll's 1 s. */
  terminalFromStatement: boolean;
  peakConcurrentCreates: number;
  idealMs: number;
  ratio: number;
  /** This process (all threads) per item, as section 1's detail line. */
  processCpuMsPerItem: number;
  /** PostgreSQL server per item (local server only), else null. */
  postgresCpuMsPerItem: number | null;
  /** Process + PostgreSQL per item, as section 1's "CPU per item" figure. */
  cpuMsPerItem: number;
  /**
   * The simulator's thread per item (it checks and stores every field written, and answers with them
   * all: Azure DevOps' work, not ours), or null where /proc does not show threads.
   */
  simulatorCpuMsPerItem: number | null;
  /** cpuMsPerItem without the simulator's thread: what the runtime itself spends (null as above). */
  runtimeCpuMsPerItem: number | null;
  cpuCores: number;
  simulatorRequests: number;
  /** Database statements and SQS messages sent, per item (the same work both ways, or it shows here). */
  statementsPerItem: number;
  messagesPerItem: number;
  check: MappingCheck;
  error?: string;
}

export interface MappingKindSummary {
  runs: number;
  ratio: number;
  wallMs: number;
  cpuMsPerItem: number;
  processCpuMsPerItem: number;
  postgresCpuMsPerItem: number | null;
  simulatorCpuMsPerItem: number | null;
  runtimeCpuMsPerItem: number | null;
  /** Work items read back that carry every mapped field, over all runs of this kind. */
  complete: number;
  read: number;
  failed: number;
}

export interface MappingLatencyResult {
  latencyMs: number;
  /** Items of each warm-up sync (one per kind) before the measured ones; 0: none (--cold). */
  warmupItems: number;
  runs: MappingSyncRun[];
  with: MappingKindSummary;
  without: MappingKindSummary;
  /** (median ratio with / median ratio without − 1) × 100. */
  ratioDiffPct: number;
  /** (median wall with / median wall without − 1) × 100. */
  wallDiffPct: number;
  cpuDiffPct: number;
  /** The same for the runtime alone (without the simulator's thread); null where not measured. */
  runtimeCpuDiffPct: number | null;
  warnings: number;
  errors: number;
  logSamples: string[];
}

/**
 * The mapping engine alone, in this process: every node of the tree mapped to its work item (fields,
 * title, tags, hyperlink) as the processor does, with the snapshot and field facts two measured syncs
 * froze, repeated until each kind took ≥ 1 s of CPU. The part of the per-item CPU the mapping itself adds.
 */
export interface EngineCost {
  items: number;
  /** µs of CPU per item with the 60 rows, and with the process template's rows. */
  withUsPerItem: number;
  withoutUsPerItem: number;
  /** Rows of each snapshot, and the fields written per item on average. */
  withRows: number;
  withoutRows: number;
  withFieldsPerItem: number;
  withoutFieldsPerItem: number;
}

export interface MappingResult {
  kind: DbKind;
  shape: readonly [number, number, number];
  items: number;
  concurrency: number;
  pairs: number;
  rows: number;
  rowsPerLevel: Record<Level, number>;
  transforms: string[];
  configId: string[];
  /** Request body of one sync, bytes (with the mapping's id; without it is 50 bytes shorter). */
  bodyBytes: number;
  latencies: MappingLatencyResult[];
  engine?: EngineCost;
}

export interface MappingBenchOptions {
  kind: DbKind;
  databaseUrl?: string;
  shape: readonly [number, number, number];
  concurrency: number;
  /** Measured syncs of each kind (≥ 3), alternating. */
  pairs: number;
  latencies?: readonly number[];
  /**
   * Warm-up syncs, one of each kind, before the measured ones at each latency: the first latency's
   * of `shape` (JIT, pools), the later ones' of `laterWarmupShape` (this process's code is warm by
   * then; the new system's pools and caches are not). Absent (--cold): none.
   */
  warmup?: { laterWarmupShape: readonly [number, number, number] };
  timeoutMs?: number;
  log?: (line: string) => void;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const LEVEL_OF: Record<string, Level> = { epic: 'epic', feature: 'feature', user_story: 'user_story' };

/** The bench's mapping configuration, saved through the API as an admin would (the save checks every row). */
async function saveConfiguration(bench: BenchSystem, latencyMs: number): Promise<string> {
  const response = await fetch(`${bench.system.url}/api/field-mapping/configs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `bench section 8 ${latencyMs} ms ${Date.now().toString(36)}`,
      description: '20 rows per level, every transform (bench/mapping-section.ts)',
      projectId: BENCH_PROJECT,
      isDefault: false,
      mappings: BENCH_MAPPING_ROWS,
    }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`saving the mapping answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { data: { id: string } }).data.id;
}

/** A default configuration of the project would turn the "without" runs into mapped ones: refuse. */
async function assertNoProjectDefault(bench: BenchSystem): Promise<void> {
  const response = await fetch(
    `${bench.system.url}/api/field-mapping/configs?projectId=${encodeURIComponent(BENCH_PROJECT)}`,
  );
  const body = (await response.json()) as { data?: Array<{ name: string; isDefault: boolean }> };
  const fallback = body.data?.find((c) => c.isDefault);
  if (fallback) {
    throw new Error(
      `the database holds a default mapping configuration for ${BENCH_PROJECT} ("${fallback.name}"): syncs without a mapping would use it; use a scratch database`,
    );
  }
}

async function deleteConfiguration(bench: BenchSystem, id: string): Promise<void> {
  await fetch(`${bench.system.url}/api/field-mapping/configs/${encodeURIComponent(id)}`, {
    method: 'DELETE',
  }).catch(() => undefined);
}

/** A fresh tree (new ids and titles) with the mapped values, and its request body. */
function body(shape: readonly [number, number, number], kind: MappingKind, configId: string, tag: string) {
  const tree = withMappedFields(uniformTree(...shape, `${tag}-${Date.now().toString(36)}`), BENCH_PROJECT);
  return {
    items: countNodes(tree),
    payload: kind === 'with' ? JSON.stringify({ ...tree, fieldMappingConfigId: configId }) : serialise(tree),
  };
}

const SIM_BATCH = 200;

/**
 * Reads a sync's created work items back from the simulator (`workitemsbatch`, 200 ids a request, with
 * the fields the rows write) and counts those carrying every mapped field of their level, the sync tag
 * and the category tag (one of the merged tag sources). Runs after the measurement.
 */
async function checkWorkItems(bench: BenchSystem, syncId: string): Promise<MappingCheck> {
  const { rows } = await bench.raw.query(
    `SELECT item_type, azure_devops_id FROM sync_history_items
      WHERE sync_history_id = CAST(:id AS uuid) AND status = 'created'`,
    { id: sqlUuid(syncId) },
  );
  const levelOf = new Map<number, Level>();
  for (const r of rows) levelOf.set(Number(r.azure_devops_id), LEVEL_OF[String(r.item_type)] as Level);
  const base = bench.system.simulator?.url;
  if (!base) throw new Error('the bench system has no simulator');
  // The simulator's fixed bench PAT (bench/system.ts): every unknown reference answers it.
  const pat = await new BenchSecretStore().get('simulator');
  const auth = `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;
  const fields = [...new Set([...BENCH_MAPPING_ROWS.map((r) => r.azureDevOpsField), 'System.WorkItemType'])];
  const ids = [...levelOf.keys()];
  const batches: number[][] = [];
  for (let i = 0; i < ids.length; i += SIM_BATCH) batches.push(ids.slice(i, i + SIM_BATCH));
  const answers = await Promise.all(
    batches.map(async (batch) => {
      const response = await fetch(
        `${base}/${encodeURIComponent(BENCH_PROJECT)}/_apis/wit/workitemsbatch?api-version=7.1`,
        {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ ids: batch, fields }),
        },
      );
      if (response.status !== 200)
        throw new Error(`workitemsbatch answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { value: Array<{ id: number; fields: Record<string, unknown> }> })
        .value;
    }),
  );
  const empty = () => ({ items: 0, complete: 0, missing: {} as Record<string, number> });
  const check: MappingCheck = {
    read: 0,
    complete: 0,
    byLevel: { epic: empty(), feature: empty(), user_story: empty() },
  };
  const targets = {
    epic: mappedTargets('epic'),
    feature: mappedTargets('feature'),
    user_story: mappedTargets('user_story'),
  };
  for (const item of answers.flat()) {
    const level = levelOf.get(item.id);
    if (!level) continue;
    const stats = check.byLevel[level];
    check.read += 1;
    stats.items += 1;
    const missing = targets[level].filter((f) => item.fields[f] === undefined || item.fields[f] === '');
    const tags = String(item.fields['System.Tags'] ?? '').split('; ');
    // The category tag comes from customFields.category only: proof the tag sources merged.
    if (!tags.includes('ardoq-sync') || !tags.some((t) => ['Platform', 'Customer', 'Compliance'].includes(t)))
      missing.push('System.Tags (merged sources)');
    for (const f of missing) stats.missing[f] = (stats.missing[f] ?? 0) + 1;
    if (missing.length === 0) {
      stats.complete += 1;
      check.complete += 1;
    }
    if (level === 'user_story' && !check.sample) {
      check.sample = Object.fromEntries(
        targets.user_story.map((f) => {
          const v = item.fields[f];
          // An identity comes back as an object: its unique name is enough here.
          const shown =
            typeof v === 'object' && v !== null ? ((v as { uniqueName?: string }).uniqueName ?? v) : v;
          return [f, shown];
        }),
      );
    }
  }
  return check;
}

/** One measured sync: POST → terminal wall time, CPU, ideal from the simulator's peak concurrency. */
async function measure(
  bench: BenchSystem,
  options: MappingBenchOptions,
  latencyMs: number,
  kind: MappingKind,
  order: number,
  configId: string,
): Promise<MappingSyncRun> {
  const { items, payload } = body(options.shape, kind, configId, `map-${kind}`);
  await bench.resetSimulatorStats();
  // The terminal transition as it commits: the first counted statement returning this sync's row
  // in a terminal status (the FINALIZE statement). bench/counting-db.ts no longer classifies FINALIZE
  // as 'finalize', so `waitForTerminal` only learns of it from its 1 s poll, whose time would make
  // every wall time a whole number of poll periods.
  // The CPU window closes there too.
  const terminalSeen = new Map<string, number>();
  let syncId: string | undefined;
  let machine: MachineLoad | undefined;
  const simCpuBefore = await bench.simulatorCpuMs();
  const statements0 = bench.counting.statements;
  const messages0 = bench.sqsSends.messages;
  const load = await startMachineLoad(options.kind === 'postgres' ? options.databaseUrl : undefined);
  const stopObserving = bench.counting.observe((event: StatementEvent) => {
    const r = event.rows[0];
    if (!r || typeof r.id !== 'string' || !TERMINAL.has(String(r.status)) || !('total_items' in r)) return;
    if (terminalSeen.has(r.id)) return;
    terminalSeen.set(r.id, event.endMs);
    if (r.id === syncId) machine ??= load.stop();
  });
  const posted = await bench.postSync(payload);
  syncId = posted.syncId;
  const done = await bench.waitForTerminal(posted.syncId, options.timeoutMs ?? 600_000);
  stopObserving();
  machine ??= load.stop();
  const simCpuAfter = await bench.simulatorCpuMs();
  const statements = bench.counting.statements - statements0;
  const messages = bench.sqsSends.messages - messages0;
  const simulatorCpuMs =
    simCpuBefore === null || simCpuAfter === null ? null : Math.max(0, simCpuAfter - simCpuBefore);
  const terminalAt = terminalSeen.get(posted.syncId);
  const wallMs = (terminalAt ?? done.atMs) - posted.startMs;
  const sim = await bench.simulatorStats();
  // Let the finalizer invocation return before the next run starts.
  await new Promise((r) => setTimeout(r, 50));
  const ideal = idealMs(items, sim.peakConcurrentCreates, TREE_DEPTH, latencyMs);
  const cpu = cpuBound(machine, items, ideal);
  const check = await checkWorkItems(bench, posted.syncId);
  return {
    kind,
    syncId: posted.syncId,
    order,
    items,
    status: done.status,
    created: done.created,
    failed: done.failed,
    skipped: done.skipped,
    wallMs: round(wallMs, 1),
    terminalFromStatement: terminalAt !== undefined,
    peakConcurrentCreates: sim.peakConcurrentCreates,
    idealMs: ideal,
    ratio: round(wallMs / ideal, 4),
    processCpuMsPerItem: round(machine.processCpuMs / items, 3),
    postgresCpuMsPerItem: machine.postgresCpuMs === null ? null : round(machine.postgresCpuMs / items, 3),
    cpuMsPerItem: round(cpu.cpuMsPerItem, 3),
    simulatorCpuMsPerItem: simulatorCpuMs === null ? null : round(simulatorCpuMs / items, 3),
    runtimeCpuMsPerItem: simulatorCpuMs === null ? null : round(cpu.cpuMsPerItem - simulatorCpuMs / items, 3),
    cpuCores: round(machine.processCpuMs / wallMs, 2),
    simulatorRequests: sim.requests,
    statementsPerItem: round(statements / items, 3),
    messagesPerItem: round(messages / items, 3),
    check,
  };
}

function summarise(runs: readonly MappingSyncRun[]): MappingKindSummary {
  const pg = runs.map((r) => r.postgresCpuMsPerItem).filter((v): v is number => v !== null);
  const medianOf = (pick: (r: MappingSyncRun) => number | null): number | null => {
    const values = runs.map(pick).filter((v): v is number => v !== null);
    return values.length === runs.length && values.length > 0 ? round(median(values), 3) : null;
  };
  return {
    runs: runs.length,
    ratio: round(median(runs.map((r) => r.ratio)), 4),
    wallMs: round(median(runs.map((r) => r.wallMs)), 1),
    cpuMsPerItem: round(median(runs.map((r) => r.cpuMsPerItem)), 3),
    processCpuMsPerItem: round(median(runs.map((r) => r.processCpuMsPerItem)), 3),
    postgresCpuMsPerItem: pg.length === runs.length && pg.length > 0 ? round(median(pg), 3) : null,
    simulatorCpuMsPerItem: medianOf((r) => r.simulatorCpuMsPerItem),
    runtimeCpuMsPerItem: medianOf((r) => r.runtimeCpuMsPerItem),
    complete: runs.reduce((n, r) => n + r.check.complete, 0),
    read: runs.reduce((n, r) => n + r.check.read, 0),
    failed: runs.reduce((n, r) => n + r.failed, 0),
  };
}

/** What a measured sync froze: its mapping snapshot and the work item types its prepare step found. */
async function frozenOf(bench: BenchSystem, syncId: string) {
  const { rows } = await bench.raw.query(
    `SELECT m.snapshot, s.work_item_types FROM sync_history s
       JOIN sync_field_mappings m ON m.sync_history_id = s.id
      WHERE s.id = CAST(:id AS uuid)`,
    { id: sqlUuid(syncId) },
  );
  const row = rows[0];
  if (!row) throw new Error(`the sync ${syncId} froze no mapping`);
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    snapshot: MappingSnapshot.parse(json(row.snapshot)),
    types: StoredTypes.parse(json(row.work_item_types)),
  };
}

/** See EngineCost. */
export async function measureEngine(
  bench: BenchSystem,
  shape: readonly [number, number, number],
  withSync: string,
  withoutSync: string,
): Promise<EngineCost> {
  const tree = withMappedFields(uniformTree(...shape, 'engine'), BENCH_PROJECT);
  const nodes: Array<{ node: Record<string, unknown>; level: ItemType }> = [];
  const walk = (list: readonly Record<string, unknown>[] | undefined, depth: number) => {
    for (const node of list ?? []) {
      nodes.push({ node, level: (['epic', 'feature', 'user_story'] as const)[depth] as ItemType });
      walk(node.children as Record<string, unknown>[] | undefined, depth + 1);
    }
  };
  walk(tree.epics as unknown as Record<string, unknown>[], 0);
  const run = async (syncId: string) => {
    const { snapshot, types } = await frozenOf(bench, syncId);
    const hierarchy = {
      process: types.process as ProcessName,
      epic: types.epic.name,
      feature: types.feature.name,
      userStory: types.user_story.name,
    };
    // As a claim gives them: one field set and one facts object per type, shared by every item.
    const sets = {
      epic: new Set(types.epic.fields),
      feature: new Set(types.feature.fields),
      user_story: new Set(types.user_story.fields),
    };
    let fields = 0;
    const once = () => {
      fields = 0;
      for (const { node, level } of nodes) {
        const item = mapNodeToWorkItem({ ...node }, level, hierarchy, sets[level], {
          ardoqBaseUrl: 'https://bench.ardoq.com',
          marker: `ardoq-sync:${syncId}:${String(node._id)}`,
          mapping: { snapshot, ...(types[level].fieldTypes ? { fieldTypes: types[level].fieldTypes } : {}) },
        });
        fields += Object.keys(item.fields).length;
      }
    };
    for (let i = 0; i < 5; i++) once(); // warm-up (JIT)
    const started = process.cpuUsage();
    let rounds = 0;
    let cpuUs = 0;
    while (cpuUs < 1_000_000) {
      once();
      rounds += 1;
      const used = process.cpuUsage(started);
      cpuUs = used.user + used.system;
    }
    return { usPerItem: round(cpuUs / (rounds * nodes.length), 2), rows: snapshot.mappings.length, fields };
  };
  const withCost = await run(withSync);
  const withoutCost = await run(withoutSync);
  return {
    items: nodes.length,
    withUsPerItem: withCost.usPerItem,
    withoutUsPerItem: withoutCost.usPerItem,
    withRows: withCost.rows,
    withoutRows: withoutCost.rows,
    withFieldsPerItem: round(withCost.fields / nodes.length, 1),
    withoutFieldsPerItem: round(withoutCost.fields / nodes.length, 1),
  };
}

async function runAtLatency(
  options: MappingBenchOptions,
  latencyMs: number,
  first: boolean,
): Promise<{ result: MappingLatencyResult; configId: string; engine?: EngineCost }> {
  const log = options.log ?? (() => undefined);
  const bench = await startBenchSystem({
    kind: options.kind,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    processorConcurrency: options.concurrency,
    latencyMs,
  });
  let configId = '';
  try {
    await assertNoProjectDefault(bench);
    configId = await saveConfiguration(bench, latencyMs);
    let warmupItems = 0;
    if (options.warmup) {
      const shape = first ? options.shape : options.warmup.laterWarmupShape;
      for (const kind of ['with', 'without'] as const) {
        const warm = body(shape, kind, configId, `map-warm-${kind}`);
        warmupItems = warm.items;
        const { syncId } = await bench.postSync(warm.payload);
        const done = await bench.waitForTerminal(syncId, options.timeoutMs ?? 600_000);
        log(
          `  ${latencyMs} ms warm-up ${kind} mapping: ${done.status}, ${done.created}/${warm.items} created`,
        );
      }
    }
    const runs: MappingSyncRun[] = [];
    for (let i = 0; i < options.pairs * 2; i++) {
      // ABBA order (with, without, without, with…): neither kind always runs first after the warm-up,
      // and a drift of the machine over the runs weighs on both alike.
      const kind: MappingKind = (i % 2 === 0) === (Math.floor(i / 2) % 2 === 0) ? 'with' : 'without';
      const run = await measure(bench, options, latencyMs, kind, i + 1, configId);
      log(
        `  ${latencyMs} ms run ${run.order} ${kind.padEnd(7)} mapping: wall ${round(run.wallMs / 1000, 2)} s, ratio ${run.ratio}, CPU ${run.cpuMsPerItem} ms/item, created ${run.created}/${run.items}, failed ${run.failed}, mapped fields complete ${run.check.complete}/${run.check.read}`,
      );
      runs.push(run);
    }
    // Once, on the first system: the engine's own cost with what two of these syncs froze.
    const withSync = runs.find((r) => r.kind === 'with')?.syncId;
    const withoutSync = runs.find((r) => r.kind === 'without')?.syncId;
    const engine =
      first && withSync && withoutSync
        ? await measureEngine(bench, options.shape, withSync, withoutSync)
        : undefined;
    const withRuns = summarise(runs.filter((r) => r.kind === 'with'));
    const withoutRuns = summarise(runs.filter((r) => r.kind === 'without'));
    return {
      configId,
      ...(engine ? { engine } : {}),
      result: {
        latencyMs,
        warmupItems,
        runs,
        with: withRuns,
        without: withoutRuns,
        ratioDiffPct: round((withRuns.ratio / withoutRuns.ratio - 1) * 100, 2),
        wallDiffPct: round((withRuns.wallMs / withoutRuns.wallMs - 1) * 100, 2),
        cpuDiffPct: round((withRuns.cpuMsPerItem / withoutRuns.cpuMsPerItem - 1) * 100, 1),
        runtimeCpuDiffPct:
          withRuns.runtimeCpuMsPerItem === null || withoutRuns.runtimeCpuMsPerItem === null
            ? null
            : round((withRuns.runtimeCpuMsPerItem / withoutRuns.runtimeCpuMsPerItem - 1) * 100, 1),
        warnings: bench.tally.warnings,
        errors: bench.tally.errors,
        logSamples: bench.tally.samples,
      },
    };
  } finally {
    if (configId) await deleteConfiguration(bench, configId);
    await bench.close();
  }
}

/** Runs section 8: a system of its own per latency (the simulator's latency is fixed when it starts). */
export async function runMappingBench(options: MappingBenchOptions): Promise<MappingResult> {
  if (options.pairs < 3) throw new Error('section 8 needs at least 3 runs of each kind');
  const latencies = options.latencies ?? MAPPING_LATENCIES;
  const results: MappingLatencyResult[] = [];
  const configIds: string[] = [];
  let engine: EngineCost | undefined;
  for (const [i, latencyMs] of latencies.entries()) {
    const run = await runAtLatency(options, latencyMs, i === 0);
    results.push(run.result);
    configIds.push(run.configId);
    engine ??= run.engine;
  }
  const sample = body(options.shape, 'with', 'x'.repeat(36), 'map-size');
  const perLevel = (level: Level) => BENCH_MAPPING_ROWS.filter((r) => r.workItemType === level).length;
  return {
    kind: options.kind,
    shape: options.shape,
    items: sample.items,
    concurrency: options.concurrency,
    pairs: options.pairs,
    rows: BENCH_MAPPING_ROWS.length,
    rowsPerLevel: {
      epic: perLevel('epic'),
      feature: perLevel('feature'),
      user_story: perLevel('user_story'),
    },
    transforms: [...new Set(BENCH_MAPPING_ROWS.map((r) => r.transform ?? '(inferred)'))],
    configId: configIds,
    bodyBytes: Buffer.byteLength(sample.payload),
    latencies: results,
    ...(engine ? { engine } : {}),
  };
}

/** Section 8's figures and evidence (pure). */
export function mappingSection(result: MappingResult): { figures: Figure[]; details: string[] } {
  const [e, f, s] = result.shape;
  const figures: Figure[] = [];
  const details: string[] = [
    `mapping: ${result.rows} rows (epic ${result.rowsPerLevel.epic}, feature ${result.rowsPerLevel.feature}, user story ${result.rowsPerLevel.user_story}), transforms ${result.transforms.join(', ')}; without: the Agile template (14 rows); same tree both ways (request ${round(result.bodyBytes / 1024, 0)} KiB, Ardoq values for every row on every node)`,
  ];
  for (const l of result.latencies) {
    const w = `${result.items.toLocaleString('en-US')} items (${e}×${f}×${s}, depth ${TREE_DEPTH}), simulator ${l.latencyMs} ms/request, processorConcurrency ${result.concurrency}, ${dbLabel(result.kind)}, ${l.warmupItems > 0 ? `after a ${l.warmupItems}-item warm-up sync of each kind` : 'cold runtime'}; medians of ${l.with.runs} + ${l.without.runs} runs in ABBA order`;
    const runsOf = (kind: MappingKind, pick: (r: MappingSyncRun) => number | string) =>
      l.runs
        .filter((r) => r.kind === kind)
        .map(pick)
        .join(' / ');
    figures.push(
      figure(
        'ratio wall / ideal, with the mapping (60 rows)',
        l.with.ratio,
        '×',
        w,
        undefined,
        `runs ${runsOf('with', (r) => r.ratio)}`,
      ),
      figure(
        'ratio wall / ideal, without (process template)',
        l.without.ratio,
        '×',
        w,
        undefined,
        `runs ${runsOf('without', (r) => r.ratio)}`,
      ),
      figure(
        'ratio difference (with / without − 1)',
        l.ratioDiffPct,
        '%',
        w,
        { op: '<=', value: MAPPING_RATIO_DIFF_TARGET_PCT },
        `wall medians ${round(l.with.wallMs / 1000, 2)} s / ${round(l.without.wallMs / 1000, 2)} s`,
      ),
      figure(
        'wall time difference (with / without − 1)',
        l.wallDiffPct,
        '%',
        w,
        undefined,
        `the same items at the same latency; the ratio also moves with C, the peak concurrency each run reached: with ${runsOf('with', (r) => r.peakConcurrentCreates)}, without ${runsOf('without', (r) => r.peakConcurrentCreates)}`,
      ),
      figure(
        'CPU per item, with the mapping',
        l.with.cpuMsPerItem,
        'ms',
        w,
        undefined,
        `this process ${l.with.processCpuMsPerItem}${l.with.postgresCpuMsPerItem === null ? '' : ` + PostgreSQL ${l.with.postgresCpuMsPerItem}`}; runs ${runsOf('with', (r) => r.cpuMsPerItem)}`,
      ),
      figure(
        'CPU per item, without',
        l.without.cpuMsPerItem,
        'ms',
        w,
        undefined,
        `this process ${l.without.processCpuMsPerItem}${l.without.postgresCpuMsPerItem === null ? '' : ` + PostgreSQL ${l.without.postgresCpuMsPerItem}`}; runs ${runsOf('without', (r) => r.cpuMsPerItem)}`,
      ),
      figure('CPU per item difference', l.cpuDiffPct, '%', w),
      figure(
        'runtime CPU per item, with the mapping',
        l.with.runtimeCpuMsPerItem,
        'ms',
        w,
        undefined,
        `the figure above without the simulator's thread (${l.with.simulatorCpuMsPerItem} ms/item: Azure DevOps checks and stores every mapped field, and answers with them all); runs ${runsOf('with', (r) => r.runtimeCpuMsPerItem ?? '?')}`,
      ),
      figure(
        'runtime CPU per item, without',
        l.without.runtimeCpuMsPerItem,
        'ms',
        w,
        undefined,
        `simulator's thread ${l.without.simulatorCpuMsPerItem} ms/item; runs ${runsOf('without', (r) => r.runtimeCpuMsPerItem ?? '?')}`,
      ),
      figure('runtime CPU per item difference', l.runtimeCpuDiffPct, '%', w),
      figure(
        'work items carrying every mapped field',
        l.with.read > 0 ? (100 * l.with.complete) / l.with.read : null,
        '%',
        w,
        { op: '>=', value: 100 },
        `${l.with.complete}/${l.with.read} read back over the mapped runs; items failed ${l.with.failed}; without the mapping ${l.without.complete}/${l.without.read}`,
      ),
    );
    details.push(
      `[${l.latencyMs} ms] the runs in order (kind, wall, ideal at C, ratio, CPU ms/item process${result.kind === 'postgres' ? ' + PostgreSQL' : ''}, cores, simulator requests, outcome, mapped fields):`,
      ...l.runs.map(
        (r) =>
          `  ${r.order}. ${r.kind.padEnd(7)} ${round(r.wallMs / 1000, 2)} s, ideal ${round(r.idealMs / 1000, 2)} s at C=${r.peakConcurrentCreates}, ratio ${r.ratio}, CPU ${r.processCpuMsPerItem}${r.postgresCpuMsPerItem === null ? '' : ` + ${r.postgresCpuMsPerItem}`} ms/item (simulator's thread ${r.simulatorCpuMsPerItem ?? '?'}), ${r.cpuCores} cores, ${r.simulatorRequests} requests, ${r.statementsPerItem} statements and ${r.messagesPerItem} messages per item, ${r.status} ${r.created}/${r.items} created, ${r.failed} failed, ${r.skipped} skipped; complete ${r.check.complete}/${r.check.read}${r.terminalFromStatement ? '' : ' (terminal time from the 1 s poll)'}${r.status !== 'completed' || r.created !== r.items ? '  <-- NOT A CLEAN RUN' : ''}`,
      ),
    );
    const mapped = l.runs.find((r) => r.kind === 'with');
    if (mapped) {
      const byLevel = Object.entries(mapped.check.byLevel)
        .map(
          ([level, v]) =>
            `${level} ${v.complete}/${v.items}${Object.keys(v.missing).length ? ` (missing: ${JSON.stringify(v.missing)})` : ''}`,
        )
        .join(', ');
      details.push(
        `[${l.latencyMs} ms] read back from the simulator after run ${mapped.order}: every mapped field present ${byLevel}`,
        `[${l.latencyMs} ms] spot check, one user story as Azure DevOps stores it: ${JSON.stringify(mapped.check.sample ?? {})}`,
      );
    }
    if (l.warnings || l.errors)
      details.push(
        `[${l.latencyMs} ms] log warnings ${l.warnings}, errors ${l.errors}${l.logSamples.length ? `\n  ${l.logSamples.join('\n  ')}` : ''}`,
      );
  }
  const engine = result.engine;
  if (engine) {
    const w = `the ${engine.items.toLocaleString('en-US')} nodes of the ${e}×${f}×${s} tree mapped in this process as the processor maps them (mapNodeToWorkItem, with the snapshot and field facts a measured sync of each kind froze), ≥ 1 s of CPU each`;
    figures.push(
      figure(
        'mapping engine CPU per item, with the mapping',
        engine.withUsPerItem,
        'µs',
        w,
        undefined,
        `${engine.withRows} rows, ${engine.withFieldsPerItem} fields written per item`,
      ),
      figure(
        'mapping engine CPU per item, without',
        engine.withoutUsPerItem,
        'µs',
        w,
        undefined,
        `${engine.withoutRows} rows (the process template), ${engine.withoutFieldsPerItem} fields written per item`,
      ),
    );
  }
  return { figures, details };
}
