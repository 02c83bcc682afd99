// Child-process workload for test/actor-memory.test.ts: tells waves of brand-new users to an ActorSystem and prints,
// per wave, the heap after a full GC and the actors alive at the wave's peak. Runs outside the test runner, whose
// async-context tracking would slow a million promises down several times.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ActorSystem } from '../../src/actors/actor-system.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const users = Number(process.argv[2] ?? 1_000_000);
const wave = Number(process.argv[3] ?? 100_000);

let handled = 0;
const sys = new ActorSystem<number>(async () => {
  await Promise.resolve();
  handled++;
}, () => process.exit(2));
const waves: { heap: number; peak: number; after: number }[] = [];
for (let start = 0; start < users; start += wave) {
  for (let u = start; u < start + wave; u++) sys.tell(`tenant\u0000user-${u}`, u);
  const peak = sys.size;
  await sys.idle();
  gc();
  waves.push({ heap: process.memoryUsage().heapUsed, peak, after: sys.size });
}
process.stdout.write(JSON.stringify({ handled, waves }));
