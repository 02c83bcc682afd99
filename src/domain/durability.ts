// Pure: what an accepted notification survives, given how Redis is configured.

export interface RedisFacts {
  version: string;
  aof: boolean;
  /** always | everysec | no */
  appendfsync: string;
  maxmemoryPolicy: string;
  /** Redis >= 7.2 has WAITAOF. */
  waitaof: boolean;
  /** A Redis Cluster: the facts are its weakest master's, and replication to replicas is asynchronous. */
  cluster?: boolean;
}

const olderVersion = (a: string, b: string): string => {
  const [am, an] = parseVersion(a);
  const [bm, bn] = parseVersion(b);
  return bm < am || (bm === am && bn < an) ? b : a;
};

const FSYNC_ORDER = ['no', 'everysec', 'always'];

/** What every master of a cluster promises: the weakest of their settings. */
export function weakestFacts(all: readonly RedisFacts[]): RedisFacts {
  const [first, ...rest] = all;
  if (!first) throw new Error('no Redis to inspect');
  return rest.reduce((a, b) => ({
    cluster: true,
    version: olderVersion(a.version, b.version),
    aof: a.aof && b.aof,
    appendfsync: FSYNC_ORDER.indexOf(b.appendfsync) < FSYNC_ORDER.indexOf(a.appendfsync) ? b.appendfsync : a.appendfsync,
    maxmemoryPolicy: a.maxmemoryPolicy !== 'noeviction' ? a.maxmemoryPolicy : b.maxmemoryPolicy,
    waitaof: a.waitaof && b.waitaof,
  }), { ...first, cluster: true });
}

export type DurabilityMode = 'standard' | 'strict';

export interface DurabilityReport {
  /** Plain sentence for the log. */
  summary: string;
  /** An evicting policy deletes streams with their consumer groups: refuse to run. */
  evicting: boolean;
  /** In strict mode: how each 202 is made durable, or why it cannot be ('unavailable'). */
  strict: 'waitaof' | 'fsync-always' | 'unavailable';
}

export function parseVersion(v: string): [number, number] {
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return [major, minor];
}

export function hasWaitaof(version: string): boolean {
  const [major, minor] = parseVersion(version);
  return major > 7 || (major === 7 && minor >= 2);
}

export function assessDurability(f: RedisFacts): DurabilityReport {
  const evicting = f.maxmemoryPolicy !== 'noeviction';
  let summary: string;
  if (!f.aof) {
    summary = 'AOF is off: an accepted notification survives a worker crash but NOT a Redis restart (only RDB snapshots, if any)';
  } else if (f.appendfsync === 'always') {
    summary = 'AOF with appendfsync always: an accepted notification survives a Redis crash and a host power loss';
  } else if (f.appendfsync === 'everysec') {
    summary = 'AOF with appendfsync everysec: an accepted notification survives a Redis process crash; a host power loss may lose the last ~1 s';
  } else {
    summary = 'AOF with appendfsync no: an accepted notification survives a Redis process crash; a host power loss may lose ~30 s';
  }
  if (f.cluster) summary += '; on this cluster a master failover may lose writes its replica had not received yet (replication is asynchronous)';
  if (evicting) summary += `; maxmemory-policy ${f.maxmemoryPolicy} would evict streams and consumer groups`;
  const strict = f.waitaof && f.aof ? 'waitaof' : f.aof && f.appendfsync === 'always' ? 'fsync-always' : 'unavailable';
  return { summary, evicting, strict };
}
