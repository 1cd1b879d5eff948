import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npx cdk synth', () => {
  it('synthesizes every stack offline, without AWS credentials', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cdk-out-'));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && key !== 'CDK_DEFAULT_ACCOUNT'),
    );
    try {
      await run('npx', ['cdk', 'synth', '--quiet', '--output', out], { env, timeout: 110_000 });
      const files = await readdir(out);
      expect(files).toContain('ArdoqAdoSync-dev-Stateful.template.json');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
