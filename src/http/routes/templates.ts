// /v1/templates: per-channel nunjucks templates, checked to compile before they are stored.
import { Hono } from 'hono';
import { TEMPLATE_NAME, TemplateSchema, type TemplateInput } from '../../domain/schemas.js';
import { compile } from '../../render/engine.js';
import { TemplateRefused } from '../../render/check.js';
import type { StoredTemplate, TemplateStore } from '../../store/templates.js';
import type { AuthEnv } from '../auth.js';
import { pathParam, readJson } from '../body.js';
import { ApiError } from '../errors.js';

export function templateRoutes(templates: TemplateStore): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const noTemplate = () => new ApiError('not_found', 'no such template');

  app.put('/:name', async (c) => {
    const name = pathParam(c, 'name', TEMPLATE_NAME);
    const parts = await readJson(c, TemplateSchema);
    checkCompiles(parts);
    return c.json(templateView(await templates.put(c.get('tenant'), name, parts)), 200);
  });

  app.get('/:name', async (c) => {
    const t = await templates.get(c.get('tenant'), pathParam(c, 'name', TEMPLATE_NAME));
    if (!t) throw noTemplate();
    return c.json(templateView(t), 200);
  });

  app.delete('/:name', async (c) => {
    if (!(await templates.delete(c.get('tenant'), pathParam(c, 'name', TEMPLATE_NAME)))) throw noTemplate();
    return c.body(null, 204);
  });

  return app;
}

function checkCompiles(parts: TemplateInput): void {
  for (const [channel, fields] of Object.entries(parts)) {
    for (const [field, source] of Object.entries(fields as Record<string, string | undefined>)) {
      if (source === undefined) continue;
      try {
        compile(source, field);
      } catch (err) {
        const where = `${channel}.${field}`;
        const detail = String((err as Error).message).replace(/^\(unknown path\)\s*/, '').replace(/\s+/g, ' ').trim();
        throw new ApiError(err instanceof TemplateRefused ? 'template_not_allowed' : 'template_syntax', `${where}: ${detail}`, where);
      }
    }
  }
}

const templateView = (t: StoredTemplate) => ({ name: t.name, version: t.version, ...t.parts, created_at: t.created_at, updated_at: t.updated_at });
