// Opens the service's history as its configuration says, or says why there is none.
import { mkdirSync } from 'node:fs';
import type { Config, Role } from '../config.js';
import type { Logger } from '../log.js';
import { openHistory, type History } from './index.js';

/** The history database, or undefined when it is off (NOTIFY_HISTORY=off, or an embedded one a split role cannot share). */
export async function historyFor(config: Config['history'], role: Role, log: Logger): Promise<History | undefined> {
  if (!config.enabled) return undefined;
  if (!config.url && role !== 'all') {
    // An embedded PostgreSQL is one process's: separate ingress and worker processes need a server to share.
    log.warn({ role }, 'history off: without DATABASE_URL only `--role all` keeps the notification log (embedded PostgreSQL)');
    return undefined;
  }
  if (!config.url) mkdirSync(config.dir, { recursive: true });
  const history = await openHistory(config.url ? { url: config.url } : { dataDir: config.dir }, { schema: config.schema, historyDays: config.days });
  log.info({ database: config.url ? 'postgresql' : 'embedded', ...(!config.url && { dir: config.dir }), schema: config.schema, days: config.days }, 'notification history on');
  return history;
}
