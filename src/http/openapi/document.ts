// The OpenAPI 3.1 document, built from the route table (./routes.ts), the zod schemas the handlers validate with
// (converted by zod's own z.toJSONSchema: OpenAPI 3.1 schemas are JSON Schema 2020-12) and the error catalogue.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../errors.js';
import { ROUTES, type Header, type Named, type RouteDoc, type Success } from './routes.js';

type Json = Record<string, unknown>;

/** /v1/users/:user_id → /v1/users/{user_id} */
export const openApiPath = (honoPath: string): string => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** A zod schema as the JSON Schema of what a client sends (defaults optional, transforms' input). */
export function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const isNamed = (b: unknown): b is Named => typeof b === 'object' && b !== null && 'name' in b && 'schema' in b;
/** The route's JSON body schema, when it takes one validated with zod. */
const jsonBody = (r: RouteDoc): { schema: Named; mediaTypes?: string[] } | undefined => (r.body && !('mediaType' in r.body) ? r.body : undefined);
const RETRY_AFTER: Header = { name: 'Retry-After', description: 'seconds to wait before trying again', schema: { type: 'integer' } };
const ALLOW: Header = { name: 'Allow', description: 'the methods the path takes', schema: { type: 'string' } };

/** The error codes a route can answer: its own, and those of every route of its kind. */
export function errorCodes(r: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(r.errors);
  if (r.auth === 'apiKey') codes.add('unauthorized');
  if (jsonBody(r)) {
    for (const c of ['invalid_json', 'unsupported_media_type', 'payload_too_large', 'validation_failed'] as const) codes.add(c);
  }
  if (r.params || r.query) codes.add('validation_failed');
  if (!r.noStorage) codes.add('unavailable');
  codes.add('internal');
  return [...codes];
}

/** The shared Error schema narrowed to some codes, with an example of each. */
function errorContent(codes: readonly ErrorCode[]): Json {
  return {
    'application/json': {
      schema: { allOf: [ref('Error'), { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } }] },
      examples: Object.fromEntries(codes.map((code) => [code, { summary: code, value: { error: { code, message: ERRORS[code].message } } }])),
    },
  };
}

const headers = (hs: readonly Header[]) => Object.fromEntries(hs.map((h) => [h.name, { description: h.description, schema: h.schema ?? { type: 'string' } }]));
const errorHeaders = (status: number): Header[] => (status === 429 || status === 503 ? [RETRY_AFTER] : status === 405 ? [ALLOW] : []);

function errorResponses(codes: readonly ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, cs]) => {
    const extra = errorHeaders(status);
    return [String(status), {
      description: cs.map((c) => `\`${c}\`: ${ERRORS[c].message}`).join('; '),
      ...(extra.length > 0 && { headers: headers(extra) }),
      content: errorContent(cs),
    }];
  }));
}

function successResponse(s: Success): Json {
  const schema = s.body === undefined ? undefined : isNamed(s.body) ? ref(s.body.name) : s.body;
  return {
    description: s.description,
    ...(s.headers && { headers: headers(s.headers) }),
    ...(schema && { content: { [s.mediaType ?? 'application/json']: { schema } } }),
  };
}

function operationId(r: RouteDoc): string {
  const words = r.path.split('/').filter(Boolean).map((seg) => (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg));
  return [r.method.toLowerCase(), ...words].join('-').split(/[-_.]/).map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

function parameters(r: RouteDoc): Json[] {
  const inPath = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  const given = Object.keys(r.params ?? {});
  if (inPath.join() !== given.join()) throw new Error(`${r.method} ${r.path}: path parameters ${inPath.join(', ')} but documented ${given.join(', ')}`);
  const out: Json[] = inPath.map((name) => ({
    name, in: 'path', required: true, description: r.params![name]!.description, schema: { type: 'string', pattern: r.params![name]!.pattern.source },
  }));
  const extra = r.query?.extra ?? [];
  if (r.query?.schema) {
    const js = jsonSchema(r.query.schema);
    const props = js.properties as Record<string, Json> | undefined;
    if (!props) throw new Error(`${r.method} ${r.path}: the query schema is not an object`);
    const required = new Set((js.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(props)) {
      if (extra.some((p) => p.name === name)) continue;
      out.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  for (const p of extra) out.push({ name: p.name, in: 'query', required: p.required ?? false, description: p.description, schema: p.schema });
  for (const h of r.headers ?? []) out.push({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema: h.schema ?? { type: 'string' } });
  return out;
}

function operation(r: RouteDoc): Json {
  const params = parameters(r);
  let requestBody: Json | undefined;
  const body = jsonBody(r);
  if (body) {
    const schema = ref(body.schema.name);
    requestBody = { required: true, content: Object.fromEntries((body.mediaTypes ?? ['application/json']).map((t) => [t, { schema }])) };
  } else if (r.body && 'mediaType' in r.body) {
    requestBody = { required: true, description: r.body.description, content: { [r.body.mediaType]: { schema: r.body.schema } } };
  }
  return {
    operationId: operationId(r),
    tags: [r.tag],
    summary: r.summary,
    ...(r.description && { description: r.description }),
    ...(r.auth !== 'apiKey' && { security: [] }),
    ...(params.length > 0 && { parameters: params }),
    ...(requestBody && { requestBody }),
    responses: {
      ...Object.fromEntries(r.ok.map((s) => [String(s.status), successResponse(s)])),
      ...errorResponses(errorCodes(r)),
    },
  };
}

/** Every zod schema the routes name, as components.schemas (a name used twice must be the same schema). */
function namedSchemas(routes: readonly RouteDoc[]): Record<string, Json> {
  const found = new Map<string, z.ZodType>();
  const add = (n: Named) => {
    const seen = found.get(n.name);
    if (seen !== undefined && seen !== n.schema) throw new Error(`two schemas are named ${n.name}`);
    found.set(n.name, n.schema);
  };
  for (const r of routes) {
    const body = jsonBody(r);
    if (body) add(body.schema);
    for (const s of r.ok) if (isNamed(s.body)) add(s.body);
  }
  return Object.fromEntries([...found].map(([name, schema]) => [name, jsonSchema(schema)]));
}

const CODES = Object.keys(ERRORS) as ErrorCode[];

export function buildOpenApiDocument(routes: readonly RouteDoc[] = ROUTES): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const path = (paths[openApiPath(r.path)] ??= {});
    const method = r.method.toLowerCase();
    if (path[method]) throw new Error(`${r.method} ${r.path} is documented twice`);
    path[method] = operation(r);
  }
  const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return {
    openapi: '3.1.0',
    info: {
      title: 'notify-streams',
      version,
      description: [
        'Notifications by push (APNs, FCM), SMS and email, accepted over HTTP and delivered from Redis Streams.',
        'Every /v1 request needs `Authorization: Bearer <api key>`; the key decides the tenant.',
        'Errors are JSON `{"error": {"code", "message", "field"?}}` (the Error schema).',
        'A method a path does not take is a 405 `method_not_allowed` with `Allow` (OPTIONS: 204 with `Allow`), decided before the key is checked.',
      ].join(' '),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: "The tenant's API key (NOTIFY_API_KEYS): `Authorization: Bearer <key>`." },
      },
      schemas: {
        ...namedSchemas(routes),
        ErrorCode: {
          type: 'string', enum: CODES,
          description: CODES.map((c) => `\`${c}\` (${ERRORS[c].status}): ${ERRORS[c].message}`).join('\n'),
        },
        Error: {
          type: 'object', required: ['error'], additionalProperties: false,
          properties: {
            error: {
              type: 'object', required: ['code', 'message'], additionalProperties: false,
              properties: {
                code: ref('ErrorCode'),
                message: { type: 'string' },
                field: { type: 'string', description: 'the field (or path or query parameter) at fault, as a dotted path' },
              },
            },
          },
        },
      },
      // The whole catalogue, one response per code (the operations group theirs by status).
      responses: Object.fromEntries(CODES.map((code) => {
        const extra = errorHeaders(ERRORS[code].status);
        return [code, {
          description: `${ERRORS[code].status}: ${ERRORS[code].message}`,
          ...(extra.length > 0 && { headers: headers(extra) }),
          content: errorContent([code]),
        }];
      })),
    },
  };
}

let built: Json | undefined;
/** The document for ROUTES, built on first use. */
export function openApiDocument(): Json {
  return (built ??= buildOpenApiDocument());
}
