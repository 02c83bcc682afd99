// notify doctor: one line per check, ok / warn / FAIL / skip. Exit 0 when nothing failed (warnings do not fail it).
// The service: /healthz, /readyz with its checks, the API key accepted. Redis: reachable, maxmemory-policy noeviction
// (anything else evicts streams: the service refuses to run), and what a 202 survives (AOF; src/domain/durability.ts).
// PostgreSQL (the history), when --database-url or DATABASE_URL names it: reachable.
import type { Answer, Api, Query } from './client.js';
import type { Ctx } from './context.js';
import { causeOf, CliError, Failed, safeUrl } from './errors.js';
import { table } from './output.js';

export type CheckState = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  state: CheckState;
  detail: string;
}

export interface DoctorOptions {
  redisUrl: string;
  databaseUrl?: string;
}

const check = (name: string, state: CheckState, detail: string): Check => ({ name, state, detail });
const why = (err: unknown) => (err instanceof CliError ? err.message : causeOf(err));

/** A request whose failure to reach the service is a value, not a throw. */
const attempt = <T>(api: Api, path: string, query?: Query): Promise<Answer<T> | Error> =>
  api.request<T>('GET', path, { ...(query && { query }) }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));

async function serviceChecks(api: Api, hasKey: boolean): Promise<Check[]> {
  const health = await attempt(api, '/healthz');
  if (health instanceof Error) return [check('service', 'fail', why(health))];
  const out = [check('service', health.status === 200 ? 'ok' : 'fail', `${safeUrl(api.url)}/healthz answered ${health.status}`)];
  const ready = await attempt<{ checks?: Record<string, boolean> }>(api, '/readyz');
  if (ready instanceof Error) out.push(check('ready', 'fail', why(ready)));
  else {
    const checks = Object.entries(ready.body?.checks ?? {}).map(([k, v]) => `${k} ${v ? 'ok' : 'NOT ok'}`).join(', ');
    out.push(check('ready', ready.status === 200 ? 'ok' : 'fail', `/readyz answered ${ready.status}${checks ? `: ${checks}` : ''}`));
  }
  if (!hasKey) {
    out.push(check('api key', 'fail', 'no API key: give --api-key or NOTIFY_API_KEY'));
    return out;
  }
  // An authenticated read that changes nothing.
  const r = await attempt(api, '/v1/dead-letters', { limit: 1 });
  if (r instanceof Error) out.push(check('api key', 'fail', why(r)));
  else if (r.status === 200) out.push(check('api key', 'ok', 'accepted'));
  else out.push(check('api key', 'fail', r.status === 401 ? 'refused (401 unauthorized)' : `GET /v1/dead-letters answered ${r.status}`));
  return out;
}

async function redisChecks(url: string): Promise<Check[]> {
  const { Redis } = await import('ioredis');
  const { inspectRedis } = await import('../streams/durability.js');
  const { assessDurability } = await import('../domain/durability.js');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    const facts = await inspectRedis(redis);
    const report = assessDurability(facts);
    const durable = facts.aof && facts.appendfsync !== 'no';
    return [
      check('redis', 'ok', `${safeUrl(url)} answers (Redis ${facts.version})`),
      check('eviction', report.evicting ? 'fail' : 'ok', `maxmemory-policy ${facts.maxmemoryPolicy}${report.evicting ? ': evicts streams and consumer groups, set noeviction (the service refuses to start)' : ''}`),
      check('durability', durable ? 'ok' : 'warn', `${facts.aof ? `appendonly yes, appendfsync ${facts.appendfsync}` : 'appendonly no'}: ${report.summary}; NOTIFY_DURABILITY=strict ${report.strict === 'unavailable' ? 'not possible' : `by ${report.strict}`}`),
    ];
  } catch (err) {
    return [check('redis', 'fail', `cannot reach Redis at ${safeUrl(url)}: ${causeOf(err)}`)];
  } finally {
    redis.disconnect();
  }
}

async function postgresCheck(url: string | undefined): Promise<Check> {
  if (!url) return check('postgresql', 'skip', 'no --database-url or DATABASE_URL (history off, or embedded)');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>('SHOW server_version');
    return check('postgresql', 'ok', `${safeUrl(url)} answers (PostgreSQL ${rows[0]?.v ?? '?'})`);
  } catch (err) {
    return check('postgresql', 'fail', `cannot use ${safeUrl(url)}: ${(err as Error).message || causeOf(err)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function doctor(ctx: Ctx, o: DoctorOptions): Promise<void> {
  const checks = [
    ...(await serviceChecks(ctx.api, ctx.hasKey)),
    ...(await redisChecks(o.redisUrl)),
    await postgresCheck(o.databaseUrl),
  ];
  const failed = checks.filter((c) => c.state === 'fail');
  ctx.out.result({ ok: failed.length === 0, checks }, () => table(['', 'CHECK', 'DETAIL'], checks.map((c) => [c.state === 'fail' ? 'FAIL' : c.state, c.name, c.detail])));
  if (failed.length > 0) throw new Failed(`${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}`);
}
