import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npx cdk synth', () => {
  it('synthesizes every stack offline, without AWS credentials, and cdk-nag passes', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cdk-out-'));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && key !== 'CDK_DEFAULT_ACCOUNT'),
    );
    try {
      // cdk-nag (a validation plugin) fails the synth on any unacknowledged finding.
      const { stdout, stderr } = await run('npx', ['cdk', 'synth', '--quiet', '--output', out], {
        env,
        timeout: 110_000,
      });
      // CDK's built-in CloudFormation validation only warns: make its warnings fail here.
      expect(`${stdout}\n${stderr}`).not.toMatch(/validation found issues/i);
      const files = await readdir(out);
      expect(files).toEqual(
        expect.arrayContaining([
          'ArdoqAdoSync-dev-Stateful.template.json',
          'ArdoqAdoSync-dev-Stateless.template.json',
        ]),
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
