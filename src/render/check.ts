// The static half of the template sandbox: walks a parsed template and refuses, with line and column, what the
// sandbox would refuse at render time (denied names, other templates, unknown filters and tests) and the names
// nunjucks would copy into its generated JavaScript unescaped. Both PUT and every compile run it.
import nunjucks from 'nunjucks';
import { DENIED_NAMES } from './sandbox.js';

/** What a template may not do, and where (1-based line and column, as an editor shows them). */
export class TemplateRefused extends Error {
  override name = 'TemplateRefused';
  constructor(reason: string, readonly line: number, readonly column: number) {
    super(`${reason} (line ${line}, column ${column})`);
  }
}

interface Node {
  typename: string;
  fields: string[];
  lineno: number;
  colno: number;
  value?: unknown;
  [field: string]: unknown;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Tags that load or extend other templates (there are none to load: every template stands alone) or run extensions. */
const REFUSED_TAGS: Record<string, string> = {
  Include: 'include', Extends: 'extends', Import: 'import', FromImport: 'from … import', Super: 'super()',
  CallExtension: 'extension tags', CallExtensionAsync: 'extension tags', FilterAsync: 'async filters',
};

/** nunjucks' parser (exported, but not in its type definitions). */
const parser = (nunjucks as unknown as { parser: { parse(src: string, extensions: unknown[], opts: object): Node } }).parser;

export interface Known {
  filters: ReadonlySet<string>;
  tests: ReadonlySet<string>;
}

/** A template that does not parse, with where (nunjucks' own error says it only once prettified, with a path). */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

/** Parses `source` (throws TemplateSyntaxError) and refuses what the sandbox does not allow (TemplateRefused). */
export function checkTemplate(source: string, known: Known): void {
  let ast: Node;
  try {
    ast = parser.parse(source, [], {});
  } catch (err) {
    const e = err as { message?: string; lineno?: number; colno?: number };
    const where = e.lineno !== undefined ? ` (line ${e.lineno}${e.colno !== undefined ? `, column ${e.colno}` : ''})` : ' (at the end of the template)';
    throw new TemplateSyntaxError(`${String(e.message ?? err).trim()}${where}`);
  }
  visit(ast, known);
}

function visit(node: unknown, known: Known): void {
  if (Array.isArray(node)) return node.forEach((n) => visit(n, known));
  if (!isNode(node)) return;
  checkNode(node, known);
  for (const f of node.fields) visit(node[f], known);
  if (Array.isArray(node.children)) visit(node.children, known);
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).typename === 'string';

function checkNode(node: Node, known: Known): void {
  const refuse = (reason: string): never => {
    throw new TemplateRefused(reason, node.lineno + 1, node.colno + 1);
  };
  const tag = REFUSED_TAGS[node.typename];
  if (tag) refuse(`${tag} is not supported in templates`);
  switch (node.typename) {
    case 'Symbol':
      return checkName(String(node.value), refuse);
    case 'LookupVal':
      return checkKey(node.val, refuse);
    case 'Pair':
      return checkKey(node.key, refuse);
    case 'Filter':
      return checkKnown('filter', nameOf(node.name), known.filters, refuse);
    case 'Is':
      return checkKnown('test', nameOf(node.right), known.tests, refuse);
  }
}

function checkName(name: string, refuse: (reason: string) => never): void {
  if (!IDENTIFIER.test(name)) refuse(`"${name}" is not a valid name (letters, digits and _, not starting with a digit)`);
  if (DENIED_NAMES.has(name) || name.startsWith('__')) refuse(`"${name}" is not allowed in templates`);
}

/** A key written as a literal (`a["b"]`, `{"b": 1}`): no denied name, and no quote or backslash (nunjucks copies it into code). */
function checkKey(key: unknown, refuse: (reason: string) => never): void {
  if (!isNode(key) || key.typename !== 'Literal' || typeof key.value !== 'string') return;
  const k = key.value;
  if (DENIED_NAMES.has(k) || k.startsWith('__')) refuse(`"${k}" is not allowed in templates`);
  if (/["\\\n\r]/.test(k)) refuse('a key may not contain quotes, backslashes or line breaks');
}

/** A filter's or test's name: a symbol, or the symbol a call is made on (`divisibleby(3)`). */
function nameOf(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  if (node.typename === 'Symbol') return String(node.value);
  if (node.typename === 'FunCall' && isNode(node.name) && node.name.typename === 'Symbol') return String(node.name.value);
  return undefined;
}

function checkKnown(what: string, name: string | undefined, names: ReadonlySet<string>, refuse: (reason: string) => never): void {
  if (name === undefined) refuse(`a ${what} must be named`);
  else if (!names.has(name)) refuse(`unknown ${what} "${name}"`);
}
