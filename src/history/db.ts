// The one small database interface the history is written against, and its two implementations: a `pg` pool for a
// real PostgreSQL (DATABASE_URL), and an embedded PGlite (PostgreSQL compiled to WASM) in a data folder, so the
// service runs with only Redis. The SQL is the same for both.
//
// The drivers parse a few types differently (`pg` gives int8 and numeric as strings, PGlite gives int8 as a number),
// so the history's SQL casts what it reads to int4 or float8, or converts it with Number(); timestamptz is a Date and
// jsonb an object in both. Parameters are passed as strings or numbers only (several rows travel as one JSON text).

export interface Queryable {
  /** One statement, `$1`… bound to `params`. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /** Several statements without parameters (a migration file). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** A PostgreSQL connection string: selects the `pg` pool. */
  url?: string;
  /** Without `url`: the embedded database's folder (created if missing); without either, an in-memory one. */
  dataDir?: string;
  /** Most connections of the pool (default 4). */
  maxConnections?: number;
}

/** A `pg` pool when `url` is given, else an embedded PGlite. */
export async function openDb(opts: DbOptions): Promise<Db> {
  return opts.url ? openPg(opts.url, opts.maxConnections ?? 4) : openPglite(opts.dataDir);
}

export async function openPg(url: string, max = 4): Promise<Db> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client's error (the server restarted) must not crash the process: the pool replaces the client.
  pool.on('error', () => {});
  const wrap = (c: { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }> }): Queryable => ({
    query: async <R>(sql: string, params?: readonly unknown[]) => ({ rows: (await c.query(sql, params ? [...params] : undefined)).rows as R[] }),
    // Without parameters `pg` uses the simple protocol, which runs several statements.
    exec: async (sql: string) => void (await c.query(sql)),
  });
  return {
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        client.release();
        return out;
      } catch (err) {
        // A connection that cannot even roll back is dropped, not handed to the next caller mid-transaction.
        await client.query('ROLLBACK').then(() => client.release(), (e: Error) => client.release(e));
        throw err;
      }
    },
    close: () => pool.end(),
  };
}

export async function openPglite(dataDir?: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  type Tx = { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }>; exec: (sql: string) => Promise<unknown> };
  const wrap = (c: Tx): Queryable => ({
    query: async <R>(sql: string, params?: readonly unknown[]) => ({ rows: (await c.query(sql, params ? [...params] : undefined)).rows as R[] }),
    exec: async (sql: string) => void (await c.exec(sql)),
  });
  return {
    ...wrap(db),
    // PGlite is one connection: its transaction() holds it exclusively, other queries wait for it.
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}
