import pg from 'pg';

/** What PostgreSQL's active backends of one database were doing, sampled every `intervalMs`. */
export interface WaitSamples {
  samples: number;
  /** Mean number of active backends (running a statement) per sample. */
  averageActive: number;
  /** Share of active-backend samples by wait: 'CPU' (no wait), 'Lock:transactionid', 'IO:DataFileRead'… */
  byWait: Record<string, number>;
  /** Row (tuple) locks seen, by table: which rows the lock waits queue on. */
  tupleLocksByTable: Record<string, number>;
}

/**
 * Samples pg_stat_activity for `database` until stopped: evidence of where statements wait (row locks
 * on a hot row show up as Lock:transactionid / Lock:tuple). One extra connection, a cheap query.
 */
export async function sampleWaits(url: string, database: string, intervalMs = 100) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows: me } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  let running = true;
  let samples = 0;
  let active = 0;
  const counts = new Map<string, number>();
  const tuples = new Map<string, number>();
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ wait: string; n: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, count(*)::int AS n
         FROM pg_stat_activity
         WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()
         GROUP BY 1`,
        [database],
      );
      samples += 1;
      for (const { wait, n } of rows) {
        active += n;
        counts.set(wait, (counts.get(wait) ?? 0) + n);
      }
      const locks = await client.query<{ relname: string; n: number }>(
        `SELECT c.relname, count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'tuple' AND d.datname = $1 GROUP BY 1`,
        [database],
      );
      for (const { relname, n } of locks.rows) tuples.set(relname, (tuples.get(relname) ?? 0) + n);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    /** The sampler's own backend: its CPU is the bench's, not the workload's. */
    backendPid: me[0]?.pid,
    async stop(): Promise<WaitSamples> {
      running = false;
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
      const byWait = Object.fromEntries(
        [...counts]
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => [k, Math.round((1000 * v) / Math.max(1, active)) / 10]),
      );
      return {
        samples,
        averageActive: Math.round((100 * active) / Math.max(1, samples)) / 100,
        byWait,
        tupleLocksByTable: Object.fromEntries(tuples),
      };
    },
  };
}
