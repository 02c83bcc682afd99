// Pure: the PostgreSQL schema the history's tables live in. Table names are qualified with it in every statement
// (not `SET search_path`, which would stick to a pooled connection), so it is checked here once: a plain lower-case
// identifier, never anything a caller's input could turn into SQL.

export const DEFAULT_SCHEMA = 'notify_history';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name, checked; throws on anything but a plain identifier. */
export function checkSchema(name: string): string {
  if (!IDENT.test(name)) throw new Error(`history schema "${name}" is not a plain identifier (a-z, 0-9, _)`);
  return name;
}

/** The qualified table (or function) names of one schema, for building statements. */
export function tables(schema: string) {
  const s = checkSchema(schema);
  return {
    schema: s,
    notifications: `${s}.notifications`,
    deliveries: `${s}.deliveries`,
    events: `${s}.events`,
    erasures: `${s}.erasures`,
    migrations: `${s}.schema_migrations`,
    /** `streamKey(x)`: a stream entry id ("ms-seq") as numeric[], which orders as the ids do. */
    streamKey: (x: string) => `${s}.stream_id_key(${x})`,
  };
}
export type Tables = ReturnType<typeof tables>;
