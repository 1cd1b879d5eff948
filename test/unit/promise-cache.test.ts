import { describe, expect, it } from 'vitest';
import { CatalogCache } from '#core/mapping/catalog.ts';
import { ConnectionCache } from '#core/pipeline/connection.ts';
import { MappingCache } from '#core/pipeline/mapping-cache.ts';
import { PromiseCache } from '#core/promise-cache.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PromiseCache', () => {
  it('loads a key once for concurrent and later callers, until its lifetime ends', async () => {
    let now = 1_000;
    const cache = new PromiseCache<string>({ ttlMs: 100, now: () => now });
    let loads = 0;
    const load = async () => `v${++loads}`;

    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect([a, b, loads]).toEqual(['v1', 'v1', 1]);
    now += 99;
    expect(await cache.get('k', load)).toBe('v1');
    now += 1;
    expect(await cache.get('k', load)).toBe('v2');
    expect(await cache.get('other', load)).toBe('v3');
  });

  it('keeps no failed load: the next call loads again', async () => {
    const cache = new PromiseCache<string>({ ttlMs: 60_000 });
    let calls = 0;
    const load = async () => {
      calls++;
      if (calls === 1) throw new Error('upstream down');
      return 'fine';
    };
    await expect(cache.get('k', load)).rejects.toThrow('upstream down');
    await settle();
    expect(await cache.get('k', load)).toBe('fine');
    expect(calls).toBe(2);
  });

  it('keeps no value `keep` refuses, and forgets a key on demand', async () => {
    const cache = new PromiseCache<string | null>({
      ttlMs: Number.POSITIVE_INFINITY,
      keep: (v) => v !== null,
    });
    let value: string | null = null;
    let loads = 0;
    const load = async () => {
      loads++;
      return value;
    };
    expect(await cache.get('k', load)).toBeNull();
    await settle();
    value = 'frozen';
    expect(await cache.get('k', load)).toBe('frozen');
    await settle();
    expect(await cache.get('k', load)).toBe('frozen');
    expect(loads).toBe(2);
    cache.forget('k');
    expect(await cache.get('k', load)).toBe('frozen');
    expect(loads).toBe(3);
  });

  it('holds at most `max` keys, the oldest pushed out first', async () => {
    const cache = new PromiseCache<number>({ ttlMs: 60_000, max: 2 });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('a', load);
    await cache.get('b', load);
    await cache.get('c', load); // pushes a out
    expect(await cache.get('b', load)).toBe(2);
    expect(await cache.get('c', load)).toBe(3);
    expect(await cache.get('a', load)).toBe(4);
    expect(loads).toBe(4);
  });
});

describe('the caches built on it', () => {
  it('CatalogCache keeps a project’s catalog five minutes', async () => {
    let now = 0;
    const cache = new CatalogCache(undefined, () => now);
    let loads = 0;
    const load = async () => {
      loads++;
      return null;
    };
    await cache.get('cfg:agile project', load);
    now += 5 * 60_000 - 1;
    await cache.get('cfg:agile project', load);
    expect(loads).toBe(1);
    now += 1;
    await cache.get('cfg:agile project', load);
    expect(loads).toBe(2);
  });

  it('MappingCache reads a frozen snapshot once, and a sync not yet prepared again', async () => {
    const cache = new MappingCache();
    const snapshot = { kind: 'default' as const, name: 'Agile default mapping', mappings: [] };
    let frozen: typeof snapshot | null = null;
    let reads = 0;
    const syncs = {
      mappingOf: async () => {
        reads++;
        return frozen;
      },
    };
    expect(await cache.get(syncs, 's1')).toBeNull();
    await settle();
    frozen = snapshot;
    expect(await cache.get(syncs, 's1')).toEqual(snapshot);
    await settle();
    expect(await cache.get(syncs, 's1')).toEqual(snapshot);
    expect(reads).toBe(2);
  });

  it('ConnectionCache reads a configuration and its PAT once a minute, and again once forgotten', async () => {
    let now = 0;
    const cache = new ConnectionCache(() => now);
    let reads = 0;
    const deps = {
      configurations: {
        get: async (id: string) => {
          reads++;
          return { id, organization: 'org', secretRef: 'ref' } as never;
        },
      },
      secrets: { get: async () => 'pat' },
      trackers: () => ({}) as never,
    };
    await Promise.all([cache.connect(deps, 'c'), cache.connect(deps, 'c')]);
    now += 59_999;
    await cache.connect(deps, 'c');
    expect(reads).toBe(1);
    now += 1;
    await cache.connect(deps, 'c');
    expect(reads).toBe(2);
    cache.forget('c');
    await cache.connect(deps, 'c');
    expect(reads).toBe(3);
  });
});
