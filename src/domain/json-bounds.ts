// Pure: how deep and how big a parsed JSON value is, measured without recursion, so a hostile body (a thousand levels of
// nesting fit in a few kilobytes) is refused before anything recursive — JSON.stringify, a fingerprint, a template —
// ever sees it.

export interface JsonBounds {
  /** Most levels of objects and arrays: `{}` is 1, `{"a": [1]}` is 2. */
  maxDepth: number;
  /** Most bytes of the value as UTF-8 JSON (what JSON.stringify gives). */
  maxBytes: number;
}

export type JsonBoundsProblem = { kind: 'depth' } | { kind: 'size' };

/**
 * The first bound the value breaks, or undefined when it keeps both. Stops as soon as one is broken, so the work is at
 * most proportional to the bounds, whatever the value. Values are what JSON.parse gives (no functions, no toJSON).
 */
export function jsonBoundsProblem(value: unknown, bounds: JsonBounds): JsonBoundsProblem | undefined {
  let bytes = 0;
  // Values still to measure, with their depth; a container's own bytes are counted when it is taken off the stack.
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (v !== null && typeof v === 'object') {
      if (depth + 1 > bounds.maxDepth) return { kind: 'depth' };
      if (Array.isArray(v)) {
        // [ ] and the commas between the items (a missing item is written as null).
        bytes += 2 + Math.max(0, v.length - 1);
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i] === undefined ? null : v[i], depth: depth + 1 });
      } else {
        let members = 0;
        for (const k of Object.keys(v)) {
          const item = (v as Record<string, unknown>)[k];
          if (item === undefined || typeof item === 'function') continue;
          bytes += utf8Bytes(JSON.stringify(k)) + 1; // "key":
          members++;
          stack.push({ v: item, depth: depth + 1 });
          if (bytes > bounds.maxBytes) return { kind: 'size' };
        }
        bytes += 2 + Math.max(0, members - 1); // { } and the commas
      }
    } else {
      bytes += scalarBytes(v);
    }
    if (bytes > bounds.maxBytes) return { kind: 'size' };
  }
  return undefined;
}

function scalarBytes(v: unknown): number {
  if (typeof v === 'string') return utf8Bytes(JSON.stringify(v));
  if (typeof v === 'number') return Number.isFinite(v) ? String(v).length : 4; // NaN and Infinity are written as null
  if (typeof v === 'boolean') return v ? 4 : 5;
  return 4; // null (and anything JSON has no word for)
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
