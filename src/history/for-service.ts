// Opens the service's history as its configuration says. A database that cannot be reached at start-up does not stop
// the service (accepting and sending need only Redis): it is opened in the background, retried until it answers, and
// meanwhile the history answers HistoryUnavailable (503) and the archiver waits, the events kept in Redis.
import { mkdirSync } from 'node:fs';
import type { Config, Role } from '../config.js';
import type { Logger } from '../log.js';
import { openHistory, type History } from './index.js';

/** The history database is off, or not reached yet. */
export class HistoryUnavailable extends Error {
  override name = 'HistoryUnavailable';
}

export interface ServiceHistory {
  /** Answers as the real history once it is open; until then each call throws HistoryUnavailable. */
  history: History;
  /** Resolves once the database is open (never, if it never answers before close). */
  opened: Promise<History>;
  close(): Promise<void>;
}

/** Undefined when history is off (NOTIFY_HISTORY=off, or an embedded database a split role cannot share). */
export function historyFor(config: Config['history'], role: Role, log: Logger, retryMs = 5_000): ServiceHistory | undefined {
  if (!config.enabled) return undefined;
  if (!config.url && role !== 'all') {
    // An embedded PostgreSQL is one process's: separate ingress and worker processes need a server to share.
    log.warn({ role }, 'history off: without DATABASE_URL only `--role all` keeps the notification log (embedded PostgreSQL)');
    return undefined;
  }
  let real: History | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const where = { database: config.url ? 'postgresql' : 'embedded', ...(!config.url && { dir: config.dir }), schema: config.schema };
  const opened = new Promise<History>((resolve) => {
    const attempt = async () => {
      try {
        if (!config.url) mkdirSync(config.dir, { recursive: true });
        const h = await openHistory(config.url ? { url: config.url } : { dataDir: config.dir }, { schema: config.schema, historyDays: config.days });
        if (closed) return void (await h.close());
        real = h;
        log.info({ ...where, days: config.days }, 'notification history on');
        resolve(h);
      } catch (err) {
        if (closed) return;
        log.error({ ...where, err: (err as Error).message, retryInMs: retryMs }, 'history database unavailable; accepting and sending go on, the events wait in Redis');
        timer = setTimeout(() => void attempt(), retryMs);
        timer.unref();
      }
    };
    void attempt();
  });
  const need = (): History => {
    if (!real) throw new HistoryUnavailable('the history database is not available yet; try again shortly');
    return real;
  };
  const history: History = {
    get db() { return need().db; },
    get schema() { return config.schema; },
    get historyDays() { return config.days; },
    archiveBatch: (events, now) => need().archiveBatch(events, now),
    maintainPartitions: (now) => need().maintainPartitions(now),
    getNotification: (tenant, id) => need().getNotification(tenant, id),
    search: (tenant, filter) => need().search(tenant, filter),
    stats: (tenant, query) => need().stats(tenant, query),
    close: async () => undefined,
  };
  return {
    history, opened,
    async close() {
      closed = true;
      clearTimeout(timer);
      await real?.close();
    },
  };
}
