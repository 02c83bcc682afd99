// Schema migrations at start-up: the versioned SQL files of ./migrations (`001_init.sql`, …), each applied once, in
// its own transaction, in the order of their numbers, and recorded in `schema_migrations`. Starters racing each
// other are serialised by a transaction-level advisory lock: the second one waits, then finds the file applied.
import { readdir, readFile } from 'node:fs/promises';
import type { Db } from './db.js';
import { tables } from './schema.js';

/** Beside the compiled module too: `npm run build` copies the folder into dist. */
export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Pure: the migrations among `files` (`NNN_name.sql`), ordered; throws on two files of one version. */
export function migrationFiles(files: readonly string[]): { version: number; file: string }[] {
  const out = files.flatMap((file) => {
    const m = /^(\d+)_[\w-]+\.sql$/.exec(file);
    return m ? [{ version: Number(m[1]), file }] : [];
  });
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) throw new Error(`two migrations of version ${out[i]!.version}`);
  }
  return out;
}

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = migrationFiles(await readdir(dir));
  return Promise.all(files.map(async (f) => ({ version: f.version, name: f.file, sql: await readFile(new URL(f.file, dir), 'utf8') })));
}

/** Applies the migrations not yet applied to `schema` (created if missing); returns the versions it applied. */
export async function migrate(db: Db, schema: string, migrations?: readonly Migration[]): Promise<number[]> {
  const t = tables(schema);
  const all = migrations ?? (await loadMigrations());
  const applied: number[] = [];
  for (const m of all) {
    const done = await db.transaction(async (tx) => {
      // One lock per schema, held to the end of this transaction; hashtext gives the int key it needs.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notify-history-migrate:${t.schema}`]);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${t.schema};
        CREATE TABLE IF NOT EXISTS ${t.migrations} (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await tx.query('SELECT 1 FROM ' + t.migrations + ' WHERE version = $1', [m.version]);
      if (rows.length > 0) return false;
      // The files name tables unqualified: SET LOCAL points them at the schema for this transaction only.
      await tx.exec(`SET LOCAL search_path TO ${t.schema}, pg_catalog; ${m.sql}`);
      await tx.query(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
