// nunjucks environments and a bounded cache of compiled templates; HTML parts autoescape, text parts do not.
import nunjucks from 'nunjucks';

const textEnv = new nunjucks.Environment(null, { autoescape: false });
const htmlEnv = new nunjucks.Environment(null, { autoescape: true });

/** Fields whose output is HTML and so must be autoescaped. */
export const isHtmlField = (field: string): boolean => field === 'html';

/** Compiles eagerly so syntax errors surface now; throws nunjucks' error (with line and column). */
export function compile(source: string, field: string): nunjucks.Template {
  return new nunjucks.Template(source, isHtmlField(field) ? htmlEnv : textEnv, undefined, true);
}

/** Compiled templates keyed by "<template key>@<version>/<channel>.<field>"; oldest dropped first past `max`. */
export class CompiledCache {
  private readonly map = new Map<string, nunjucks.Template>();
  constructor(private readonly max = 5000) {}

  get(key: string, source: string, field: string): nunjucks.Template {
    let t = this.map.get(key);
    if (!t) {
      t = compile(source, field);
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, t);
    }
    return t;
  }

  get size(): number {
    return this.map.size;
  }
}
