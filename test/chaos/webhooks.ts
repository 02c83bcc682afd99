// The chaos ledger's check of the webhooks: with an endpoint taking delivery.sent, once the scenario has settled every
// delivery Redis shows as sent has reached the endpoint (at least once), whatever was killed mid-batch.
import assert from 'node:assert/strict';
import { startReceiver, type Receiver } from '../support/webhooks.js';
import type { Cluster } from './cluster.js';
import type { Ledger } from './ledger.js';
import type { Chaos } from './scenario.js';
import type { Settled } from './verify.js';

/** Leases of 3 s: a killed worker's dispatching and sending are taken over within the check's wait. */
export const WEBHOOK_ENV = { NOTIFY_WEBHOOKS: 'on', NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'on', NOTIFY_WEBHOOK_POLL_MS: '100', NOTIFY_WEBHOOK_LEASE_MS: '3000' };

const open = new Set<Receiver>();

/** Closes the receivers of scenarios that failed before their check. */
export const closeReceivers = async (): Promise<void> => void (await Promise.all([...open].map((r) => r.close())));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `run` with an endpoint set up first; its check waits (bounded) for a delivery.sent of every sent delivery. */
export function withWebhooks(run: (c: Cluster, ledger: Ledger) => Promise<Chaos>) {
  return async (c: Cluster, ledger: Ledger): Promise<Chaos> => {
    const rx = await startReceiver();
    open.add(rx);
    const put = await c.api('PUT', '/v1/webhooks/chaos', { url: rx.url, events: ['delivery.sent'] });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const chaos = await run(c, ledger);
    return {
      ...chaos,
      check: async (s: Settled, cl: Cluster) => {
        await chaos.check?.(s, cl);
        try {
          await checkWebhooks(s, rx);
        } finally {
          open.delete(rx);
          await rx.close();
        }
      },
    };
  };
}

async function checkWebhooks(s: Settled, rx: Receiver, timeoutMs = 60_000): Promise<void> {
  const wanted = new Set<string>();
  for (const [id, v] of s.views) for (const d of v?.deliveries ?? []) if (d.status === 'sent') wanted.add(`${id}|${d.user_id}|${d.channel}`);
  const missing = (): string[] => {
    const got = new Set(rx.got.map((r) => `${r.json.data.notification_id}|${r.json.data.user_id}|${r.json.data.channel}`));
    return [...wanted].filter((k) => !got.has(k));
  };
  for (const deadline = Date.now() + timeoutMs; missing().length > 0 && Date.now() < deadline;) await sleep(250);
  const left = missing();
  assert.ok(wanted.size > 0, 'something was sent');
  assert.deepEqual(left.length, 0, `${left.length} of ${wanted.size} sent deliveries never reached the webhook endpoint: ${left.slice(0, 5).join(', ')}`);
}
