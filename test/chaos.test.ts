// Chaos suite (bounded; `npm run test:chaos` for the full form): a ledger shows every 202 ends in exactly one terminal state under kills, stops, outages and storms.
import { after, describe, it } from 'node:test';
import { closeAll } from './chaos/cluster.js';
import { printTable } from './chaos/report.js';
import { FULL } from './chaos/scale.js';
import { dropSchema, historySchema } from './support/history.js';
import { runScenario } from './chaos/scenario.js';
import { closeReceivers, WEBHOOK_ENV, withWebhooks } from './chaos/webhooks.js';
import {
  calm, duplicates, poison, providerStorm, redisKill, slowProviderStop, slowSends, SLOW_CLAIM_IDLE_MS, SLOW_STOP_ENV, workerKill, workerStop,
} from './chaos/scenarios.js';

const only = process.env.CHAOS_ONLY?.split(',');
const scenario = (name: string, env: Record<string, string>, run: Parameters<typeof runScenario>[3]) =>
  it(name, { skip: only !== undefined && !only.includes(name), timeout: FULL ? 900_000 : 120_000 }, (t) => runScenario(t, name, env, run).then(() => undefined));

// worker-kill keeps history and webhooks: a worker killed mid-batch is an archiver, a webhook dispatcher and sender
// killed mid-batch too.
const history = historySchema('chaos_kill');

after(async () => {
  await closeAll();
  await closeReceivers();
  await dropSchema(history.schema);
  printTable();
});

describe(`chaos (${FULL ? 'full' : 'bounded'}): every accepted notification ends in exactly one terminal state`, { concurrency: 1 }, () => {
  if (FULL) scenario('calm', {}, calm);
  scenario('slow-sends', { NOTIFY_CLAIM_IDLE_MS: SLOW_CLAIM_IDLE_MS }, slowSends);
  scenario('worker-kill', { ...history.env, ...WEBHOOK_ENV }, withWebhooks(workerKill));
  scenario('redis-kill', { NOTIFY_DURABILITY: 'strict' }, redisKill);
  scenario('worker-sigstop', {}, workerStop);
  scenario('slow-sigstop', SLOW_STOP_ENV, slowProviderStop);
  scenario('provider-storm', { NOTIFY_SEND_TIMEOUT_MS: '1000', NOTIFY_RETRY_MAX_ATTEMPTS: '8', NOTIFY_RETRY_BASE_MS: '50' }, providerStorm);
  scenario('poison', { NOTIFY_MAX_DELIVERIES: '3' }, poison);
  scenario('duplicates', {}, duplicates);
});
