import * as z from 'zod';
import type { PipelineSettings } from '#core/pipeline/deps.ts';

/**
 * The pipeline's settings as environment variables, the same in AWS (set by the CDK stack from the
 * stage's `sync.*` keys) and in the local runtime (`npm start`). Each is optional: an unset variable
 * keeps the runtime's default.
 */
export const PipelineEnv = z.object({
  SYNC_DEADLINE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .optional()
    .meta({ description: 'A sync still open after this long is failed by the sweep (default 120)' }),
  STALE_SECONDS: z.coerce.number().int().min(1).optional().meta({
    description:
      'A claim or pending node untouched this long counts as stranded and is resent (default 180 in AWS, 30 locally)',
  }),
  ARDOQ_BASE_URL: z
    .url()
    .optional()
    .meta({ description: 'Base of the Ardoq links written on work items (default https://app.ardoq.com)' }),
  OVERWRITE_RETRY_MINUTES: z.coerce.number().int().min(1).max(60).optional().meta({
    description:
      'How long the prepare step (type discovery, overwrite deletion) retries Azure DevOps trouble before the sync fails (default 10)',
  }),
  CANCEL_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).optional().meta({
    description:
      'How long a cancel request waits for the creates in flight to be recorded before it answers (default 10)',
  }),
});
export type PipelineEnv = z.infer<typeof PipelineEnv>;

/** The settings from `env` over `base` (the runtime's defaults); throws naming a bad variable. */
export function pipelineSettingsFromEnv(env: NodeJS.ProcessEnv, base: PipelineSettings): PipelineSettings {
  return pipelineSettingsFrom(PipelineEnv.parse(env), base);
}

/** The settings from already parsed variables (a function's settings schema) over `base`. */
export function pipelineSettingsFrom(parsed: Partial<PipelineEnv>, base: PipelineSettings): PipelineSettings {
  return {
    ...base,
    ...(parsed.SYNC_DEADLINE_MINUTES !== undefined ? { deadlineMinutes: parsed.SYNC_DEADLINE_MINUTES } : {}),
    ...(parsed.STALE_SECONDS !== undefined ? { staleSeconds: parsed.STALE_SECONDS } : {}),
    ...(parsed.ARDOQ_BASE_URL !== undefined ? { ardoqBaseUrl: parsed.ARDOQ_BASE_URL } : {}),
    ...(parsed.OVERWRITE_RETRY_MINUTES !== undefined
      ? { overwriteRetryMinutes: parsed.OVERWRITE_RETRY_MINUTES }
      : {}),
    ...(parsed.CANCEL_WAIT_SECONDS !== undefined ? { cancelWaitMs: parsed.CANCEL_WAIT_SECONDS * 1000 } : {}),
  };
}
