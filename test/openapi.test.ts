// The OpenAPI document (src/http/openapi): valid OpenAPI 3.1, covering every route the app registers (a route added
// without an entry in src/http/openapi/routes.ts fails here), with the error catalogue as responses; served at
// /openapi.json with its reference page at /docs; and the README's request bodies valid against its schemas.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createApp, type AppDeps } from '../src/http/app.js';
import { ERRORS, type ErrorCode } from '../src/http/errors.js';
import { buildOpenApiDocument, openApiPath } from '../src/http/openapi/index.js';
import { startHarness, type Harness } from './support/harness.js';

type Json = Record<string, any>;
const doc = buildOpenApiDocument() as Json;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/** The app with every optional part on (webhooks, alerts, the sandbox listings): the deps are only used by requests. */
function fullApp() {
  const stub = {} as never;
  const deps = {
    apiKeys: new Map(), maxBodyBytes: 1024, metrics: stub, ready: async () => ({}), log: stub,
    users: stub, templates: stub, knownTemplates: stub, notifications: { controls: {} }, deadLetters: stub,
    feedback: { apply: stub, metrics: stub, log: stub, maxBodyBytes: 1024 },
    webhooks: { redis: stub, prefix: 'p', config: stub }, alerts: { redis: stub, prefix: 'p', config: stub },
    sandboxMessages: async () => [], sandboxAlerts: async () => [],
  } as unknown as AppDeps;
  return createApp(deps);
}

/** "GET /v1/users/{user_id}" for each route the app registers (middleware, method ALL, left out). */
const registered = () => [...new Set(fullApp().routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${openApiPath(r.path)}`))].sort();
const documented = () => Object.entries(doc.paths as Json)
  .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`)).sort();
const operations = () => Object.values(doc.paths as Json).flatMap((item) => METHODS.filter((m) => item[m]).map((m) => item[m] as Json));
/** The codes an error response (inline, or one of components.responses) names. */
const codesOf = (response: Json): string[] => response.content?.['application/json']?.schema?.allOf?.[1]?.properties?.error?.properties?.code?.enum ?? [];

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    assert.deepEqual(result.errors ?? [], [], 'no schema errors');
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
  });

  it('documents every route the app registers, and only those', () => {
    const routes = registered();
    assert.ok(routes.length > 40, `the app registers its routes (${routes.length})`);
    assert.ok(routes.includes('POST /v1/notifications') && routes.includes('GET /v1/webhooks/{name}/attempts'));
    const missing = routes.filter((r) => !documented().includes(r));
    assert.deepEqual(missing, [], 'registered but not in src/http/openapi/routes.ts');
    const stale = documented().filter((r) => !routes.includes(r));
    assert.deepEqual(stale, [], 'documented but not registered');
  });

  it('declares the bearer API key, and opens only the routes that take none', () => {
    assert.deepEqual(doc.components.securitySchemes.apiKey, { ...doc.components.securitySchemes.apiKey, type: 'http', scheme: 'bearer' });
    assert.deepEqual(doc.security, [{ apiKey: [] }]);
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const m of METHODS.filter((x) => item[x])) {
        const op = item[m] as Json;
        const open = op.security !== undefined && op.security.length === 0;
        const shouldBeOpen = !path.startsWith('/v1/') || path.startsWith('/v1/feedback/');
        assert.equal(open, shouldBeOpen, `${m.toUpperCase()} ${path} ${shouldBeOpen ? 'needs no key' : 'needs the key'}`);
        assert.equal(op.responses['401'] !== undefined, !open, `${m.toUpperCase()} ${path}: 401 exactly when a key is needed`);
      }
    }
  });

  it('has the error catalogue as responses: the shared Error schema, each code under its status', () => {
    const codes = Object.keys(ERRORS) as ErrorCode[];
    assert.deepEqual(doc.components.schemas.ErrorCode.enum, codes);
    const error = doc.components.schemas.Error;
    assert.deepEqual(error.required, ['error']);
    assert.deepEqual(Object.keys(error.properties.error.properties), ['code', 'message', 'field']);
    for (const code of codes) {
      assert.deepEqual(codesOf(doc.components.responses[code]), [code], `components.responses.${code}`);
      assert.match(doc.components.responses[code].description, new RegExp(`^${ERRORS[code].status}:`));
    }
    // Each operation's error responses: under the catalogue's status for the code, each code with an example.
    const used = new Set<string>();
    for (const op of operations()) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        for (const code of codesOf(response)) {
          assert.equal(String(ERRORS[code as ErrorCode].status), status, `${op.operationId}: ${code} under ${status}`);
          assert.equal(response.content['application/json'].examples[code].value.error.code, code);
          used.add(code);
        }
      }
    }
    // 405 is about the methods a path does not take, not any one operation: it is in components.responses.
    assert.deepEqual(codes.filter((c) => !used.has(c)), ['method_not_allowed'], 'every other code is some route\'s response');
    const send = doc.paths['/v1/notifications'].post.responses;
    assert.deepEqual([...codesOf(send['422'])].sort(), ['idempotency_key_reused', 'template_not_found', 'too_many_recipients', 'validation_failed']);
    assert.ok(send['429'].headers['Retry-After'], '429 says Retry-After');
  });
});

/** A JSON Schema validator for the document's component schemas (OpenAPI 3.1 schemas are JSON Schema 2020-12). */
function schemaValidator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  (addFormatsModule as unknown as { default: (a: Ajv2020) => void }).default(ajv);
  for (const [name, schema] of Object.entries(doc.components.schemas as Json)) ajv.addSchema(schema, `#/components/schemas/${name}`);
  return (ref: string, value: unknown) => {
    const validate = ajv.getSchema(ref);
    assert.ok(validate, `schema ${ref}`);
    return { ok: validate(value) as boolean, errors: validate.errors };
  };
}

/** The README's curl commands against the API: method, path and the JSON body (shell substitutions filled in). */
function readmeRequests(): { method: string; path: string; body: unknown }[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));
  const substitute = (cmd: string): string => {
    if (cmd.startsWith('date ')) return new Date(Date.now() + 3_600_000).toISOString();
    const printf = /^printf '([^%']*)%\.0s' \{1\.\.(\d+)\}$/.exec(cmd);
    if (printf) return printf[1]!.repeat(Number(printf[2]));
    throw new Error(`a shell substitution the test does not know: $(${cmd})`);
  };
  return blocks.flatMap((b) => b.split('\n')).flatMap((line) => {
    const m = /curl [^|]*?(?:-X(\w+) )?"?localhost:3000(\/[^\s"?]*)[^|]*?-d '((?:[^']|'\$\([^)]*\)')*)'/.exec(line);
    if (!m) return [];
    const body = m[3]!.replace(/'\$\(([^)]*)\)'/g, (_all, cmd: string) => substitute(cmd));
    return [{ method: (m[1] ?? 'POST').toLowerCase(), path: m[2]!, body: JSON.parse(body) as unknown }];
  });
}

/** The documented path a concrete one is (fixed segments before parameters, as the router decides). */
function documentedPath(path: string): string | undefined {
  const candidates = Object.keys(doc.paths as Json).filter((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
  const score = (p: string) => p.split('/').map((s) => (s.startsWith('{') ? '1' : '2')).join('');
  return candidates.sort((a, b) => score(b).localeCompare(score(a)))[0];
}

describe('the README\'s request bodies', () => {
  it('validate against the documented request schemas (and the schemas refuse what the API refuses)', () => {
    const check = schemaValidator();
    const requests = readmeRequests();
    assert.ok(requests.filter((r) => r.method === 'post' && r.path === '/v1/notifications').length >= 3, 'the README sends notifications');
    for (const r of requests) {
      const path = documentedPath(r.path);
      assert.ok(path, `${r.method} ${r.path} is documented`);
      const ref = doc.paths[path][r.method]?.requestBody?.content?.['application/json']?.schema?.$ref as string | undefined;
      assert.ok(ref, `${r.method.toUpperCase()} ${path} documents a JSON body`);
      const result = check(ref, r.body);
      assert.ok(result.ok, `${r.method.toUpperCase()} ${r.path} ${JSON.stringify(r.body)}: ${JSON.stringify(result.errors)}`);
    }
    const notification = '#/components/schemas/NotificationRequest';
    assert.equal(check(notification, { user_id: 'jérôme', content: { text: 'x' } }).ok, false, 'a malformed user id');
    assert.equal(check(notification, { user_id: 'jane', content: { text: 'x' }, colour: 'red' }).ok, false, 'an unknown key');
    assert.equal(check(notification, { user_id: 'jane', channels: ['fax'], content: { text: 'x' } }).ok, false, 'an unknown channel');
  });
});

describe('served by the ingress', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('openapi');
  });
  after(() => h.stop());

  it('GET /openapi.json answers the document without an API key', async () => {
    const res = await fetch(`${h.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), doc);
  });

  it('GET /docs answers the reference page, which reads /openapi.json', async () => {
    const res = await fetch(`${h.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /<html/i);
    assert.ok(html.includes('/openapi.json'), 'the page points at /openapi.json');
    assert.equal((await fetch(`${h.url}/docs`, { method: 'POST' })).status, 405, 'the method guard knows the routes');
  });

  it('asks for the API key exactly where the document says', async () => {
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const m of METHODS.filter((x) => item[x])) {
        const res = await fetch(h.url + path.replace(/\{[^}]+\}/g, 'x'), { method: m.toUpperCase() });
        await res.arrayBuffer();
        const open = (item[m] as Json).security?.length === 0;
        assert.equal(res.status === 401, !open, `${m.toUpperCase()} ${path} without a key: ${res.status}`);
      }
    }
  });
});
