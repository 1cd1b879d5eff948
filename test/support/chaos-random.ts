import { seededRandom } from '#sim/ado/faults.ts';

/** A small seeded PRNG (mulberry32) with the draws a fault schedule needs. */
export class Rng {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.random();
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.random() < p;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** Uniform in [min, max), rounded to `digits` decimals. */
  between(min: number, max: number, digits = 2): number {
    const factor = 10 ** digits;
    return Math.round((min + this.random() * (max - min)) * factor) / factor;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.random() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** A new array in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

/** The seed of run `index` of a base seed: distinct, well mixed, reproducible. */
export function runSeed(baseSeed: number, index: number): number {
  return Math.floor(seededRandom((baseSeed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)() * 2 ** 32) >>> 0;
}

/** A base seed from the environment (`CHAOS_SEED`), else a fresh one. */
export function baseSeedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.CHAOS_SEED?.trim();
  if (given) {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new Error(`CHAOS_SEED must be a whole number ≥ 0: ${given}`);
    return seed >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}
