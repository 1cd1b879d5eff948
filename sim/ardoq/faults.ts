import type { ArdoqFaultKind, ArdoqFaults } from './types.ts';

/** Fault decisions: one-shot faults queued by tests (in order), and a throttle every n-th request. */

interface OneShot {
  kind: ArdoqFaultKind;
  remaining: number;
  pathPrefix?: string;
}

export const DEFAULT_SLOW_MS = 30_000;
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export class FaultPlan {
  private readonly queue: OneShot[] = [];
  private counted = 0;
  faults: ArdoqFaults;

  constructor(faults: ArdoqFaults = {}) {
    this.faults = { ...faults };
  }

  /** Merges; changing `throttleEvery` restarts its count. */
  set(faults: ArdoqFaults): void {
    if (faults.throttleEvery !== undefined) this.counted = 0;
    this.faults = { ...this.faults, ...faults };
  }

  failNext(kind: ArdoqFaultKind, count = 1, pathPrefix?: string): void {
    if (count > 0)
      this.queue.push({ kind, remaining: count, ...(pathPrefix !== undefined && { pathPrefix }) });
  }

  /** For every request, before anything else (a proxy, an SSO portal or the network answers first). */
  take(pathname: string): ArdoqFaultKind | undefined {
    const shot = this.queue.find((s) => s.pathPrefix === undefined || pathname.startsWith(s.pathPrefix));
    if (!shot) return undefined;
    shot.remaining -= 1;
    if (shot.remaining <= 0) this.queue.splice(this.queue.indexOf(shot), 1);
    return shot.kind;
  }

  /** For every authenticated request: true when it is the n-th since `throttleEvery` was set. */
  throttleNow(): boolean {
    const every = Math.floor(this.faults.throttleEvery ?? 0);
    if (every <= 0) return false;
    this.counted += 1;
    return this.counted % every === 0;
  }

  get latencyMs(): number {
    return Math.max(0, this.faults.latencyMs ?? 0);
  }

  get slowMs(): number {
    return Math.max(0, this.faults.slowMs ?? DEFAULT_SLOW_MS);
  }

  get retryAfterSeconds(): number {
    return Math.max(0, Math.ceil(this.faults.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
  }
}
