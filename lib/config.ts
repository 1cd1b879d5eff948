import * as z from 'zod';

/** CloudWatch Logs accepts only these retention periods (days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A browser origin as the `Origin` header sends it (scheme, host, optional port; no path), or `*`. */
const Origin = z
  .string()
  .regex(
    /^(\*|https?:\/\/[a-z0-9.-]+(:\d{1,5})?)$/,
    'an origin is scheme://host[:port] without a path, or *',
  );

/**
 * An origin the functions may send a PAT to besides https://dev.azure.com and
 * https://{organization}.visualstudio.com (an Azure DevOps Server). https only, and no loopback host:
 * in a Lambda the loopback interface is the runtime API, never an Azure DevOps.
 */
const AdoOrigin = z
  .string()
  .regex(
    /^https:\/\/[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/,
    'an Azure DevOps origin is https://host[:port], lowercase, without a path',
  )
  .refine(
    (origin) => !/^https:\/\/(localhost|127\.[\d.]+)(:\d+)?$/.test(origin),
    'a loopback origin is the Lambda runtime API, never an Azure DevOps',
  );

/**
 * Reserved concurrency: the function always has this many executions and never takes more, so open
 * SSE streams cannot starve the processor of the account's pool (nor the processor the API). `null`
 * reserves nothing (an account whose concurrency quota is too small to keep 100 unreserved).
 */
const Reserved = z.number().int().min(1).max(1000).nullable();

const fn = (timeoutSeconds: number, memoryMb: number, reserved: number, maxTimeoutSeconds = 900) =>
  z
    .object({
      timeoutSeconds: z.number().int().min(3).max(maxTimeoutSeconds).default(timeoutSeconds),
      memoryMb: z.number().int().min(128).max(10_240).default(memoryMb),
      reservedConcurrency: Reserved.default(reserved),
    })
    .prefault({});

/**
 * Event source `maxConcurrency` (2..1000): the lever that keeps us under Azure DevOps' rate limits.
 * Reserved concurrency defaults to it plus `extra` (the finalizer's sweep runs beside its consumers).
 */
const consumer = (timeoutSeconds: number, memoryMb: number, maxConcurrency: number, extra = 0) =>
  z
    .object({
      timeoutSeconds: z.number().int().min(3).max(900).default(timeoutSeconds),
      memoryMb: z.number().int().min(128).max(10_240).default(memoryMb),
      maxConcurrency: z.number().int().min(2).max(1000).default(maxConcurrency),
      reservedConcurrency: Reserved.optional(),
    })
    .prefault({})
    .transform((f) => ({
      ...f,
      reservedConcurrency:
        f.reservedConcurrency === undefined ? f.maxConcurrency + extra : f.reservedConcurrency,
    }));

const Auth = z
  .discriminatedUnion('mode', [
    z.object({
      /** A user pool created with the stack (admin-created users only). */
      mode: z.literal('cognito'),
      /**
       * TOTP MFA: `required` on a production stage (which refuses `optional`), `optional` elsewhere
       * unless set. Resolved in StageConfig's transform.
       */
      mfa: z.enum(['optional', 'required']).optional(),
      /**
       * Sign-in through a corporate OpenID Connect issuer (Entra ID, Okta, …) federated into the pool:
       * REST APIs have no JWT authorizer, so the pool's authorizer stays the one gate. The client
       * secret is read by CloudFormation from Secrets Manager (`clientSecretName`), never put in the template.
       */
      oidc: z
        .object({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
          issuerUrl: z.url(),
          clientId: z.string().min(1),
          clientSecretName: z.string().min(1),
          /** Prefix of the hosted sign-in domain `<prefix>.auth.<region>.amazoncognito.com`. */
          domainPrefix: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/),
          callbackUrls: z.array(z.url()).min(1),
          logoutUrls: z.array(z.url()).default([]),
        })
        .optional(),
    }),
    z.object({
      /** An existing Cognito user pool (shared directory); its tokens are checked by the authorizer. */
      mode: z.literal('existing-user-pool'),
      userPoolId: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'userPoolId looks like eu-west-1_AbC123'),
      /** Reported as the UserPoolClientId output for the frontend. */
      userPoolClientId: z.string().min(1).optional(),
    }),
  ])
  .default({ mode: 'cognito' });

/**
 * Per-stage settings, read from `cdk.json` context (`-c stage=prod`, `stages.<name>` overrides).
 * Stacks receive this typed object and never read `process.env`. Every default lives here.
 */
export const StageConfig = z
  .object({
    stage: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, 'stage must be lowercase letters, digits and dashes'),
    /**
     * A production stage: alarms must reach someone, MFA is required, the API gets a WAF web ACL, the
     * secrets key is retained. Defaults to `database.protect`.
     */
    production: z.boolean().optional(),
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
    functions: z
      .object({
        /** Buffered REST integrations end at 29 s. */
        api: fn(29, 512, 10, 29),
        /**
         * SSE streams: the tail ends itself after 14 minutes, API Gateway streams for 15 at most. Each
         * open stream holds one execution: 20 browsers watching at once, the 21st waits (429, retried).
         */
        apiStream: fn(900, 512, 20),
        processor: consumer(90, 512, 4),
        finalizer: consumer(60, 256, 2, 1),
        migrate: fn(300, 256, 1),
      })
      .prefault({}),
    logs: z
      .object({
        retentionDays: z
          .number()
          .refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), {
            message: `retentionDays must be one of ${RETENTION_DAYS.join(', ')}`,
          })
          .default(30),
        level: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
      })
      .prefault({}),
    /** X-Ray tracing of the functions and the API stage. */
    tracing: z.enum(['off', 'xray']).default('off'),
    sync: z
      .object({
        /** A sync still open after this long is failed by the sweep. */
        deadlineMinutes: z
          .number()
          .int()
          .min(5)
          .max(24 * 60)
          .default(120),
        /** A claim older than this counts as stranded; must exceed the processor timeout. */
        staleSeconds: z.number().int().min(30).default(180),
        ardoqBaseUrl: z.url().default('https://app.ardoq.com'),
        /** How long the prepare step retries Azure DevOps trouble before the sync fails. */
        overwriteRetryMinutes: z.number().int().min(1).max(60).default(10),
        /** How long a cancel request waits for the creates in flight (inside API Gateway's 29 s). */
        cancelWaitSeconds: z.number().int().min(0).max(20).default(10),
      })
      .prefault({}),
    api: z
      .object({
        /** Browser origins of the frontend (CORS); empty = same-origin callers only. */
        corsOrigins: z.array(Origin).default([]),
        /** Stage-wide throttling (requests per second, burst). */
        throttling: z
          .object({
            rateLimit: z.number().min(1).max(10_000).default(50),
            burstLimit: z.number().int().min(1).max(5_000).default(100),
          })
          .prefault({}),
        /**
         * API Gateway writes logs through one account-wide role per region. Set false when the account
         * already has one (another stack or a landing zone manages it).
         */
        createCloudWatchRole: z.boolean().default(true),
        /** A regional WAFv2 web ACL to attach to the stage (a production stage creates one without it). */
        webAclArn: z.string().startsWith('arn:').optional(),
        /** The created web ACL's rate-based rule: requests per client IP per 5 minutes. */
        wafRateLimit: z.number().int().min(10).max(2_000_000_000).default(1_000),
      })
      .prefault({}),
    auth: Auth,
    ado: z
      .object({
        /** ADO_ALLOWED_ORIGINS of the functions; empty = dev.azure.com and *.visualstudio.com only. */
        allowedOrigins: z.array(AdoOrigin).default([]),
      })
      .prefault({}),
    ardoq: z
      .object({
        /** ARDOQ_ALLOWED_ORIGINS of the API function; empty = https://*.ardoq.com only. */
        allowedOrigins: z.array(AdoOrigin).default([]),
        /** ARDOQ_HIERARCHY_TYPES: the Ardoq component types of the five levels, domain to user story. */
        hierarchyTypes: z
          .array(
            z
              .string()
              .trim()
              .min(1)
              .max(100)
              .regex(/^[^,]+$/, 'a type name has no comma'),
          )
          .length(5)
          .default(['Domain', 'Initiative', 'Epic', 'Feature', 'User Story']),
      })
      .prefault({}),
    alarms: z
      .object({
        /** Subscribe this address to a topic created for the alarms. */
        email: z.email().optional(),
        /** Or send the alarms to an existing SNS topic. */
        topicArn: z.string().startsWith('arn:').optional(),
        /** Alarm when the oldest work message waits longer than this. */
        oldestMessageAgeMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(15),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.sync.staleSeconds <= config.functions.processor.timeoutSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['sync', 'staleSeconds'],
        message:
          'sync.staleSeconds must exceed functions.processor.timeoutSeconds (a live claim is not stranded)',
      });
    }
    const { processor, finalizer } = config.functions;
    if (processor.reservedConcurrency !== null && processor.reservedConcurrency < processor.maxConcurrency) {
      ctx.addIssue({
        code: 'custom',
        path: ['functions', 'processor', 'reservedConcurrency'],
        message:
          'functions.processor.reservedConcurrency must be at least its maxConcurrency (else SQS batches are throttled)',
      });
    }
    if (finalizer.reservedConcurrency !== null && finalizer.reservedConcurrency <= finalizer.maxConcurrency) {
      ctx.addIssue({
        code: 'custom',
        path: ['functions', 'finalizer', 'reservedConcurrency'],
        message:
          'functions.finalizer.reservedConcurrency must exceed its maxConcurrency (the sweep needs one more)',
      });
    }
    if (config.database.minCapacity > config.database.maxCapacity) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'minCapacity'],
        message: 'database.minCapacity must not exceed maxCapacity',
      });
    }
  })
  .transform((config) => {
    const production = config.production ?? config.database.protect;
    const auth =
      config.auth.mode === 'cognito'
        ? { ...config.auth, mfa: config.auth.mfa ?? (production ? 'required' : 'optional') }
        : config.auth;
    return { ...config, production, auth };
  })
  // A production stage (resolved above): alarms that reach someone, and MFA (an explicit `optional` is
  // what is left here, since a production stage's default is `required`).
  .superRefine((config, ctx) => {
    if (!config.production) return;
    if (!config.alarms.email && !config.alarms.topicArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['alarms'],
        message: `stage ${config.stage} is a production stage: set alarms.email or alarms.topicArn, so that an alarm reaches someone`,
      });
    }
    if (config.auth.mode === 'cognito' && config.auth.mfa === 'optional') {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'mfa'],
        message: `stage ${config.stage} is a production stage: auth.mfa must be required (TOTP)`,
      });
    }
  });
export type StageConfig = z.output<typeof StageConfig>;

/** Builds the stage config from the CDK context values. */
export function loadStageConfig(context: { stage?: unknown; stages?: unknown }): StageConfig {
  const stage = typeof context.stage === 'string' ? context.stage : 'dev';
  const stages = (context.stages ?? {}) as Record<string, unknown>;
  const overrides = (stages[stage] ?? {}) as Record<string, unknown>;
  return StageConfig.parse({ ...overrides, stage });
}

/** SQS must not hand a message to a second consumer while the first may still run (FACTS.md: ≥ 6×). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
export const visibilityTimeoutSeconds = (functionTimeoutSeconds: number): number =>
  VISIBILITY_TIMEOUT_FACTOR * functionTimeoutSeconds;
