// What user actors read before they plan — users, templates, event-id owners — gathered over one event-loop turn and
// read with one script call (load-inputs.lua), each template once per call and parsed once while it is unchanged.
import type { Redis } from 'ioredis';
import { decodeUserFields, type UserRecord } from '../domain/user.js';
import type { StoredTemplate } from '../store/templates.js';
import type { Keys } from '../streams/keys.js';
import { runScript } from '../streams/scripts.js';

interface Waiting<T> {
  key: string;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Parsed templates by key, reused while the stored JSON is the same string. */
const TEMPLATE_CACHE_MAX = 1_000;

export class PlanInputs {
  private users: (Waiting<UserRecord | null> & { id: string })[] = [];
  private templates: Waiting<StoredTemplate | null>[] = [];
  private events: Waiting<string | null>[] = [];
  private scheduled = false;
  private readonly parsed = new Map<string, { raw: string; template: StoredTemplate }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxBatch = 1_000,
  ) {}

  user(tenant: string, id: string): Promise<UserRecord | null> {
    return new Promise((resolve, reject) => this.schedule(this.users.push({ key: this.keys.user(tenant, id), id, resolve, reject })));
  }

  template(tenant: string, name: string): Promise<StoredTemplate | null> {
    return new Promise((resolve, reject) => this.schedule(this.templates.push({ key: this.keys.template(tenant, name), resolve, reject })));
  }

  /** Who owns an event id now (the commit decides; this only spares rendering a known duplicate). */
  eventOwner(key: string): Promise<string | null> {
    return new Promise((resolve, reject) => this.schedule(this.events.push({ key, resolve, reject })));
  }

  private schedule(_queued: number): void {
    if (this.users.length + this.templates.length + this.events.length >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const { users, templates, events } = this;
    if (users.length + templates.length + events.length === 0) return;
    this.users = [];
    this.templates = [];
    this.events = [];
    const names = [...new Set(templates.map((t) => t.key))];
    const keys = [...users.map((u) => u.key), ...names, ...events.map((e) => e.key)];
    runScript<[string[][], (string | null)[], (string | null)[]]>(this.redis, 'loadInputs', keys, [users.length, names.length]).then(
      ([u, t, e]) => {
        users.forEach((w, i) => settle(w, () => decodeUserFields(w.id, u[i] ?? [])));
        const byName = new Map(names.map((name, i) => [name, t[i] ?? null]));
        for (const w of templates) settle(w, () => this.parse(w.key, byName.get(w.key) ?? null));
        events.forEach((w, i) => w.resolve(e[i] ?? null));
      },
      (err: unknown) => {
        for (const w of [...users, ...templates, ...events]) w.reject(err);
      },
    );
  };

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

function settle<T>(w: Waiting<T>, value: () => T): void {
  try {
    w.resolve(value());
  } catch (err) {
    w.reject(err);
  }
}
