// nunjucks environments, sandboxed (sandbox.ts, check.ts), and a bounded cache of compiled templates; HTML parts
// autoescape, text parts do not.
import nunjucks from 'nunjucks';
import { checkTemplate, type Known } from './check.js';
import { installSandbox, MAX_TEXT, ownOnly, sandboxGlobals, SandboxError } from './sandbox.js';

installSandbox();

/** No loader (a template cannot reach another, or a file); globals, filters and tests without a prototype. */
function sandboxed(autoescape: boolean, strict: boolean): nunjucks.Environment {
  const env = new nunjucks.Environment(null, { autoescape, throwOnUndefined: strict });
  const e = env as unknown as { globals: object; filters: object; tests: object };
  e.globals = sandboxGlobals();
  e.filters = capped(ownOnly(e.filters) as Record<string, Filter>);
  e.tests = ownOnly(e.tests);
  return env;
}

type Filter = (this: unknown, ...args: unknown[]) => unknown;

/** Every filter's result held to MAX_TEXT, so `center(1e9)` or a `replace` that multiplies a string stops at once. */
function capped(filters: Record<string, Filter>): Record<string, Filter> {
  for (const [name, f] of Object.entries(filters)) {
    filters[name] = function (this: unknown, ...args: unknown[]) {
      const out = f.apply(this, args);
      if ((typeof out === 'string' || out instanceof String) && out.length > MAX_TEXT) {
        throw new SandboxError(`the ${name} filter made a text of ${out.length} characters, over the limit of ${MAX_TEXT}`);
      }
      return out;
    };
  }
  return filters;
}

/** [text, html] environments, lenient then strict. */
const envs = [[sandboxed(false, false), sandboxed(true, false)], [sandboxed(false, true), sandboxed(true, true)]] as const;
const textEnv = envs[0][0];
const known: Known = {
  filters: new Set(Object.keys((textEnv as unknown as { filters: object }).filters)),
  tests: new Set(Object.keys((textEnv as unknown as { tests: object }).tests)),
};

/** Fields whose output is HTML and so must be autoescaped. */
export const isHtmlField = (field: string): boolean => field === 'html';

/**
 * Checks the template against the sandbox (throws TemplateRefused) and compiles it eagerly so syntax errors surface
 * now (nunjucks' error, with line and column).
 */
export function compile(source: string, field: string, strict = false): nunjucks.Template {
  checkTemplate(source, known);
  return new nunjucks.Template(source, envs[strict ? 1 : 0][isHtmlField(field) ? 1 : 0], undefined, true);
}

/** Compiled templates keyed by "<template key>@<version>/<channel>.<field>"; oldest dropped first past `max`. */
export class CompiledCache {
  private readonly map = new Map<string, nunjucks.Template>();
  constructor(private readonly max = 5000) {}

  get(key: string, source: string, field: string, strict = false): nunjucks.Template {
    let t = this.map.get(key);
    if (!t) {
      t = compile(source, field, strict);
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, t);
    }
    return t;
  }

  get size(): number {
    return this.map.size;
  }
}
