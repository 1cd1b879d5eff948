import { z } from 'zod';

/**
 * Per-stage settings, read from `cdk.json` context (`-c stage=prod`, `stages.<name>` overrides).
 * Stacks receive this typed object and never read `process.env`.
 */
export const StageConfig = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, 'stage must be lowercase letters, digits and dashes'),
  database: z
    .object({
      name: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .default('ardoq_sync'),
      /** Aurora capacity units; 0 lets the cluster pause when idle (the Data API then retries while it resumes). */
      minCapacity: z.number().min(0).max(256).default(0),
      maxCapacity: z.number().min(1).max(256).default(4),
      autoPauseMinutes: z.number().int().min(5).max(1440).default(30),
      /** Keeps the cluster from deletion and snapshots it on removal (prod). */
      protect: z.boolean().default(false),
    })
    .default({ name: 'ardoq_sync', minCapacity: 0, maxCapacity: 4, autoPauseMinutes: 30, protect: false }),
});
export type StageConfig = z.infer<typeof StageConfig>;

/** Builds the stage config from the CDK context values. */
export function loadStageConfig(context: { stage?: unknown; stages?: unknown }): StageConfig {
  const stage = typeof context.stage === 'string' ? context.stage : 'dev';
  const stages = (context.stages ?? {}) as Record<string, unknown>;
  const overrides = (stages[stage] ?? {}) as Record<string, unknown>;
  return StageConfig.parse({ ...overrides, stage });
}
