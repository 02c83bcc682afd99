// Reading a process's Prometheus text (/metrics) in tests: missing metrics fail instead of reading as 0.
import assert from 'node:assert/strict';

/** The value of the first line of `name` whose labels contain `labels` (e.g. `provider="ses"`); fails when none does. */
export async function metric(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => (labels ? l.startsWith(`${name}{`) && l.includes(labels) : l.startsWith(`${name} `)));
  assert.ok(line, `${name}{${labels}} is exported`);
  return Number(line.split(' ').at(-1));
}

/** A text exposition as a sum over the samples of `name` whose labels include `match`. */
export function parseMetrics(text: string): (name: string, match: Record<string, string>) => number {
  const samples = text.split('\n').flatMap((line) => {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) return [];
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    return [{ name: m[1]!, labels, value: Number(m[3]) }];
  });
  return (name, match) => samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}
