// The notify command line (commander): global options, one subcommand per task, each calling the HTTP API (tail and
// doctor also Redis). README "Command line" lists them; `notify <command> --help` says the rest.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { contextOf, DEFAULT_URL } from './context.js';
import * as deadLetters from './dead-letters.js';
import { doctor } from './doctor.js';
import { collect, wholeNumber } from './input.js';
import { search } from './search.js';
import { send } from './send.js';
import { status } from './status.js';
import { tail } from './tail.js';
import { push } from './templates.js';
import * as users from './users.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

const redisUrl = () => new Option('--redis-url <url>', 'Redis the service uses (default $REDIS_URL or redis://127.0.0.1:6379)');
const filterOptions = (cmd: Command) => cmd
  .option('--channel <channel>', 'push, sms or email')
  .option('--reason <reason>', 'e.g. attempts_exhausted, provider_refused, poison, invalid_entry')
  .option('--kind <kind>', 'intake or delivery');
const selectionOptions = (cmd: Command) => filterOptions(cmd)
  .option('--all', 'every dead letter (not with ids or a filter)')
  .option('--max <n>', 'at most this many (default: all that are selected)')
  .option('--batch <n>', 'ids per request, 1-1000', String(deadLetters.CHUNK));

export function buildProgram(): Command {
  const program = new Command('notify')
    .description('Command line for the notify-streams service: send, inspect, follow, redrive, push templates, check the setup.')
    .version(version)
    .addOption(new Option('--url <url>', 'the service').env('NOTIFY_URL').default(DEFAULT_URL))
    .option('--api-key <key>', 'API key (default $NOTIFY_API_KEY)')
    .option('--json', 'machine-readable output: one JSON document on stdout')
    .showHelpAfterError('(notify --help, or notify <command> --help)')
    // Thrown, not exited: main.ts turns commander's errors into exit code 2 (usage).
    .exitOverride();

  program.command('send')
    .description('send a notification (POST /v1/notifications); prints its id')
    .argument('[user-id]', 'the recipient (or --file with user_id or to)')
    .option('--template <name>', 'a stored template')
    .option('--params <json>', 'the template\'s params, a JSON object')
    .option('--content <json>', 'inline content, a JSON object ({title, body, subject, text, html})')
    .option('--channel <channel>', 'push, sms or email (repeat, or comma-separate; default: all)', collect)
    .option('--category <name>', 'the notification\'s category')
    .option('--send-at <time>', 'hold until then (ISO 8601 with an offset)')
    .option('--idempotency-key <key>', 'sent as the Idempotency-Key header')
    .option('--file <json>', 'a whole request body (- for stdin); the options above go on top')
    .action(async (user: string | undefined, o, cmd: Command) => send(contextOf(cmd), user, o));

  program.command('status')
    .description('a notification and its deliveries (GET /v1/notifications/{id})')
    .argument('<id>')
    .option('--wait', 'poll until it and its deliveries have finished (exit 1 if they have not in time)')
    .option('--wait-ms <ms>', 'how long --wait waits', '30000')
    .action(async (id: string, o: { wait?: boolean; waitMs: string }, cmd: Command) => status(contextOf(cmd), id, { ...(o.wait && { wait: true }), waitMs: wholeNumber(o.waitMs, '--wait-ms', 1) }));

  program.command('search')
    .description('search the notification history (GET /v1/notifications; needs history on)')
    .option('--user <user-id>', 'has a delivery to this user')
    .option('--status <status>', 'accepted, scheduled, processing, sent, partially_sent, failed, not_sent, cancelled')
    .option('--channel <channel>', 'has a delivery on push, sms or email')
    .option('--category <name>')
    .option('--template <name>')
    .option('--since <time>', 'created at or after (ISO 8601 with an offset, or a date)')
    .option('--until <time>', 'created before')
    .option('--limit <n>', '1-500 (default 50)')
    .option('--cursor <cursor>', 'the next page (a previous answer\'s next_cursor)')
    .action(async (o, cmd: Command) => search(contextOf(cmd), o));

  program.command('tail')
    .description('follow status changes (the status event stream in Redis, XREAD BLOCK), for the API key\'s tenant')
    .addOption(redisUrl())
    .option('--prefix <prefix>', 'the service\'s NOTIFY_PREFIX (default $NOTIFY_PREFIX or notify)')
    .option('--tenant <tenant>', 'show this tenant\'s events (default: the API key\'s; without a key, every tenant\'s)')
    .option('--notification <id>', 'only this notification\'s events')
    .option('--count <n>', 'stop after this many events')
    .option('--timeout-ms <ms>', 'stop after this long')
    .option('--from <stream-id>', 'start after this entry id (default: from now)')
    .option('--jsonl', 'one JSON object per event, as they come')
    .action(async (o, cmd: Command) => tail(contextOf(cmd), {
      ...o, redisUrl: o.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS, prefix: o.prefix ?? process.env.NOTIFY_PREFIX ?? 'notify',
    }));

  const dl = program.command('dead-letters').description('what could not be delivered (/v1/dead-letters)');
  filterOptions(dl.command('list').description('newest first'))
    .option('--limit <n>', '1-500 (default 50)')
    .option('--cursor <cursor>', 'the next page (a previous answer\'s next_cursor)')
    .action(async (o, cmd: Command) => deadLetters.list(contextOf(cmd), o));
  dl.command('show').description('one dead letter, with its attempt history').argument('<id>')
    .action(async (id: string, _o, cmd: Command) => deadLetters.show(contextOf(cmd), id));
  selectionOptions(dl.command('redrive').description('send dead letters again: ids, a filter, or --all'))
    .argument('[ids...]')
    .action(async (ids: string[], o, cmd: Command) => deadLetters.redrive(contextOf(cmd), ids, o));
  selectionOptions(dl.command('delete').description('delete dead letters: ids, a filter, or --all (asks first)'))
    .argument('[ids...]')
    .option('--yes', 'do not ask')
    .action(async (ids: string[], o, cmd: Command) => deadLetters.remove(contextOf(cmd), ids, o));

  const u = program.command('users').description('user profiles (/v1/users)');
  u.command('get').argument('<user-id>').description('the profile, devices and preferences')
    .action(async (id: string, _o, cmd: Command) => users.get(contextOf(cmd), id));
  const profile = (cmd: Command) => cmd
    .option('--file <json>', 'the profile as JSON ({email?, phone?, locale?, timezone?}; - for stdin)')
    .option('--email <address>')
    .option('--phone <e164>')
    .option('--locale <locale>')
    .option('--timezone <iana>');
  profile(u.command('put').argument('<user-id>').description('create or replace the profile (fields not given are removed)'))
    .action(async (id: string, o, cmd: Command) => users.put(contextOf(cmd), id, o, 'PUT'));
  profile(u.command('patch').argument('<user-id>').description('change some fields of the profile (a merge)'))
    .option('--unset <field>', 'remove a field (repeat, or comma-separate)', collect)
    .action(async (id: string, o, cmd: Command) => users.put(contextOf(cmd), id, o, 'PATCH'));

  program.command('templates').description('templates (/v1/templates)')
    .command('push').argument('<dir>').description('PUT every <name>.json in the directory as template <name>')
    .action(async (dir: string, _o, cmd: Command) => push(contextOf(cmd), dir));

  program.command('doctor')
    .description('check the service, the API key, Redis (eviction, durability) and PostgreSQL')
    .addOption(redisUrl())
    .option('--database-url <url>', 'the history\'s PostgreSQL (default $DATABASE_URL; checked when given)')
    .action(async (o, cmd: Command) => doctor(contextOf(cmd), {
      redisUrl: o.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS, ...((o.databaseUrl ?? process.env.DATABASE_URL) && { databaseUrl: o.databaseUrl ?? process.env.DATABASE_URL }),
    }));

  return program;
}
