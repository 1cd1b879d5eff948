import { Worker } from 'node:worker_threads';

/** The local SQS service (fauxqs) on its own thread, like the remote service it stands for. */
export interface LocalSqsService {
  /** http://127.0.0.1:PORT, the SQS endpoint. */
  endpoint: string;
  /** CPU of the service's thread since it started, in clock ticks (null where /proc does not show it). */
  cpuTicks(): Promise<number | null>;
  close(): Promise<void>;
}

// Plain JavaScript: the worker loads only fauxqs (resolved here, where the project's modules are).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.fauxqs).then(async ({ buildApp }) => {
  const app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  parentPort.postMessage({ port: app.server.address().port });
  parentPort.on('message', async (message) => {
    if (message === 'cpu') {
      // This thread's CPU (utime + stime ticks of /proc/thread-self/stat), for the benchmarks.
      let ticks = null;
      try {
        const stat = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks = Number(fields[11]) + Number(fields[12]);
      } catch {}
      parentPort.postMessage({ cpuTicks: ticks });
      return;
    }
    await app.close();
    parentPort.postMessage({ closed: true });
  });
});`;

/**
 * Starts fauxqs on a worker thread: its request handling does not take CPU from the thread that runs
 * the API and the processor invocations (in AWS, SQS is not on the Lambda's CPU either).
 */
export async function startLocalSqsService(): Promise<LocalSqsService> {
  const worker = new Worker(WORKER, { eval: true, workerData: { fauxqs: import.meta.resolve('fauxqs') } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the SQS service thread exited (${code})`)));
    worker.once('message', (m: { port: number }) => resolve(m.port));
  });
  worker.removeAllListeners('exit');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cpuTicks: () =>
      new Promise((resolve) => {
        worker.once('message', (m: { cpuTicks?: number | null }) => resolve(m.cpuTicks ?? null));
        worker.postMessage('cpu');
      }),
    close: async () => {
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      });
      await worker.terminate();
    },
  };
}
