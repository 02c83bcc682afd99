// A corpus of template escapes: ways to reach constructors, prototypes, globals or Node from a nunjucks template,
// on every sandbox global, every built-in filter's result and every kind of literal.
import nunjucks from 'nunjucks';

const filters = Object.keys((new nunjucks.Environment(null) as unknown as { filters: object }).filters);
/** Code an escape would run: it would mark the thread and hand back the environment. */
export const PAYLOAD = '"return (globalThis.__escaped = true, process.env)"';

const bases = [
  'range', 'cycler', 'joiner', 'cycler(1, 2)', 'joiner()', 'range(3)', 'loop', 'caller', 'name', 'items', 'obj', 'x',
  '""', '"abc"', '[]', '[1]', '{}', '{a: 1}', '(1)', '(1.5)', 'true', 'none',
  ...filters.map((f) => `(items | ${f})`),
];
const chains = [
  '.constructor', '["constructor"]', '.constructor.constructor', '["constructor"]["constructor"]', '.__proto__', '["__proto__"]',
  '.__proto__.constructor', '.prototype', '.toString', '.valueOf', '.hasOwnProperty', '.__defineGetter__', '.__lookupGetter__',
  '.call', '.apply', '.bind', '.isPrototypeOf', '.propertyIsEnumerable', '.toLocaleString',
];

/** Refused before they are stored: each names something the sandbox never allows. */
export const STATIC_ESCAPES: string[] = [
  ...bases.flatMap((b) => chains.map((c) => `{{ ${b}${c}(${PAYLOAD})() }}`)),
  ...bases.flatMap((b) => ['.constructor', '.__proto__'].map((c) => `{{ ${b}${c} }}`)),
  '{{ constructor }}', '{{ __proto__ }}', '{{ toString() }}', '{{ valueOf() }}', '{{ hasOwnProperty("x") }}', '{{ prototype }}',
  '{% set constructor = 1 %}', '{% set __proto__ = obj %}', '{% set o = {"__proto__": range} %}', '{% set o = {constructor: 1} %}',
  '{% for __proto__ in items %}{% endfor %}', '{% macro toString() %}{% endmacro %}', '{% macro m(constructor) %}{% endmacro %}',
  '{{ x is constructor }}', '{{ x | constructor }}', '{{ x | valueOf }}', '{{ x is "x\\" + process + \\"" }}',
  '{% include "other" %}', '{% extends "other" %}', '{% import "other" as o %}', '{% from "other" import m %}',
  '{% set a";process;" = 1 %}', '{{ x["a\\\\"]() }}', '{% for a"b in items %}{% endfor %}',
];

export const ESCAPE_PARAMS = { name: 'Jo', items: ['b', 'a'], obj: { a: 1 }, x: 3, k: 'constructor', p: '__proto__', t: 'toString', v: 'valueOf', c: 'call' };

/** Pass the static check (the name is data) and must be refused while rendering. */
export const DYNAMIC_ESCAPES: string[] = bases.flatMap((b) => [
  `{{ ${b}[k] }}`, `{{ ${b}[k][k](${PAYLOAD})() }}`, `{{ ${b}[p] }}`, `{{ ${b}[p][k] }}`, `{{ ${b}[t]() }}`, `{{ ${b}[v]() }}`,
  `{{ ${b}[c]() }}`, `{{ ${b}["con" ~ "structor"] }}`, `{{ ${b}[("__pro" ~ "to__")] }}`,
]);
