/** Small statistics helpers for the benchmarks (no dependencies). */

/** The q-quantile (0..1) by linear interpolation between closest ranks; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

export const sum = (samples: readonly number[]): number => samples.reduce((a, b) => a + b, 0);

export const mean = (samples: readonly number[]): number =>
  samples.length === 0 ? Number.NaN : sum(samples) / samples.length;

/** Rounds to `digits` decimals (for printing and JSON). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const now = (): number => performance.now();
