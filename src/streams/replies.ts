// Decoding Redis' flat key/value replies (XINFO, stream entry fields).

/** `[k1, v1, k2, v2]` → `{k1: v1, k2: v2}`. */
export function pairs<V = unknown>(flat: readonly unknown[]): Record<string, V> {
  const o: Record<string, V> = {};
  for (let i = 0; i < flat.length; i += 2) o[String(flat[i])] = flat[i + 1] as V;
  return o;
}
