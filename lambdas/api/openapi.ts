import * as z from 'zod';
import { JSON_LIMITS } from './input-checks.ts';
import { type AnswerDoc, gatewayPath, type RouteDef } from './route.ts';
import { routerErrors } from './schemas.ts';

type Json = Record<string, unknown>;

/** What every request must respect, whatever its route (the router checks it before the route runs). */
export const INPUT_RULES = [
  'Bodies are JSON (`Content-Type: application/json`, UTF-8; parameters such as `; charset=utf-8` are fine, otherwise 415) of at most 10 MB (413).',
  `A JSON body nests at most ${JSON_LIMITS.maxDepth} levels of arrays and objects (the body is level 1), has at most ${JSON_LIMITS.maxKeys.toLocaleString('en-US')} keys per object and ${JSON_LIMITS.maxItems.toLocaleString('en-US')} items per array, and its numbers fit a double (±1.8e308); a 10,000-item sync tree with ~50 customFields per node is well inside.`,
  'No string or key of a body, query name or value, path parameter, header name or header value may contain NUL (U+0000) or a lone surrogate (invalid UTF-16).',
  'A request that breaks a rule is a 400 whose `details` name the field (`epics[0].children[1].name`, a query or path parameter, a header, or `body`); nothing is written.',
].join(' ');

/**
 * Descriptions of parameters whose schemas (shared with the core) carry none; a schema's own
 * `.meta({ description })` wins.
 */
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  id: 'Configuration id',
  configId: 'Azure DevOps configuration id (default: the active configuration)',
  status: 'Only rows with this status',
  source_type: 'Only syncs from this source type',
  target_type: 'Only syncs to this target type',
  project_name: 'Case-insensitive substring of the project name',
  action_type: 'Only entries of this action type',
  entity_type: 'Only entries about this kind of entity',
  entity_id: 'Only entries about this entity id (exact match)',
  item_type: 'Only items of this type',
  start_date: 'From this moment: YYYY-MM-DD (UTC day) or an ISO-8601 timestamp with a time zone',
  end_date: 'Until this moment (a YYYY-MM-DD day is included whole): YYYY-MM-DD or an ISO-8601 timestamp',
  limit: 'Page size',
  offset: 'Rows to skip',
};

const PERMISSION_TEXT: Record<RouteDef<unknown>['permission'], string> = {
  public: 'No authentication.',
  user: 'Any signed-in user.',
  admin: 'Members of the `admins` group only: a plain user gets a 403 (and the attempt is audited).',
};

/** JSON Schema (2020-12, what OpenAPI 3.1 uses) of a zod schema, without the `$schema` header. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function parameters<D>(route: RouteDef<D>): Json[] {
  const list: Json[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    let object: z.ZodType | undefined = schema;
    while (object instanceof z.ZodPipe) object = object.in as z.ZodType;
    const shape = object instanceof z.ZodObject ? object.shape : {};
    for (const [name, field] of Object.entries(shape) as Array<[string, z.ZodType]>) {
      const schema = schemaOf(field, 'input');
      const description = typeof schema.description === 'string' ? schema.description : undefined;
      list.push({
        name,
        in: where,
        description: description ?? PARAMETER_DESCRIPTIONS[name],
        required: where === 'path' || !field.safeParse(undefined).success,
        schema,
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  if (route.path.endsWith('/events')) {
    list.push({
      name: 'Last-Event-ID',
      in: 'header',
      description:
        'Resume after this event id (what a browser EventSource sends on reconnect): only later events are streamed; a whole number',
      required: false,
      schema: { type: 'string', pattern: '^\\d{1,9}$' },
    });
  }
  return list;
}

/**
 * The route's answers: its success answer, the router's own (400 and 405 on every route, 401 unless
 * public, 403 for admin routes, 413 and 415 with a body, 404 and 500) and the route's others.
 */
function answersOf<D>(route: RouteDef<D>): Record<number, AnswerDoc> {
  const answers: Record<number, AnswerDoc> = {
    [route.answer.status]: { description: route.answer.description, schema: route.answer.schema },
    400: routerErrors[400],
    404: routerErrors[404],
    405: routerErrors[405],
    500: routerErrors[500],
  };
  if (route.permission !== 'public') answers[401] = routerErrors[401];
  if (route.permission === 'admin') answers[403] = routerErrors[403];
  if (route.body) Object.assign(answers, { 413: routerErrors[413], 415: routerErrors[415] });
  return { ...answers, ...route.responses };
}

/**
 * The OpenAPI 3.1 document of every route, generated from the same zod schemas that validate the
 * requests and describe the answers (no hand-written copy).
 */
export function buildOpenApi<D>(routes: readonly RouteDef<D>[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = gatewayPath(route.path);
    const responses: Json = {};
    for (const [status, response] of Object.entries(answersOf(route))) {
      const contentType = response.contentType ?? 'application/json';
      responses[status] = {
        description: response.description,
        ...(response.schema || response.contentType
          ? {
              content: {
                [contentType]: response.schema ? { schema: schemaOf(response.schema, 'output') } : {},
              },
            }
          : {}),
      };
    }
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      description: PERMISSION_TEXT[route.permission],
      tags: [route.tag],
      'x-permission': route.permission,
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string) => (c ? c.toUpperCase() : ''))}`,
      parameters: parameters(route),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              description: INPUT_RULES,
              content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
            },
          }
        : {}),
      responses,
      ...(route.permission === 'public' ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ardoq → Azure DevOps sync API',
      version,
      description: `Starts syncs of Ardoq planning trees into Azure DevOps Boards and serves their exact history. Envelopes: \`{ success, data }\`, lists add \`pagination\`; errors \`{ success: false, error, details? }\`. ${INPUT_RULES}`,
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Cognito/OIDC token in AWS; LOCAL_AUTH_TOKEN locally',
        },
      },
    },
    paths,
  };
}
