/**
 * The workflow's own figures (issue 16): serving an initiative's hierarchy out of a 5,000-component
 * workspace with Ardoq answering in 100 ms (against pages × 100 ms, the time following the pages
 * alone takes), the memory that request needs (and the same for 50,000 components), and the time from
 * `POST /api/azure-devops/projects` to a sync on that project that can start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSystem } from '#bin/local/local-system.ts';
import { silentLog } from '#core/ports/observability.ts';
import { type ArdoqSimulator, startArdoqSimulator } from '#sim/ardoq/index.ts';
import { median, now, round } from './stats.ts';

export interface HierarchyRun {
  components: number;
  pages: number;
  latencyMs: number;
  /** Planning components in the answer (the initiative's subtree). */
  nodes: number;
  samplesMs: number[];
  medianMs: number;
  /** pages × latency: following Ardoq's pages one after another, nothing else. */
  idealMs: number;
  ratio: number;
  /** Peak growth of this process's heap during the request (API and simulator share the process). */
  peakHeapMiB: number;
  peakRssMiB: number;
}

export interface WorkflowResult {
  hierarchy: HierarchyRun;
  large: HierarchyRun;
  project: { createAnswerMs: number; syncStartableMs: number; operationDelayMs: number };
}

const PAGE_SIZE = 100;

/** Samples memory every 5 ms while `work` runs: the peak growth over the start. */
async function peakMemory<T>(
  work: () => Promise<T>,
): Promise<{ result: T; heapMiB: number; rssMiB: number }> {
  const start = process.memoryUsage();
  let heap = start.heapUsed;
  let rss = start.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  }, 5);
  try {
    const result = await work();
    return { result, heapMiB: (heap - start.heapUsed) / 2 ** 20, rssMiB: (rss - start.rss) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** The initiative with the largest subtree in a generated workspace. */
function largestInitiative(sim: ArdoqSimulator, workspaceId: string): { id: string; nodes: number } {
  const all = sim.components(workspaceId);
  const children = new Map<string, string[]>();
  for (const c of all) if (c.parent) children.set(c.parent, [...(children.get(c.parent) ?? []), c._id]);
  const size = (id: string): number => 1 + (children.get(id) ?? []).reduce((n, k) => n + size(k), 0);
  let best = { id: '', nodes: 0 };
  for (const c of all) {
    if (c.type !== 'Initiative') continue;
    const nodes = size(c._id);
    if (nodes > best.nodes) best = { id: c._id, nodes };
  }
  return best;
}

async function timeHierarchy(
  baseUrl: string,
  sim: ArdoqSimulator,
  components: number,
  latencyMs: number,
  repeat: number,
): Promise<HierarchyRun> {
  const ws = sim.generateWorkspace({ name: `Bench ${components}`, components });
  const target = largestInitiative(sim, ws.id);
  sim.setFaults({ latencyMs });
  const url = `${baseUrl}/api/ardoq/workspaces/${ws.id}/initiatives/${target.id}/hierarchy`;
  const samples: number[] = [];
  let heapMiB = 0;
  let rssMiB = 0;
  let nodes = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = now();
    const measured = await peakMemory(async () => {
      const response = await fetch(url);
      if (response.status !== 200)
        throw new Error(`hierarchy answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { data: unknown };
    });
    samples.push(now() - t0);
    heapMiB = Math.max(heapMiB, measured.heapMiB);
    rssMiB = Math.max(rssMiB, measured.rssMiB);
    nodes = countNodes(measured.result.data);
  }
  sim.setFaults({ latencyMs: 0 });
  const pages = Math.ceil(components / PAGE_SIZE);
  const medianMs = median(samples);
  const idealMs = pages * latencyMs;
  return {
    components,
    pages,
    latencyMs,
    nodes,
    samplesMs: samples.map((s) => round(s, 1)),
    medianMs: round(medianMs, 1),
    idealMs,
    ratio: idealMs > 0 ? round(medianMs / idealMs, 3) : Number.NaN,
    peakHeapMiB: round(heapMiB, 1),
    peakRssMiB: round(rssMiB, 1),
  };
}

function countNodes(node: unknown): number {
  if (typeof node !== 'object' || node === null) return 0;
  const children = (node as { children?: unknown[] }).children ?? [];
  return 1 + children.reduce<number>((n, child) => n + countNodes(child), 0);
}

/** Runs the workflow figures on a local system of their own (PGlite in a temporary directory). */
export async function runWorkflowBench(options: {
  repeat: number;
  latencyMs?: number;
}): Promise<WorkflowResult> {
  const latencyMs = options.latencyMs ?? 100;
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-workflow-'));
  const ardoq = await startArdoqSimulator({ port: 0, pageSize: PAGE_SIZE });
  const system = await startLocalSystem({
    port: 0,
    dataDir,
    processorConcurrency: 4,
    sweepIntervalMs: 3_600_000,
    ardoqSimulatorInstance: ardoq,
    log: silentLog,
  });
  try {
    const hierarchy = await timeHierarchy(system.url, ardoq, 5_000, latencyMs, options.repeat);
    const large = await timeHierarchy(system.url, ardoq, 50_000, 0, 1);

    // POST project → a sync on it that can start (its prepare step found the project).
    const simulator = system.simulator as { setProjectCreateDelay?: (ms: number) => void } | undefined;
    const operationDelayMs = 1_500;
    simulator?.setProjectCreateDelay?.(operationDelayMs);
    const name = `Bench project ${Date.now()}`;
    const t0 = now();
    const created = await fetch(`${system.url}/api/azure-devops/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (created.status !== 202)
      throw new Error(`project create answered ${created.status}: ${await created.text()}`);
    const createAnswerMs = now() - t0;
    const started = await fetch(
      `${system.url}/api/azure-devops/projects/${encodeURIComponent(name)}/workitems`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ epics: [{ _id: `bench-${Date.now()}`, name: 'Bench epic', type: 'Epic' }] }),
      },
    );
    const syncId = ((await started.json()) as { data: { sync_history_id: string } }).data.sync_history_id;
    for (;;) {
      const sync = (await (await fetch(`${system.url}/api/sync-history/${syncId}`)).json()) as {
        data: { status: string };
      };
      if (sync.data.status !== 'pending') break;
      if (now() - t0 > 120_000) throw new Error('the sync never started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {
      hierarchy,
      large,
      project: {
        createAnswerMs: round(createAnswerMs, 0),
        syncStartableMs: round(now() - t0, 0),
        operationDelayMs,
      },
    };
  } finally {
    await system.stop();
    await ardoq.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
