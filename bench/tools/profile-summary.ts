// Summarises a V8 .cpuprofile: top functions by self time, and self time grouped by package / source file.
// Usage: node --import tsx bench/tools/profile-summary.ts <file.cpuprofile> [--top 30] [--callers NAME] [--stages]
//   --stages: CPU by pipeline stage (each sample goes to the nearest own source file on its stack).
//   also: inclusive time of this project's own functions (src/, bench/), and with --callers the stacks leading to NAME.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile { nodes: Node[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, callers: { type: 'string' }, stages: { type: 'boolean', default: false } } });
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const totalUs = p.endTime - p.startTime;

// Self time per node from samples × deltas.
const self = new Map<number, number>();
if (p.samples && p.timeDeltas) {
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
}
const byId = new Map(p.nodes.map((n) => [n.id, n]));

function where(url: string): string {
  if (!url) return '(native/VM)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.search(/\/(src|bench|test)\/(?!\.build\/)/);
  return src >= 0 ? url.slice(src + 1) : url;
}

const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || '(anonymous)';
  const w = where(n.callFrame.url);
  const key = `${name}  ${w}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  pkg.set(w, (pkg.get(w) ?? 0) + us);
}
const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)} %`;
const top = Number(values.top);
process.stdout.write(`${file}: ${(totalUs / 1e6).toFixed(1)} s profiled, ${pct(totalUs - idle).trim()} busy\n\nself time by package / file:\n`);
for (const [k, v] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);
process.stdout.write('\nself time by function:\n');
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);

// Inclusive time of the project's own functions (a function counted once per stack, so recursion is not doubled).
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: Node) => `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const own = (n: Node) => /\/(src|bench)\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');
const incl = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    if (!own(n)) continue;
    const k = keyOf(n);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
}
process.stdout.write('\ninclusive time of own functions (src/, bench/):\n');
for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);

if (values.callers) {
  const stacks = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName !== values.callers) continue;
    const chain: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && chain.length < 8; cur = parent.get(cur)) chain.push(keyOf(byId.get(cur)!));
    const k = chain.join('  <  ');
    stacks.set(k, (stacks.get(k) ?? 0) + us);
  }
  process.stdout.write(`\ncallers of ${values.callers}:\n`);
  for (const [k, v] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stdout.write(`${pct(v)}  ${k}\n`);
}

if (values.stages) {
  // Nearest own frame from the leaf decides; samples with none go by the leaf's package.
  const STAGES: [RegExp, string][] = [
    [/src\/(providers\/|actors\/provider-gate)/, 'send: provider adapter + SDK (APNs: node-apn, http2)'],
    [/src\/domain\/entry/, 'intake: parse + validate ingest entries'],
    [/src\/(actors\/(user-actor|commit-unit|intake-io|reentry|gate-task)|domain\/(plan|user|content|gates|rate-limit|quiet-hours|coalesce|controls)|store\/)/, 'user actors: load, plan, encode commit'],
    [/src\/actors\/(intake|actor-system|mailbox)/, 'intake: actor dispatch, acks'],
    [/src\/(actors\/channel-actor|domain\/outcome|domain\/retry)/, 'channel actors: outcome + commit'],
    [/src\/render\//, 'render pool (main-thread side)'],
    [/src\/streams\//, 'stream reads / scripts'],
    [/src\/actors\/batcher/, 'batchers (flush)'],
    [/src\/telemetry|src\/log/, 'metrics / logs'],
    [/src\//, 'other own code'],
  ];
  const stage = new Map<string, number>();
  for (const [id, us] of self) {
    const leaf = byId.get(id)!;
    const fnName = leaf.callFrame.functionName;
    let name: string | undefined;
    if (fnName === '(idle)') name = '(idle)';
    else if (fnName === '(garbage collector)') name = 'garbage collector';
    else {
      for (let cur: number | undefined = id; cur !== undefined && !name; cur = parent.get(cur)) {
        const n = byId.get(cur)!;
        if (!own(n)) continue;
        name = STAGES.find(([re]) => re.test(n.callFrame.url))?.[1];
      }
      name ??= `no own frame: ${where(leaf.callFrame.url)}`;
    }
    stage.set(name, (stage.get(name) ?? 0) + us);
  }
  process.stdout.write('\nCPU by stage (nearest own frame on the stack):\n');
  for (const [k, v] of [...stage].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);
}
