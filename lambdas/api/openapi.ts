import * as z from 'zod';
import type { RouteDef } from './router.ts';

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, what OpenAPI 3.1 uses) of a zod schema, without the `$schema` header. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function parameters(route: RouteDef): Json[] {
  const list: Json[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    let object: z.ZodType | undefined = schema;
    while (object instanceof z.ZodPipe) object = object.in as z.ZodType;
    const shape = object instanceof z.ZodObject ? object.shape : {};
    for (const [name, field] of Object.entries(shape) as Array<[string, z.ZodType]>) {
      list.push({
        name,
        in: where,
        required: where === 'path' || !field.safeParse(undefined).success,
        schema: schemaOf(field, 'input'),
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  if (route.path.endsWith('/events')) {
    list.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^\\d+$' },
    });
  }
  return list;
}

/**
 * The OpenAPI 3.1 document of every route, generated from the same zod schemas that validate the
 * requests and describe the answers (no hand-written copy).
 */
export function buildOpenApi(routes: readonly RouteDef[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Json = {};
    for (const [status, response] of Object.entries(route.responses)) {
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
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string) => (c ? c.toUpperCase() : ''))}`,
      parameters: parameters(route),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
            },
          }
        : {}),
      responses,
      ...(route.auth === false ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ardoq → Azure DevOps sync API',
      version,
      description:
        'Starts syncs of Ardoq planning trees into Azure DevOps Boards and serves their exact history. Envelopes: `{ success, data }`, lists add `pagination`; errors `{ success: false, error, details? }`.',
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
