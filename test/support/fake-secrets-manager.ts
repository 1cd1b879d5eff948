import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Secrets Manager's GetSecretValue for the real SDK client (AWS JSON 1.1: `POST /`,
 * `x-amz-target: secretsmanager.GetSecretValue`), answered from a map; SigV4 is ignored. Point a
 * client at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER`. The AWS control plane cannot run here; this is
 * the one call the migrate function makes to it.
 */
export interface FakeSecretsManager {
  url: string;
  /** Secret values by id (ARN): change them between calls. */
  readonly secrets: Map<string, string>;
  /** The ids asked for, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeSecretsManager(
  initial: Record<string, string> = {},
): Promise<FakeSecretsManager> {
  const secrets = new Map(Object.entries(initial));
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    const answer = (status: number, body: unknown, errorType?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      response.end(JSON.stringify(body));
    };
    const target = String(request.headers['x-amz-target'] ?? '');
    const input = JSON.parse((await readBody(request)) || '{}') as { SecretId?: string };
    if (target !== 'secretsmanager.GetSecretValue') {
      answer(
        400,
        { __type: 'InvalidRequestException', message: `${target} is not faked` },
        'InvalidRequestException',
      );
      return;
    }
    const id = input.SecretId ?? '';
    requests.push(id);
    const value = secrets.get(id);
    if (value === undefined) {
      const message = "Secrets Manager can't find the specified secret.";
      answer(400, { __type: 'ResourceNotFoundException', message }, 'ResourceNotFoundException');
      return;
    }
    answer(200, {
      ARN: id,
      Name: id.split(':').at(-1),
      SecretString: value,
      VersionId: '00000000-0000-4000-8000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_700_000_000,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secrets,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
