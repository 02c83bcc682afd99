// Loads the Lua scripts from ./scripts and runs them by name (EVALSHA, falling back to EVAL once per connection).
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

const SCRIPTS = {
  accept: 'accept.lua',
  commitPlan: 'commit-plan.lua',
  loadInputs: 'load-inputs.lua',
  commitSends: 'commit-sends.lua',
  noteUnanswered: 'note-unanswered.lua',
  moveDue: 'move-due.lua',
  hsetIfExists: 'hset-if-exists.lua',
  userPatch: 'user-patch.lua',
  delIfEqual: 'del-if-equal.lua',
  park: 'park.lua',
  closeWindow: 'close-window.lua',
  cancel: 'cancel.lua',
  moveRecord: 'move-record.lua',
  redrive: 'redrive.lua',
  feedback: 'feedback.lua',
  deadLetter: 'dead-letter.lua',
  refreshOwn: 'refresh-own.lua',
  forgetConsumer: 'forget-consumer.lua',
  ensureGroup: 'ensure-group.lua',
  tenantAdmit: 'tenant-admit.lua',
} as const;
export type ScriptName = keyof typeof SCRIPTS;

const read = (file: string) => readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8');
/** Shared Lua a script names in its header ("uses lib/events.lua"), prepended to it: written once, loaded with each. */
const LIBS = ['lib/events.lua'] as const;
const source = (file: string) => {
  const own = read(file);
  const libs = LIBS.filter((lib) => own.includes(`uses ${lib}`)).map(read);
  return [...libs, own].join('\n');
};
const LUA = Object.fromEntries(Object.entries(SCRIPTS).map(([name, file]) => [name, source(file)])) as Record<ScriptName, string>;
/** Every script's full source (with its shared Lua), by name: what is loaded on a connection. */
export const ALL_SCRIPTS: Readonly<Record<ScriptName, string>> = LUA;

/** Registers every script on a connection; call once per connection. */
export function defineScripts(redis: Redis): void {
  for (const name of Object.keys(LUA) as ScriptName[]) redis.defineCommand(name, { lua: LUA[name] });
}

type Runner = Record<ScriptName, (numKeys: number, ...args: (string | number)[]) => Promise<unknown>>;

/** Runs a script with a variable number of keys. */
export function runScript<T>(redis: Redis, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
  return (redis as unknown as Runner)[name](keys.length, ...keys, ...args) as Promise<T>;
}

/** Queues a script on a pipeline or MULTI. */
export function queueScript(pipe: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): void {
  (pipe as unknown as Runner)[name](keys.length, ...keys, ...args);
}

/** Builds a KEYS array where each key appears once; `index(key)` returns its 1-based position for ARGV. */
export class KeyList {
  readonly keys: string[] = [];
  private readonly positions = new Map<string, number>();
  constructor(first: string[] = []) {
    for (const k of first) this.index(k);
  }
  index(key: string): number {
    let pos = this.positions.get(key);
    if (pos === undefined) {
      this.keys.push(key);
      pos = this.keys.length;
      this.positions.set(key, pos);
    }
    return pos;
  }
}
