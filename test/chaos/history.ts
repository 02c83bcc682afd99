// The chaos ledger's check of the archived history: once the scenario has settled, PostgreSQL shows every accepted
// notification exactly as Redis does (each status change archived once, none lost, whatever was killed mid-batch).
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { openHistory } from '../../src/history/index.js';
import { notificationView } from '../../src/http/routes/notification-view.js';
import { PG_URL } from '../support/history.js';
import type { Settled } from './verify.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) for the archivers to catch up, then compares every view; fails listing the first differences. */
export async function checkHistory(s: Settled, schema: string, tenant = 'acme', timeoutMs = 60_000): Promise<void> {
  const history = await openHistory({ url: PG_URL }, { schema });
  try {
    const ids = [...s.views].filter(([, v]) => v !== null).map(([id]) => id);
    let differ: string[] = ids;
    for (const deadline = Date.now() + timeoutMs; differ.length > 0 && Date.now() < deadline; await sleep(500)) {
      const next: string[] = [];
      for (const id of differ) {
        const n = await history.getNotification(tenant, id);
        if (!n || !isDeepStrictEqual(notificationView(n), s.views.get(id))) next.push(id);
      }
      differ = next;
    }
    const sample = await Promise.all(differ.slice(0, 3).map(async (id) => {
      const n = await history.getNotification(tenant, id);
      return { id, redis: s.views.get(id), history: n && notificationView(n) };
    }));
    assert.deepEqual(differ.length, 0, `${differ.length} of ${ids.length} notifications differ in the history: ${JSON.stringify(sample)}`);
  } finally {
    await history.close();
  }
}
