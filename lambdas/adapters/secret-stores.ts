import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from '#core/ports/secret-store.ts';

/** Tag of every secret the app creates (with `configuration-id`, so a reviewer can account for each). */
export const SECRET_APP_TAG = { Key: 'app', Value: 'ardoq-ado-sync' } as const;

/**
 * Credentials (Azure DevOps PATs, Ardoq API tokens) in AWS Secrets Manager, one secret per
 * configuration under a prefix: encrypted with `kmsKeyId` when given (else the account's
 * `aws/secretsmanager` key), tagged with the configuration id. A delete schedules the secret's deletion
 * with a 7-day recovery window. Configuration ids are random UUIDs, never reused, so a create never
 * meets a secret scheduled for deletion (no restore path).
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly kmsKeyId?: string,
  ) {}

  async put(configurationId: string, secret: string): Promise<string> {
    const name = `${this.prefix}/${configurationId}`;
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: secret,
          Description: `Credential of an Ardoq sync configuration (${configurationId})`,
          ...(this.kmsKeyId ? { KmsKeyId: this.kmsKeyId } : {}),
          Tags: [{ Key: 'configuration-id', Value: configurationId }, SECRET_APP_TAG],
        }),
      );
      return created.ARN ?? name;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      // The configuration's secret exists (a new token for it): a new version of the same secret.
      const updated = await this.client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: secret }),
      );
      return updated.ARN ?? name;
    }
  }

  async get(ref: string): Promise<string> {
    const value = await this.client.send(new GetSecretValueCommand({ SecretId: ref }));
    if (!value.SecretString) throw new Error('The configuration secret is empty');
    return value.SecretString;
  }

  async delete(ref: string): Promise<void> {
    await this.client.send(new DeleteSecretCommand({ SecretId: ref, RecoveryWindowInDays: 7 }));
  }
}

type Sealed = { iv: string; tag: string; data: string };

/**
 * Local stand-in for Secrets Manager: PATs sealed with AES-256-GCM in `secrets.json`, under a
 * random key in `secret.key` (mode 0600) or `LOCAL_SECRET_KEY` (64 hex chars). Never plain text.
 */
export class LocalSecretStore implements SecretStore {
  // Writes are read-modify-write of one file: one at a time.
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly key: Buffer,
  ) {}

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  static async open(dir: string, keyHex?: string): Promise<LocalSecretStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (keyHex !== undefined) {
      // Buffer.from(…, 'hex') silently stops at the first bad character: check the text itself.
      if (!/^[0-9a-fA-F]{64}$/.test(keyHex)) throw new Error('LOCAL_SECRET_KEY must be 64 hex characters');
      return new LocalSecretStore(join(dir, 'secrets.json'), Buffer.from(keyHex, 'hex'));
    }
    const keyFile = join(dir, 'secret.key');
    const key = await readFile(keyFile).catch(async () => {
      // Written whole under a temporary name, then linked: a concurrent opener never reads half a key,
      // and when two race, both end up with the one that was linked first.
      const tmp = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeFile(tmp, randomBytes(32), { mode: 0o600 });
      await link(tmp, keyFile).catch(() => undefined);
      await unlink(tmp);
      return readFile(keyFile);
    });
    if (key.length !== 32)
      throw new Error(`${keyFile} is not a 32-byte key: restore it or remove it with the secrets it sealed`);
    return new LocalSecretStore(join(dir, 'secrets.json'), key);
  }

  async put(configurationId: string, secret: string): Promise<string> {
    const ref = `local:${configurationId}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    const sealed = {
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await this.exclusive(async () => this.writeAll({ ...(await this.readAll()), [ref]: sealed }));
    return ref;
  }

  async get(ref: string): Promise<string> {
    const sealed = (await this.readAll())[ref];
    if (!sealed) throw new Error(`No secret stored for ${ref}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  }

  async delete(ref: string): Promise<void> {
    await this.exclusive(async () => {
      const all = await this.readAll();
      delete all[ref];
      await this.writeAll(all);
    });
  }

  private async readAll(): Promise<Record<string, Sealed>> {
    const text = await readFile(this.file, 'utf8').catch(() => '{}');
    return JSON.parse(text) as Record<string, Sealed>;
  }

  private async writeAll(all: Record<string, Sealed>): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
