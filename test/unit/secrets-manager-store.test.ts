import {
  InvalidRequestException,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretsManagerSecretStore } from '#adapters/secret-stores.ts';
import { createConfiguration } from '#core/configurations/configuration-service.ts';
import { ConflictError } from '#core/errors.ts';
import type { ConfigurationStore } from '#core/ports/configuration-store.ts';
import type { SecretStore } from '#core/ports/secret-store.ts';
import type { WorkItemTrackerFactory } from '#core/ports/work-item-tracker.ts';

// SecretsManagerSecretStore against a fake client that records each command (its class name and input)
// and answers from a script; and the configuration service leaving no secret behind a failed create.

type Sent = { command: string; input: Record<string, unknown> };

/** A Secrets Manager client that records commands; `answer` returns or throws per command. */
function fakeClient(answer: (sent: Sent) => unknown = () => ({})) {
  const sent: Sent[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      const entry = { command: command.constructor.name, input: command.input };
      sent.push(entry);
      return answer(entry);
    },
  } as unknown as SecretsManagerClient;
  return { client, sent };
}

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ardoq-ado-sync/dev/pat/cfg-1-AbCdEf';
const exists = () => new ResourceExistsException({ message: 'the secret already exists', $metadata: {} });

describe('SecretsManagerSecretStore', () => {
  it('creates the secret under the prefix, with the KMS key and the configuration-id tag', async () => {
    const { client, sent } = fakeClient(() => ({ ARN }));
    const store = new SecretsManagerSecretStore(client, 'ardoq-ado-sync/dev/pat', KEY);

    expect(await store.put('cfg-1', 'secret-value')).toBe(ARN);

    expect(sent).toEqual([
      {
        command: 'CreateSecretCommand',
        input: {
          Name: 'ardoq-ado-sync/dev/pat/cfg-1',
          SecretString: 'secret-value',
          Description: 'Credential of an Ardoq sync configuration (cfg-1)',
          KmsKeyId: KEY,
          Tags: [
            { Key: 'configuration-id', Value: 'cfg-1' },
            { Key: 'app', Value: 'ardoq-ado-sync' },
          ],
        },
      },
    ]);
  });

  it('names no key without one (the account’s aws/secretsmanager key) and still tags', async () => {
    const { client, sent } = fakeClient(() => ({ ARN }));
    await new SecretsManagerSecretStore(client, 'p').put('cfg-2', 'x');

    expect(sent[0]?.input).not.toHaveProperty('KmsKeyId');
    expect(sent[0]?.input.Tags).toContainEqual({ Key: 'configuration-id', Value: 'cfg-2' });
  });

  it('writes a new version of the same secret when it exists (a replaced token leaves no orphan)', async () => {
    const { client, sent } = fakeClient(({ command }) => {
      if (command === 'CreateSecretCommand') throw exists();
      return { ARN };
    });
    const store = new SecretsManagerSecretStore(client, 'p', KEY);

    expect(await store.put('cfg-1', 'new-token')).toBe(ARN);

    expect(sent.map((s) => s.command)).toEqual(['CreateSecretCommand', 'PutSecretValueCommand']);
    expect(sent[1]?.input).toEqual({ SecretId: 'p/cfg-1', SecretString: 'new-token' });
  });

  it('passes on any other failure of the create', async () => {
    const scheduled = new InvalidRequestException({
      message:
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      $metadata: {},
    });
    const { client, sent } = fakeClient(() => {
      throw scheduled;
    });

    await expect(new SecretsManagerSecretStore(client, 'p').put('cfg-1', 'x')).rejects.toBe(scheduled);
    expect(sent).toHaveLength(1);
  });

  it('schedules the deletion with a 7-day recovery window', async () => {
    const { client, sent } = fakeClient();

    await new SecretsManagerSecretStore(client, 'p', KEY).delete(ARN);

    expect(sent).toEqual([
      { command: 'DeleteSecretCommand', input: { SecretId: ARN, RecoveryWindowInDays: 7 } },
    ]);
  });

  it('reads the secret by its reference', async () => {
    const { client, sent } = fakeClient(() => ({ SecretString: 'the-token' }));

    expect(await new SecretsManagerSecretStore(client, 'p').get(ARN)).toBe('the-token');
    expect(sent).toEqual([{ command: 'GetSecretValueCommand', input: { SecretId: ARN } }]);
  });
});

describe('a failed create of an Azure DevOps configuration', () => {
  it('deletes the secret it stored', async () => {
    const stored = new Map<string, string>();
    const secrets: SecretStore = {
      put: async (id, secret) => {
        stored.set(`memory:${id}`, secret);
        return `memory:${id}`;
      },
      get: async (ref) => stored.get(ref) ?? '',
      delete: async (ref) => {
        stored.delete(ref);
      },
    };
    const taken = new ConflictError('A configuration with this name already exists');
    const configurations = {
      create: async () => {
        throw taken;
      },
    } as unknown as ConfigurationStore;
    const trackers = (() => ({ listProjects: async () => [] })) as unknown as WorkItemTrackerFactory;

    await expect(
      createConfiguration(
        { name: 'Taken', organization: 'https://dev.azure.com/contoso', patToken: 'pat-value' },
        { userId: 'admin-1', sourceIp: '10.0.0.1', userAgent: 'vitest' },
        { configurations, secrets, trackers, clock: { now: () => new Date() } },
      ),
    ).rejects.toBe(taken);

    expect(stored.size).toBe(0);
  });
});
