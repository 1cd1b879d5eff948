import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startAdoSimulator } from '#sim/ado/index.ts';
import type { AdoSimulator, SimFaults, SimStats } from '#sim/ado/types.ts';

// The ADO simulator on its own thread: Azure DevOps is a remote service, so its CPU must not come out
// of the local runtime's threads that the pipeline benchmark measures. The main thread sees an
// AdoSimulator whose `url` is the simulator's; stats are fetched and reset by message.

interface ThreadOptions {
  pat: string;
  faults: SimFaults;
}

type Request = { id: number; op: 'stats' | 'reset' | 'close' | 'cpu' };

/** The simulator running in a worker thread, with async access to its stats. */
export interface SimulatorThread {
  /** Passed to the local system as `simulatorInstance` (only `url` is used there). */
  simulator: AdoSimulator;
  stats(): Promise<SimStats>;
  resetStats(): Promise<void>;
  /**
   * CPU the simulator's thread has taken since it started, ms (its JavaScript thread, from
   * /proc/thread-self/stat, 10 ms ticks); null where /proc does not show threads.
   */
  cpuMs(): Promise<number | null>;
  close(): Promise<void>;
}

export async function startSimulatorThread(options: ThreadOptions): Promise<SimulatorThread> {
  // The worker registers tsx itself (its loader hooks are per thread) before loading this file.
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: options });
  const pending = new Map<number, (value: unknown) => void>();
  let next = 0;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { url: string }) => resolve(m.url));
  });
  worker.on('message', (m: { id: number; value: unknown }) => {
    pending.get(m.id)?.(m.value);
    pending.delete(m.id);
  });
  const ask = <T>(op: Request['op']) =>
    new Promise<T>((resolve) => {
      const id = next++;
      pending.set(id, resolve as (value: unknown) => void);
      worker.postMessage({ id, op } satisfies Request);
    });
  const unsupported = (what: string) => () => {
    throw new Error(`the benchmark's simulator thread does not support ${what}`);
  };
  const simulator = {
    url,
    get stats(): SimStats {
      throw new Error('read the stats of the simulator thread with SimulatorThread.stats()');
    },
    close: async () => undefined, // closed by SimulatorThread.close
    setFaults: unsupported('setFaults'),
    failNext: unsupported('failNext'),
    rejectTitles: unsupported('rejectTitles'),
    addProject: unsupported('addProject'),
    seedWorkItem: unsupported('seedWorkItem'),
    workItems: unsupported('workItems'),
    recycleBin: unsupported('recycleBin'),
    resetStats: unsupported('resetStats (use SimulatorThread.resetStats)'),
  } as AdoSimulator;
  return {
    simulator,
    stats: () => ask<SimStats>('stats'),
    resetStats: () => ask<void>('reset'),
    cpuMs: () => ask<number | null>('cpu'),
    close: async () => {
      await ask<void>('close');
      await worker.terminate();
    },
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { pat, faults } = workerData as ThreadOptions;
  const sim = await startAdoSimulator({ pat, faults, port: 0 });
  port.postMessage({ url: sim.url });
  port.on('message', async (request: Request) => {
    if (request.op === 'stats') port.postMessage({ id: request.id, value: { ...sim.stats } });
    else if (request.op === 'cpu') port.postMessage({ id: request.id, value: threadCpuMs() });
    else if (request.op === 'reset') {
      sim.resetStats();
      port.postMessage({ id: request.id, value: undefined });
    } else {
      await sim.close();
      port.postMessage({ id: request.id, value: undefined });
    }
  });
}

let ticksPerSecond: number | undefined;

/** This thread's CPU (utime + stime), ms; null without /proc/thread-self. */
function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command (which may hold spaces) start at state (field 3): utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}
