// Email to an address on the tenant's suppression list is recorded `suppressed` and never reaches SES; another
// tenant's list does not apply.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { suppressionMember } from '../src/domain/feedback.js';
import { makeKeys } from '../src/streams/keys.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';

let h: Harness;
let redis: Redis;

before(async () => {
  h = await startHarness('suppression');
  redis = new Redis(REDIS_URL);
  await h.api('PUT', '/v1/users/s1', { email: 'gone@example.com' });
  await h.api('PUT', '/v1/users/s2', { email: 'fine@example.com' });
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

const finished = (id: string) => eventually(async () => {
  const n = (await h.api('GET', `/v1/notifications/${id}`)).body;
  return n && !['accepted', 'processing'].includes(n.status) ? n : undefined;
}, 10_000, `${id} to finish`);

describe('suppression list', () => {
  it('does not send to a suppressed address', async () => {
    const keys = makeKeys(h.prefix);
    await redis.hset(keys.suppression('acme'), suppressionMember('GONE@example.com'), JSON.stringify({ reason: 'bounce' }));
    await redis.hset(keys.suppression('other'), suppressionMember('fine@example.com'), JSON.stringify({ reason: 'bounce' }));
    const post = (user_id: string) => h.api('POST', '/v1/notifications', { user_id, channels: ['email'], content: { subject: 'S', text: 'x' } });
    const gone = await finished((await post('s1')).body.id);
    assert.equal(gone.status, 'not_sent');
    assert.deepEqual([gone.deliveries[0].status, gone.deliveries[0].attempts], ['suppressed', 0]);
    const fine = await finished((await post('s2')).body.id);
    assert.equal(fine.deliveries[0].status, 'sent', 'another tenant\'s list does not apply');
    assert.deepEqual(h.fakes.received('ses').map((m) => m.to), ['fine@example.com']);
  });
});
