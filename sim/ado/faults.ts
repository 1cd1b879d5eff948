import { seededRandom } from '../shared/random.ts';
import type { FailNextKind, FailNextOp, SimFaults } from './types.ts';

export { seededRandom };

/** Fault decisions: rates drawn from a seeded PRNG, and one-shot faults queued by tests (which win). */

interface OneShot {
  op: FailNextOp;
  kind: FailNextKind;
  remaining: number;
  title?: string;
}

export type TransportFault = 'throttle' | 'unavailable';
export type CreateFault = FailNextKind;

const rate = (value: number | undefined) => Math.min(1, Math.max(0, value ?? 0));

export class FaultPlan {
  private readonly random: () => number;
  private readonly queue: OneShot[] = [];
  private readonly rejected = new Set<string>();
  /** resultMessages of the next project creations that are to end `failed`. */
  private readonly projectFailures: string[] = [];
  faults: SimFaults;

  constructor(faults: SimFaults = {}, seed = 1) {
    this.faults = { ...faults };
    this.random = seededRandom(seed);
  }

  failNext(op: FailNextOp, kind: FailNextKind, count = 1, title?: string): void {
    if (count > 0) this.queue.push({ op, kind, remaining: count, ...(title !== undefined && { title }) });
  }

  failProjectCreations(resultMessage: string, count = 1): void {
    for (let i = 0; i < count; i++) this.projectFailures.push(resultMessage);
  }

  /** For an accepted project creation: the resultMessage its operation is to fail with, if any. */
  projectCreation(): string | undefined {
    return this.projectFailures.shift();
  }

  rejectTitles(titles: Iterable<string>): void {
    for (const title of titles) this.rejected.add(title);
  }

  private take(match: (shot: OneShot) => boolean): FailNextKind | undefined {
    const shot = this.queue.find(match);
    if (!shot) return undefined;
    shot.remaining -= 1;
    if (shot.remaining <= 0) this.queue.splice(this.queue.indexOf(shot), 1);
    return shot.kind;
  }

  /** For every authenticated request, before it is routed. */
  transport(isCreate: boolean): TransportFault | undefined {
    // Both numbers are always drawn, so the sequence depends on the request count only.
    const throttleDraw = this.random();
    const errorDraw = this.random();
    const shot = this.take(
      (s) =>
        s.title === undefined &&
        (s.kind === 'throttle' || s.kind === 'unavailable') &&
        (s.op === 'any' || isCreate),
    );
    if (shot === 'throttle' || shot === 'unavailable') return shot;
    if (throttleDraw < rate(this.faults.throttleRate)) return 'throttle';
    if (errorDraw < rate(this.faults.errorRate)) return 'unavailable';
    return undefined;
  }

  /** For a create whose patch was read; 'drop' and 'reject' only ever apply here. */
  create(title: string): CreateFault | undefined {
    const dropDraw = this.random();
    const shot = this.take((s) =>
      s.title !== undefined ? s.title === title : s.kind === 'drop' || s.kind === 'reject',
    );
    if (shot) return shot;
    if (this.rejected.has(title)) return 'reject';
    if (dropDraw < rate(this.faults.dropRate)) return 'drop';
    return undefined;
  }
}
