import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretStore } from '#adapters/secret-stores.ts';

// LocalSecretStore on a real file system, one temporary directory per test.

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-secret-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pat = () => `pat-${randomBytes(24).toString('base64url')}`;
const hexKey = () => randomBytes(32).toString('hex');
const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** Every file in the store's directory, as text (binary files too: a secret must not appear anywhere). */
async function everyFileAsText(): Promise<string> {
  const names = await readdir(dir);
  const contents = await Promise.all(names.map((name) => readFile(join(dir, name))));
  return contents.map((c) => c.toString('latin1')).join('\n');
}

describe('LocalSecretStore', () => {
  it('returns the secret it stored, by the ref put returned', async () => {
    const store = await LocalSecretStore.open(dir);
    const secret = pat();

    const ref = await store.put('config-1', secret);

    expect(ref).toBe('local:config-1');
    expect(await store.get(ref)).toBe(secret);
  });

  it('never writes the secret, nor its base64, to disk', async () => {
    const store = await LocalSecretStore.open(dir);
    const secret = pat();

    await store.put('config-1', secret);

    const onDisk = await everyFileAsText();
    expect(onDisk).toContain('local:config-1');
    expect(onDisk).not.toContain(secret);
    expect(onDisk).not.toContain(Buffer.from(secret).toString('base64'));
    expect(onDisk).not.toContain(Buffer.from(secret).toString('base64url'));
    expect(onDisk).not.toContain(Buffer.from(secret).toString('hex'));
    expect(await mode(join(dir, 'secrets.json'))).toBe(0o600);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('creates the key file with mode 0600 and reuses it when opened again', async () => {
    const secret = pat();
    const ref = await (await LocalSecretStore.open(dir)).put('config-1', secret);
    const keyFile = join(dir, 'secret.key');
    const key = await readFile(keyFile);

    const reopened = await LocalSecretStore.open(dir);

    expect(await mode(keyFile)).toBe(0o600);
    expect(key).toHaveLength(32);
    expect(await readFile(keyFile)).toEqual(key);
    expect(await reopened.get(ref)).toBe(secret);
  });

  it('uses LOCAL_SECRET_KEY instead of a key file when given', async () => {
    const key = hexKey();
    const secret = pat();
    const ref = await (await LocalSecretStore.open(dir, key)).put('config-1', secret);

    expect(await readdir(dir)).not.toContain('secret.key');
    expect(await (await LocalSecretStore.open(dir, key)).get(ref)).toBe(secret);
  });

  it('cannot read a secret sealed under another key', async () => {
    const ref = await (await LocalSecretStore.open(dir, hexKey())).put('config-1', pat());

    await expect((await LocalSecretStore.open(dir, hexKey())).get(ref)).rejects.toThrow();
    await expect((await LocalSecretStore.open(dir)).get(ref)).rejects.toThrow();
  });

  it.each([
    ['too short', 'abcd'],
    ['31 bytes', 'ab'.repeat(31)],
    ['33 bytes', 'ab'.repeat(33)],
    ['64 characters that are not hex', 'z'.repeat(64)],
    ['65 hex characters', `${'a'.repeat(64)}f`],
    ['64 hex characters and a tail', `${'a'.repeat(64)}zz`],
  ])('refuses a LOCAL_SECRET_KEY that is not 32 bytes of hex (%s)', async (_, key) => {
    await expect(LocalSecretStore.open(dir, key)).rejects.toThrow(
      /LOCAL_SECRET_KEY must be 64 hex characters/,
    );
  });

  it('refuses a key file that is not 32 bytes instead of failing at the first secret', async () => {
    await writeFile(join(dir, 'secret.key'), Buffer.alloc(0));
    await expect(LocalSecretStore.open(dir)).rejects.toThrow(/not a 32-byte key/);
  });

  it('gives every store opened at the same time the same key', async () => {
    const stores = await Promise.all(Array.from({ length: 8 }, () => LocalSecretStore.open(dir)));
    const ref = await stores[0]!.put('cfg', 'shared secret');
    for (const store of stores) await expect(store.get(ref)).resolves.toBe('shared secret');
  });

  it('forgets a deleted secret and keeps the others', async () => {
    const store = await LocalSecretStore.open(dir);
    const gone = await store.put('config-1', pat());
    const kept = pat();
    const keptRef = await store.put('config-2', kept);

    await store.delete(gone);

    await expect(store.get(gone)).rejects.toThrow(/No secret stored for local:config-1/);
    expect(await store.get(keptRef)).toBe(kept);
    expect(await everyFileAsText()).not.toContain(gone);
  });

  it('keeps every one of 20 concurrent puts (no lost update)', async () => {
    const store = await LocalSecretStore.open(dir);
    const secrets = Array.from({ length: 20 }, (_, i) => ({ id: `config-${i}`, secret: pat() }));

    const refs = await Promise.all(secrets.map(({ id, secret }) => store.put(id, secret)));

    const reopened = await LocalSecretStore.open(dir);
    const read = await Promise.all(refs.map((ref) => reopened.get(ref)));
    expect(read).toEqual(secrets.map((s) => s.secret));
  });

  it('replaces the secret of a configuration put twice and keeps its ref', async () => {
    const store = await LocalSecretStore.open(dir);
    const first = pat();
    const second = pat();

    const ref1 = await store.put('config-1', first);
    const ref2 = await store.put('config-1', second);

    expect(ref2).toBe(ref1);
    expect(await store.get(ref1)).toBe(second);
    const file = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(file)).toEqual([ref1]);
  });
});
