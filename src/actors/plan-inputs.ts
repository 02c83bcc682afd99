// What user actors read before they plan — users, templates, event-id owners — gathered over one event-loop turn and
// read with one script call (load-inputs.lua), each template once per call and parsed once while it is unchanged.
import type { Redis } from 'ioredis';
import { decodeUserFields, type UserRecord } from '../domain/user.js';
import type { StoredTemplate } from '../store/templates.js';
import type { Keys } from '../streams/keys.js';
import { runScript } from '../streams/scripts.js';
import { Batcher } from './batcher.js';

type Need = { kind: 'user'; key: string; id: string } | { kind: 'template'; key: string } | { kind: 'event'; key: string };
type Got = UserRecord | StoredTemplate | string | null;

/** Parsed templates by key, reused while the stored JSON is the same string. */
const TEMPLATE_CACHE_MAX = 1_000;

export class PlanInputs {
  private readonly batch = new Batcher<Need, Got>((needs) => this.load(needs));
  private readonly parsed = new Map<string, { raw: string; template: StoredTemplate }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  user(tenant: string, id: string): Promise<UserRecord | null> {
    return this.batch.add({ kind: 'user', key: this.keys.user(tenant, id), id }) as Promise<UserRecord | null>;
  }

  template(tenant: string, name: string): Promise<StoredTemplate | null> {
    return this.batch.add({ kind: 'template', key: this.keys.template(tenant, name) }) as Promise<StoredTemplate | null>;
  }

  /** Who owns an event id now (the commit decides; this only spares rendering a known duplicate). */
  eventOwner(key: string): Promise<string | null> {
    return this.batch.add({ kind: 'event', key }) as Promise<string | null>;
  }

  private async load(needs: Need[]): Promise<Got[]> {
    const users = needs.filter((n) => n.kind === 'user');
    const names = [...new Set(needs.filter((n) => n.kind === 'template').map((n) => n.key))];
    const events = needs.filter((n) => n.kind === 'event');
    const keys = [...users.map((u) => u.key), ...names, ...events.map((e) => e.key)];
    const [u, t, e] = await runScript<[string[][], (string | null)[], (string | null)[]]>(this.redis, 'loadInputs', keys, [users.length, names.length]);
    const byName = new Map(names.map((name, i) => [name, t[i] ?? null]));
    let ui = 0;
    let ei = 0;
    return needs.map((n) => {
      if (n.kind === 'user') return decodeUserFields(n.id, u[ui++] ?? []);
      if (n.kind === 'template') return this.parse(n.key, byName.get(n.key) ?? null);
      return e[ei++] ?? null;
    });
  }

  private parse(key: string, raw: string | null): StoredTemplate | null {
    if (raw === null) return null;
    const hit = this.parsed.get(key);
    if (hit?.raw === raw) return hit.template;
    const template = JSON.parse(raw) as StoredTemplate;
    if (this.parsed.size >= TEMPLATE_CACHE_MAX) this.parsed.clear();
    this.parsed.set(key, { raw, template });
    return template;
  }
}
