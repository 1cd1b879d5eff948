import * as z from 'zod';

/**
 * What a sync request may be (CONTRACT.md §2): the request tree and its parameters. The router checks
 * a request against these once, at the edge; the use case gets the typed result.
 */

const nodeBase = {
  _id: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  name: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  description: z.string().max(100_000).nullish(),
};

// Nodes keep every other raw Ardoq key (they feed the field mapping): loose objects.
export const UserStoryNode = z.looseObject({
  ...nodeBase,
  type: z.literal('User Story'),
  // Nothing can be nested under a story: a node there would be neither synced nor reported.
  children: z.array(z.unknown()).max(0, 'must be empty: a User Story has no children').optional(),
});
export const FeatureNode = z.looseObject({
  ...nodeBase,
  type: z.literal('Feature'),
  children: z.array(UserStoryNode).optional(),
});
export const EpicNode = z.looseObject({
  ...nodeBase,
  type: z.literal('Epic'),
  children: z.array(FeatureNode).optional(),
});

export const ProcessTemplateName = z.enum(['Agile', 'Scrum', 'CMMI', 'Basic']);

/** Body of `POST /api/azure-devops/projects/{project}/workitems` (CONTRACT.md §2). */
export const StartSyncBody = z.object({
  epics: z.array(EpicNode).min(1, 'must contain at least one epic'),
  fieldMappingConfigId: z.string().max(255).optional(),
  processTemplateTemplateName: ProcessTemplateName.optional(),
});
export type StartSyncBody = z.infer<typeof StartSyncBody>;

export const StartSyncQuery = z.object({
  configId: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Azure DevOps configuration id (default: the active configuration)' }),
  overwrite: z.enum(['true', 'false'], { error: 'must be true or false' }).optional().meta({
    description:
      'Overwrite mode: `true` first deletes the work items this service created in the project, `false` or absent does not. Exactly `true` or `false`, lowercase: anything else (`1`, `yes`, `TRUE`, empty) is a 400.',
  }),
  sourceConfigId: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Ardoq configuration id, recorded as `source_config_id`' }),
});

/** Microsoft's reserved project names (system names and IIS hidden segments), upper-cased. */
const RESERVED_PROJECT_NAMES = new Set(
  [
    'AUX',
    'CON',
    'NUL',
    'PRN',
    ...Array.from({ length: 10 }, (_, i) => `COM${i + 1}`),
    ...Array.from({ length: 9 }, (_, i) => `LPT${i + 1}`),
    'SERVER',
    'SignalR',
    'DefaultCollection',
    'Web',
    'App_Browsers',
    'App_code',
    'App_Data',
    'App_GlobalResources',
    'App_LocalResources',
    'App_Themes',
    'App_WebResources',
    'bin',
    'web.config',
  ].map((name) => name.toUpperCase()),
);

/**
 * Microsoft's forbidden printable characters for project names, except the apostrophe: Microsoft
 * forbids it too, but CONTRACT.md §2 allows it ("O'Brien Team") and the frontend relies on it.
 */
const FORBIDDEN_PROJECT_CHARACTERS = /[/:\\~&%;@"?<>|#$*{},+=[\]]/;

/**
 * An Azure DevOps project name (Microsoft's "Naming restrictions", project names): at most 64
 * characters after trimming; no control or surrogate characters (so no emoji), none of
 * `/ : \ ~ & % ; @ " ? < > | # $ * { } , + = [ ]`, no `..`; not starting with `_`, not starting or
 * ending with `.`; not a reserved name (`CON`, `COM1`, `Web`, `bin`, `App_Data`, …).
 */
export const ProjectName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .superRefine((name, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    const forbidden = FORBIDDEN_PROJECT_CHARACTERS.exec(name)?.[0];
    if (/\p{Cc}/u.test(name)) fail('must not contain control characters');
    else if (/[\uD800-\uDFFF]/.test(name)) fail('must not contain surrogate characters (emoji and the like)');
    else if (forbidden) fail(`must not contain ${forbidden}`);
    else if (name.includes('..')) fail('must not contain ..');
    else if (name.startsWith('_')) fail('must not start with _');
    else if (name.startsWith('.') || name.endsWith('.')) fail('must not start or end with .');
    else if (RESERVED_PROJECT_NAMES.has(name.toUpperCase())) fail('is a name Azure DevOps reserves');
  })
  .meta({
    description:
      'Azure DevOps project name (URL-encoded): 1 to 64 characters, spaces and apostrophes allowed; no control or surrogate characters, none of / : \\ ~ & % ; @ " ? < > | # $ * { } , + = [ ], no `..`, not starting with `_`, not starting or ending with `.`, not a reserved name (CON, COM1…COM10, LPT1…LPT9, NUL, PRN, AUX, SERVER, SignalR, DefaultCollection, Web, bin, web.config, App_*)',
  });
