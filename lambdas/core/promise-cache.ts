/**
 * Values loaded once and shared for a while, one cache per cold start: concurrent callers of a key
 * share one load; a failed load is not kept (the next call loads again), nor a value `keep` refuses;
 * an entry lives `ttlMs` (Infinity: until pushed out); past `max` keys the oldest goes first.
 */
export class PromiseCache<V> {
  readonly #entries = new Map<string, { value: Promise<V>; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #keep: (value: V) => boolean;

  constructor(options: { ttlMs: number; max?: number; now?: () => number; keep?: (value: V) => boolean }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.max ?? 500;
    this.#now = options.now ?? Date.now;
    this.#keep = options.keep ?? (() => true);
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const at = this.#now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > at) return hit.value;
    const value = load();
    const entry = { value, expiresAt: at + this.#ttlMs };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    const drop = () => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    };
    value.then((loaded) => {
      if (!this.#keep(loaded)) drop();
    }, drop);
    return value;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }
}
