import type { ProcessName, SimFaults } from '#sim/ado/index.ts';
import { Rng } from './chaos-random.ts';
import { tree } from './e2e.ts';

/**
 * Step boundaries of a processor invocation where a chaos run can crash it (see chaos-faults.ts):
 * - beforeCreate: the create request is about to be sent (nothing reached Azure DevOps);
 * - afterCreate: Azure DevOps created the work item, the answer was never read;
 * - afterRecord: the outcome row is committed, the children were never enqueued;
 * - beforeAck: the whole batch was handled, the messages were never deleted from the queue;
 * - afterPrepare: the sync is in_progress, its epics were never enqueued.
 */
export const CRASH_POINTS = [
  'beforeCreate',
  'afterCreate',
  'afterRecord',
  'beforeAck',
  'afterPrepare',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface ChaosSchedule {
  index: number;
  seed: number;
  /** Prefix of every Ardoq id and title of the run (unique across runs). */
  prefix: string;
  /** The simulator project of the run (one per run). */
  project: string;
  process: ProcessName;
  /** epics × features per epic × stories per feature */
  shape: [number, number, number];
  /** Every fault stops this long after the sync was posted, so the sync can finish. */
  faultWindowMs: number;
  queue: {
    /** Share of sent messages also sent a second time (0–2 s later). */
    duplicateRate: number;
    /** Share of sent messages delayed by 0–2 s (redelivery out of order). */
    delayRate: number;
    /** Share of send calls that fail (SendMessageBatch error). */
    sendFailRate: number;
  };
  /** How many crashes of each kind the run may inject (each opportunity taken with `crashChance`). */
  crashes: Record<CrashPoint, number>;
  crashChance: number;
  /** Rate-based faults of the ADO simulator (429 + Retry-After, 503, dropped answers after a create). */
  ado: SimFaults;
  /** Share of database statements that fail before being sent / after they committed. */
  db: { failBefore: number; failAfter: number };
  /** Ardoq ids whose create Azure DevOps rejects (400): permanent item failures. */
  rejects: string[];
  /** POST .../cancel this long after the start (null: no cancel). */
  cancelAtMs: number | null;
  /** Kill the whole runtime (in-memory queue included) and start a new one this long after the start. */
  restartAtMs: number | null;
}

export interface PlannedNode {
  ardoqId: string;
  parentArdoqId: string | null;
  title: string;
}

const PROCESSES: ProcessName[] = ['Agile', 'Scrum', 'CMMI', 'Basic'];

/** Draws one run's fault schedule from its seed: several faults at once, each with some probability. */
export function drawSchedule(index: number, seed: number): ChaosSchedule {
  const rng = new Rng(seed);
  const tag = seed.toString(36);
  const shape: [number, number, number] = [rng.int(2, 3), rng.int(2, 3), rng.int(2, 4)];
  const prefix = `c${index}x${tag}`;
  const nodes = planOf({ prefix, shape });
  const crashes = Object.fromEntries(
    CRASH_POINTS.map((point) => {
      if (point === 'afterPrepare') return [point, rng.chance(0.15) ? 1 : 0];
      return [point, rng.chance(0.35) ? rng.int(1, 3) : 0];
    }),
  ) as Record<CrashPoint, number>;
  let rejects: string[] = [];
  const rejectDraw = rng.next();
  if (rejectDraw < 0.04) {
    rejects = nodes.filter((n) => n.parentArdoqId === null).map((n) => n.ardoqId); // nothing can be created
  } else if (rejectDraw < 0.24) {
    rejects = rng
      .shuffle(nodes)
      .slice(0, rng.int(1, 2))
      .map((n) => n.ardoqId);
  }
  return {
    index,
    seed,
    prefix,
    project: `Chaos ${index} ${tag}`,
    process: rng.pick(PROCESSES),
    shape,
    faultWindowMs: rng.int(1_000, 4_000),
    queue: {
      duplicateRate: rng.chance(0.5) ? rng.between(0.2, 0.6) : 0,
      delayRate: rng.chance(0.5) ? rng.between(0.2, 0.6) : 0,
      sendFailRate: rng.chance(0.2) ? rng.between(0.02, 0.08) : 0,
    },
    crashes,
    crashChance: rng.between(0.15, 0.4),
    ado: {
      latencyMs: rng.int(0, 30),
      throttleRate: rng.chance(0.35) ? rng.between(0.05, 0.3) : 0,
      retryAfterSeconds: 1,
      errorRate: rng.chance(0.3) ? rng.between(0.05, 0.2) : 0,
      dropRate: rng.chance(0.35) ? rng.between(0.05, 0.3) : 0,
    },
    db: rng.chance(0.4)
      ? { failBefore: rng.between(0.02, 0.05, 3), failAfter: rng.between(0.01, 0.03, 3) }
      : { failBefore: 0, failAfter: 0 },
    rejects,
    // Cancels at random moments: before the prepare, during the overwrite-free run, with creates in flight.
    cancelAtMs: rng.chance(0.4) ? rng.int(0, 3_000) : null,
    restartAtMs: rng.chance(0.08) ? rng.int(200, 2_500) : null,
  };
}

/** The request body of a run. */
export function requestOf(schedule: Pick<ChaosSchedule, 'prefix' | 'shape'>) {
  return tree(...schedule.shape, schedule.prefix);
}

/** The nodes of a run's request, parents before children. */
export function planOf(schedule: Pick<ChaosSchedule, 'prefix' | 'shape'>): PlannedNode[] {
  const nodes: PlannedNode[] = [];
  type Node = { _id: string; name: string; children?: Node[] };
  const walk = (node: Node, parent: string | null) => {
    nodes.push({ ardoqId: node._id, parentArdoqId: parent, title: node.name });
    for (const child of node.children ?? []) walk(child, node._id);
  };
  for (const epic of requestOf(schedule).epics as Node[]) walk(epic, null);
  return nodes;
}

/** The outcome each node must end with when the sync is not cancelled: rejected → failed, below → skipped. */
export function expectedOutcomes(nodes: readonly PlannedNode[], rejects: readonly string[]) {
  const rejected = new Set(rejects);
  const outcome = new Map<string, 'created' | 'failed' | 'skipped'>();
  for (const node of nodes) {
    const parent = node.parentArdoqId === null ? 'created' : outcome.get(node.parentArdoqId);
    outcome.set(
      node.ardoqId,
      parent !== 'created' ? 'skipped' : rejected.has(node.ardoqId) ? 'failed' : 'created',
    );
  }
  return outcome;
}

/** One line naming only the faults the run draws. */
export function describeSchedule(s: ChaosSchedule): string {
  const items = s.shape[0] * (1 + s.shape[1] * (1 + s.shape[2]));
  const parts = [`${s.process} ${s.shape.join('×')} (${items} items)`, `faults for ${s.faultWindowMs} ms`];
  if (s.queue.duplicateRate) parts.push(`duplicates ${s.queue.duplicateRate}`);
  if (s.queue.delayRate) parts.push(`delays ${s.queue.delayRate}`);
  if (s.queue.sendFailRate) parts.push(`send failures ${s.queue.sendFailRate}`);
  const crashes = CRASH_POINTS.filter((p) => s.crashes[p] > 0).map((p) => `${p}×${s.crashes[p]}`);
  if (crashes.length) parts.push(`crashes ${crashes.join(' ')} (p ${s.crashChance})`);
  if (s.ado.throttleRate) parts.push(`429 ${s.ado.throttleRate}`);
  if (s.ado.errorRate) parts.push(`503 ${s.ado.errorRate}`);
  if (s.ado.dropRate) parts.push(`dropped answers ${s.ado.dropRate}`);
  if (s.ado.latencyMs) parts.push(`latency ${s.ado.latencyMs} ms`);
  if (s.db.failBefore || s.db.failAfter)
    parts.push(`db errors ${s.db.failBefore} before / ${s.db.failAfter} after`);
  if (s.rejects.length) parts.push(`rejected ${s.rejects.join(',')}`);
  if (s.cancelAtMs !== null) parts.push(`cancel at ${s.cancelAtMs} ms`);
  if (s.restartAtMs !== null) parts.push(`runtime killed at ${s.restartAtMs} ms`);
  return parts.join('; ');
}
