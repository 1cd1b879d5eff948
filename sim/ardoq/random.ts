import { createHash } from 'node:crypto';
import { seededRandom } from '../shared/random.ts';

export { seededRandom };

/** Deterministic ids and draws: the same seed gives the same workspaces, ids and wire order. */

const digest = (parts: ReadonlyArray<string | number>) =>
  createHash('sha1').update(parts.join('\u0000')).digest('hex');

/** A 32-bit seed derived from several parts (e.g. the simulator's seed and a workspace name). */
export const seedOf = (...parts: Array<string | number>) => Number.parseInt(digest(parts).slice(0, 8), 16);

/**
 * An Ardoq id: a MongoDB ObjectId, 24 lower-case hex characters. Like an ObjectId it starts with the creation
 * time in seconds (8 hex), then 16 hex characters hashed from `parts` (deterministic, unique in practice).
 */
export function oid(createdMs: number, ...parts: Array<string | number>): string {
  const seconds = Math.floor(createdMs / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  return seconds + digest(parts).slice(0, 16);
}

/** An Ardoq type id as the metamodel names them ("p" and 13 digits), deterministic from `parts`. */
export const typeIdOf = (...parts: Array<string | number>) =>
  `p${(1_500_000_000_000 + (Number.parseInt(digest(parts).slice(0, 12), 16) % 200_000_000_000)).toString()}`;

/** Fisher–Yates, in place, with a seeded generator. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

export const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;
