import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';

/** CPU the workload took on this machine, by who took it, over one measured window. */
export interface MachineLoad {
  wallMs: number;
  cores: number;
  /** This Node process, every thread (API, processors, the SQS emulator's and simulator's threads). */
  processCpuMs: number;
  /** The PostgreSQL server's processes, when it runs on this machine and /proc shows them; else null. */
  postgresCpuMs: number | null;
}

/** CPU time (ms) of one process from /proc/PID/stat: utime + stime (+ reaped children's when asked). */
function procCpuTicks(pid: number, withChildren: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start at state (field 3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (field: number) => Number(fields[field - 3]);
  return at(14) + at(15) + (withChildren ? at(16) + at(17) : 0);
}

const parentOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

let ticksPerSecond: number | undefined;
export function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticksPerSecond;
}

/**
 * CPU of the PostgreSQL server: the postmaster with its reaped children, plus its live children
 * (backends, WAL writer, checkpointer, autovacuum). Ticks are 10 ms: enough for runs of seconds.
 */
function postgresCpuMs(postmaster: number): number {
  let ticks = procCpuTicks(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === postmaster) continue;
    try {
      if (parentOf(pid) === postmaster) ticks += procCpuTicks(pid, false);
    } catch {
      // the process ended while we looked
    }
  }
  return (ticks * 1000) / clockTicks();
}

/** The postmaster's pid when the server at `url` runs on this machine (loopback and /proc shows it). */
async function findPostmaster(url: string): Promise<number | null> {
  const host = new URL(url).hostname;
  if (!/^(localhost|127(\.\d+){3}|\[::1\]|)$/.test(host)) return null;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    return backend === undefined ? null : parentOf(backend);
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts measuring the CPU this machine spends on a workload: this process (all its threads) and, for
 * a local PostgreSQL server, the server's processes but the backends in `excludeBackends` (the bench's
 * own sampling connection). `stop()` gives the totals since the start.
 */
export async function startMachineLoad(
  databaseUrl?: string,
  excludeBackends: readonly number[] = [],
): Promise<{ stop(): MachineLoad }> {
  const postmaster = databaseUrl ? await findPostmaster(databaseUrl) : null;
  const excluded = () => {
    let ticks = 0;
    for (const pid of excludeBackends) {
      try {
        ticks += procCpuTicks(pid, false);
      } catch {
        // gone
      }
    }
    return (ticks * 1000) / clockTicks();
  };
  const pg0 = postmaster === null ? null : postgresCpuMs(postmaster) - excluded();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const cpu = process.cpuUsage(cpu0);
      return {
        wallMs: performance.now() - t0,
        cores: cpus().length,
        processCpuMs: (cpu.user + cpu.system) / 1000,
        postgresCpuMs:
          postmaster === null || pg0 === null ? null : postgresCpuMs(postmaster) - excluded() - pg0,
      };
    },
  };
}

/** What the measured CPU means for a run of `items` items whose ideal is `idealMs`. */
export interface CpuBound {
  /** Runtime + PostgreSQL CPU per item (ms). */
  cpuMsPerItem: number;
  /** Share of all cores busy with the workload during the run (1 = every core all the time). */
  busy: number;
  /** Items per second this machine could reach if every core did nothing but this work. */
  capacityItemsPerSecond: number;
  /** The wall time that CPU alone needs: items × CPU per item / cores. */
  floorMs: number;
  /** max(ideal, floor) / ideal: the lowest ratio this machine allows for this work. */
  floorRatio: number;
}

export function cpuBound(load: MachineLoad, items: number, idealMs: number): CpuBound {
  const cpuMs = load.processCpuMs + (load.postgresCpuMs ?? 0);
  const cpuMsPerItem = cpuMs / Math.max(1, items);
  const floorMs = (items * cpuMsPerItem) / load.cores;
  return {
    cpuMsPerItem,
    busy: cpuMs / (load.wallMs * load.cores),
    capacityItemsPerSecond: (1000 * load.cores) / cpuMsPerItem,
    floorMs,
    floorRatio: Math.max(idealMs, floorMs) / idealMs,
  };
}
