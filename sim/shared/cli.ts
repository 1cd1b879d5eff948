/**
 * A numeric command-line option of a simulator (`--flag` or its environment variable): the fallback
 * when absent or empty, else a number within [min, max] (a whole one when `integer`), or an error
 * naming the flag.
 */
export function numberOption(
  flag: string,
  raw: string | undefined,
  fallback: number,
  { min = 0, max = Number.POSITIVE_INFINITY, integer = false } = {},
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const kind = integer ? 'a whole number' : 'a number';
  if (!(integer ? Number.isInteger(value) : Number.isFinite(value)) || value < min || value > max) {
    throw new Error(`--${flag} must be ${kind} between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}
