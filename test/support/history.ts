// The real PostgreSQL for tests that keep history: each caller gets a schema of its own, dropped after.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, openPg, openPglite, type Db } from '../../src/history/db.js';

export const PG_URL = process.env.HISTORY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A new schema name (a plain identifier) and the service environment that keeps history in it. */
export function historySchema(name: string): { schema: string; env: Record<string, string> } {
  const schema = `t_${name.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
  return { schema, env: { NOTIFY_HISTORY: 'on', DATABASE_URL: PG_URL, NOTIFY_HISTORY_SCHEMA: schema } };
}

export async function dropSchema(schema: string): Promise<void> {
  const db = await openDb({ url: PG_URL });
  try {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await db.close();
  }
}

/**
 * The two databases the history suites run on: the real PostgreSQL and an embedded PGlite in a temp folder. `open`
 * gives a connection (PGlite: one per folder, so every open is the same, `shared`); `close` closes what `open` gave
 * unless it is shared; `done` closes the shared one and removes its folder.
 */
export function historyBackends() {
  let dir = '';
  let lite: Db | undefined;
  return [
    { name: 'postgresql', shared: false, open: () => openPg(PG_URL), close: (db: Db) => db.close(), done: async () => {} },
    {
      name: 'pglite',
      shared: true,
      open: async () => {
        if (!lite) {
          dir = await mkdtemp(join(tmpdir(), 'history-'));
          lite = await openPglite(dir);
        }
        return lite;
      },
      close: async (_db: Db) => {},
      done: async () => {
        await lite?.close();
        if (dir) await rm(dir, { recursive: true, force: true });
      },
    },
  ];
}
