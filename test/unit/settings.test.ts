import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { LocalEnv, localOptionsFromEnv } from '#bin/local/local-env.ts';
import { DEFAULT_SETTINGS, noMetrics, type PipelineSettings, silentLog } from '#core/pipeline/deps.ts';
import { apiDeps } from '#lambdas/api/aws-deps.ts';
import { ApiSettings } from '#lambdas/api/settings.ts';
import { finalizerDeps } from '#lambdas/finalizer/aws-deps.ts';
import { FinalizerSettings } from '#lambdas/finalizer/settings.ts';
import { processorDeps } from '#lambdas/processor/aws-deps.ts';
import { ProcessorSettings } from '#lambdas/processor/settings.ts';
import { PipelineEnv } from '#lambdas/runtime/pipeline-settings.ts';
import { parseSettings } from '#lambdas/runtime/settings.ts';
import { streamDeps } from '#lambdas/stream/aws-deps.ts';
import { StreamSettings } from '#lambdas/stream/settings.ts';

// Every setting works in both runtimes: each variable of the pipeline settings schema is read by the
// Lambdas that use it (each function's own settings schema and deps builder) and by `npm start`
// (localOptionsFromEnv) alike, and the README documents every variable. A new setting fails here until
// it has a sample, is wired and documented.

/** A valid value of each pipeline setting that is not its default, and where it must arrive. */
const SAMPLES: Record<keyof typeof PipelineEnv.shape, { value: string; expect: Partial<PipelineSettings> }> =
  {
    SYNC_DEADLINE_MINUTES: { value: '45', expect: { deadlineMinutes: 45 } },
    STALE_SECONDS: { value: '77', expect: { staleSeconds: 77 } },
    ARDOQ_BASE_URL: { value: 'https://acme.ardoq.com', expect: { ardoqBaseUrl: 'https://acme.ardoq.com' } },
    OVERWRITE_RETRY_MINUTES: { value: '3', expect: { overwriteRetryMinutes: 3 } },
    CANCEL_WAIT_SECONDS: { value: '4', expect: { cancelWaitMs: 4_000 } },
  };

/** The variables the Lambdas need besides the settings (placeholders: nothing is called). */
const AWS_ENV = {
  DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:test',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test',
  DB_NAME: 'ardoq_sync',
  WORK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work',
  FINALIZE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/finalize',
  PAT_SECRET_PREFIX: 'ardoq-ado-sync/test/pat',
  AWS_REGION: 'eu-west-1',
};

/** Each function: its settings schema and the settings its deps builder makes of an environment. */
const FUNCTIONS: Record<
  string,
  { schema: z.ZodObject; settings: (env: NodeJS.ProcessEnv) => PipelineSettings }
> = {
  api: {
    schema: ApiSettings,
    settings: (env) => apiDeps(parseSettings(ApiSettings, env), silentLog, noMetrics).settings,
  },
  stream: {
    schema: StreamSettings,
    settings: (env) => streamDeps(parseSettings(StreamSettings, env), silentLog, noMetrics).settings,
  },
  processor: {
    schema: ProcessorSettings,
    settings: (env) => processorDeps(parseSettings(ProcessorSettings, env), silentLog, noMetrics).settings,
  },
  finalizer: {
    schema: FinalizerSettings,
    settings: (env) => finalizerDeps(parseSettings(FinalizerSettings, env), silentLog, noMetrics).settings,
  },
};
const readers = (name: string) =>
  Object.entries(FUNCTIONS).filter(([, f]) => Object.hasOwn(f.schema.shape, name));
const awsSettings = (env: Record<string, string>, fn = 'api') =>
  (FUNCTIONS[fn] as (typeof FUNCTIONS)['api']).settings({ ...AWS_ENV, ...env });
const localSettings = (env: Record<string, string>) => localOptionsFromEnv(env).settings;

describe('pipeline settings (PipelineEnv)', () => {
  it('every variable of the schema has a sample here', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(PipelineEnv.shape).sort());
  });

  for (const [name, sample] of Object.entries(SAMPLES)) {
    it(`${name} reaches the settings of every function that reads it, and the local runtime`, () => {
      expect(readers(name).length, `a function reads ${name}`).toBeGreaterThan(0);
      for (const [fn] of readers(name)) {
        expect(awsSettings({ [name]: sample.value }, fn), fn).toMatchObject(sample.expect);
        // A real change: the sample is not the default.
        expect(awsSettings({}, fn)).not.toMatchObject(sample.expect);
      }
      expect(localSettings({ [name]: sample.value })).toMatchObject(sample.expect);
      expect(localSettings({})).not.toMatchObject(sample.expect);
    });

    it(`${name}: a bad value is refused naming the variable`, () => {
      const bad = { [name]: name === 'ARDOQ_BASE_URL' ? 'not a url' : '-5' };
      for (const [fn] of readers(name)) expect(() => awsSettings(bad, fn)).toThrow(name);
      expect(() => localSettings(bad)).toThrow(name);
    });
  }

  it('unset variables keep each runtime’s defaults (claims go stale sooner locally)', () => {
    for (const fn of Object.keys(FUNCTIONS)) expect(awsSettings({}, fn)).toEqual(DEFAULT_SETTINGS);
    expect(localSettings({})).toEqual({ ...DEFAULT_SETTINGS, staleSeconds: 30 });
  });
});

describe('local runtime settings (LocalEnv)', () => {
  it('INFO is the default log level', () => {
    expect(localOptionsFromEnv({}).logLevel).toBe('INFO');
  });

  it('a real organization needs its PAT, and must be one a PAT may be sent to', () => {
    expect(() => localOptionsFromEnv({ ADO_ORGANIZATION: 'contoso' })).toThrow('ADO_PAT');
    expect(() => localOptionsFromEnv({ ADO_ORGANIZATION: 'https://evil.example', ADO_PAT: 'x' })).toThrow(
      'ADO_ORGANIZATION',
    );
    expect(localOptionsFromEnv({ ADO_ORGANIZATION: 'contoso', ADO_PAT: 'x' }).organization).toEqual({
      name: 'contoso',
      pat: 'x',
    });
  });
});

describe('each function is given only its own settings', () => {
  it.each(Object.entries(FUNCTIONS))('%s: a variable of another function is not read', (_, fn) => {
    const foreign = Object.keys(PipelineEnv.shape).filter((name) => !Object.hasOwn(fn.schema.shape, name));
    for (const name of foreign) {
      const sample = SAMPLES[name as keyof typeof SAMPLES];
      expect(fn.settings({ ...AWS_ENV, [name]: sample.value }), name).toEqual(DEFAULT_SETTINGS);
    }
  });
});

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const name of [...Object.keys(PipelineEnv.shape), ...Object.keys(LocalEnv.shape)]) {
    it(`documents ${name}`, () => {
      expect(readme).toContain(`\`${name}\``);
    });
  }
});
