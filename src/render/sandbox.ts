// The runtime half of the template sandbox. nunjucks compiles a template to JavaScript whose every property read,
// call and variable lookup goes through its `runtime` module; these replacements let a template read only the own
// data of the values it is given (params, literals, loop state), call only the functions the sandbox hands out
// (range, cycler, joiner, its own macros) and never reach a prototype, a constructor, a global or Node.
// The static half, which refuses such templates before they are stored, is check.ts.
import nunjucks from 'nunjucks';

/** A template tried something the sandbox does not allow; the render fails with this message. */
export class SandboxError extends Error {
  override name = 'SandboxError';
}

/** The names a template may never look up or set: everything on Object.prototype, and the ways into functions. */
export const DENIED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype', 'call', 'apply', 'bind']);

/** Most items a `range()` may produce (a loop beyond it is refused at once instead of running out the budget). */
export const MAX_RANGE = 10_000;

/** Longest text a render (each part) or a filter may produce: the largest any channel takes (email, 1 MiB). */
export const MAX_TEXT = 1_048_576;

const callable = new WeakSet<object>();
const allow = <F extends (...args: never[]) => unknown>(fn: F): F => (callable.add(fn), fn);
const hasOwn = (obj: unknown, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function denied(name: unknown): boolean {
  return typeof name !== 'number' && (typeof name !== 'string' || DENIED_NAMES.has(name) || name.startsWith('__'));
}

/** `a.b` and `a[b]`: an own property of data (not of a function), never a denied name; a function only if callable. */
function memberLookup(obj: unknown, key: unknown): unknown {
  if (obj === undefined || obj === null) return undefined;
  if (denied(key)) throw new SandboxError(`looking up "${String(key)}" is not allowed in templates`);
  if (typeof obj === 'function') throw new SandboxError(`looking up "${String(key)}" on a function is not allowed in templates`);
  if (!hasOwn(obj, key as PropertyKey)) return undefined;
  const value = (obj as Record<PropertyKey, unknown>)[key as PropertyKey];
  if (typeof value !== 'function') return value;
  if (!callable.has(value)) throw new SandboxError(`"${String(key)}" is a function templates may not use`);
  return allow((...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(obj, args));
}

function callWrap(fn: unknown, name: string, context: unknown, args: unknown[]): unknown {
  if (typeof fn !== 'function') throw new SandboxError(`unable to call ${name}: it is not a function`);
  if (!callable.has(fn)) throw new SandboxError(`calling ${name} is not allowed in templates`);
  return fn.apply(context, args);
}

interface Frame { lookup(name: string): unknown }
interface Context { ctx: Record<string, unknown>; env: { globals: Record<string, unknown> } }

/** A variable: the template's own (frame), then a param (own property), then a sandbox global; never inherited. */
function contextOrFrameLookup(context: Context, frame: Frame, name: string): unknown {
  if (denied(name)) throw new SandboxError(`the variable "${name}" is not allowed in templates`);
  const local = frame.lookup(name);
  if (local !== undefined) return local;
  if (hasOwn(context.ctx, name)) return context.ctx[name];
  return hasOwn(context.env.globals, name) ? context.env.globals[name] : undefined;
}

function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  for (const [what, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SandboxError(`range(): ${what} must be a number`);
  }
  if (step === 0) throw new SandboxError('range(): step must not be 0');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE) throw new SandboxError(`range() of ${count} items is over the limit of ${MAX_RANGE}`);
  return Array.from({ length: count }, (_, i) => start + i * step);
}

function cycler(...items: unknown[]): { current: unknown; next: () => unknown; reset: () => void } {
  let index = -1;
  const c = {
    current: null as unknown,
    next: allow(() => (index = (index + 1) % Math.max(1, items.length), (c.current = items[index]))),
    reset: allow(() => { index = -1; c.current = null; }),
  };
  return c;
}

function joiner(sep = ','): () => string {
  let first = true;
  return allow(() => (first ? ((first = false), '') : sep));
}

/** The only globals a template sees (a fresh object without a prototype for each environment). */
export function sandboxGlobals(): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, { range: allow(range), cycler: allow(cycler), joiner: allow(joiner) });
}

/** A copy without a prototype, so a name that is not there is not found on Object.prototype either. */
export const ownOnly = <T extends object>(o: T): T => Object.assign(Object.create(null) as T, o);

let installed = false;

/** Puts the sandbox into nunjucks' runtime (once per thread; every template of this thread then runs in it). */
export function installSandbox(): void {
  if (installed) return;
  installed = true;
  const runtime = nunjucks.runtime as unknown as Record<string, unknown>;
  const makeMacro = runtime.makeMacro as (...a: unknown[]) => (...args: never[]) => unknown;
  Object.assign(runtime, {
    memberLookup, callWrap, contextOrFrameLookup,
    makeMacro: (...a: unknown[]) => allow(makeMacro(...a)),
  });
}
