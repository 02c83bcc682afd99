// Templates, one JSON string per (tenant, name); the version is a hash of the content so caches refresh on change.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../streams/keys.js';
import type { TemplateInput } from '../domain/schemas.js';

export interface StoredTemplate {
  name: string;
  version: string;
  parts: TemplateInput;
  created_at: string;
  updated_at: string;
}

export const templateVersion = (parts: TemplateInput): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);

export class TemplateStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(tenant: string, name: string): Promise<StoredTemplate | null> {
    const raw = await this.redis.get(this.keys.template(tenant, name));
    return raw ? (JSON.parse(raw) as StoredTemplate) : null;
  }

  async put(tenant: string, name: string, parts: TemplateInput, now = Date.now()): Promise<StoredTemplate> {
    const previous = await this.get(tenant, name);
    const iso = new Date(now).toISOString();
    const stored: StoredTemplate = { name, version: templateVersion(parts), parts, created_at: previous?.created_at ?? iso, updated_at: iso };
    await this.redis.set(this.keys.template(tenant, name), JSON.stringify(stored));
    return stored;
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    return (await this.redis.del(this.keys.template(tenant, name))) === 1;
  }
}
