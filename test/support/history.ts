// The real PostgreSQL for tests that keep history: each caller gets a schema of its own, dropped after.
import { randomBytes } from 'node:crypto';
import { openDb } from '../../src/history/db.js';

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
