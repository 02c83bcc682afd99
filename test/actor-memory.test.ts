// One million distinct users through the ActorSystem (pure, no Redis): actors exist only while their user has work,
// so memory follows the work in flight, not how many users there have been.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const USERS = 1_000_000;
const WAVE = 100_000;

describe('ActorSystem memory', () => {
  it('levels off over 1 M distinct users: no actor outlives its work, the heap stays flat from wave to wave', async () => {
    const script = fileURLToPath(new URL('./support/actor-waves.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, String(USERS), String(WAVE)]);
    const { handled, waves } = JSON.parse(stdout) as { handled: number; waves: { heap: number; peak: number; after: number }[] };
    assert.equal(handled, USERS);
    assert.equal(waves.length, USERS / WAVE);
    for (const w of waves) {
      // A wave stands for what the intake has in hand at once (its in-flight cap); every user in it is new.
      assert.equal(w.peak, WAVE, 'one actor per user with work');
      assert.equal(w.after, 0, 'every actor is dropped once its mailbox is empty');
    }
    const mb = (n: number) => (n / 1048576).toFixed(1);
    const growth = waves.at(-1)!.heap - waves[1]!.heap;
    // Keeping even 16 bytes per user would add ~14 MB over the last 900 k users.
    assert.ok(growth < 4 * 1048576, `heap grew ${mb(growth)} MB from wave 2 to wave 10 (${waves.map((w) => mb(w.heap)).join(', ')} MB)`);
  });
});
