// /v1/templates: per-channel nunjucks templates, checked to compile before they are stored, and previewed.
import { Hono } from 'hono';
import { PreviewSchema, TEMPLATE_NAME, TemplateSchema, type TemplateInput } from '../../domain/schemas.js';
import { CHANNELS, type Channel } from '../../domain/types.js';
import type { RenderResult, TemplateSource } from '../../render/task.js';
import { compile } from '../../render/engine.js';
import { TemplateRefused, TemplateSyntaxError } from '../../render/check.js';
import type { StoredTemplate, TemplateStore } from '../../store/templates.js';
import type { AuthEnv } from '../auth.js';
import { pathParam, readJson } from '../body.js';
import { ApiError } from '../errors.js';

/** Renders one channel of a template in the render threads (RenderPool.render). */
export type Renderer = (templateKey: string, source: TemplateSource, channel: Channel, params: Record<string, unknown>) => Promise<RenderResult>;

const NAME_RULE = 'template names are 1-64 characters of letters, digits and ._-';

export function templateRoutes(templates: TemplateStore, render?: Renderer): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const noTemplate = () => new ApiError('not_found', 'no such template');

  app.put('/:name', async (c) => {
    const name = pathParam(c, 'name', TEMPLATE_NAME, NAME_RULE);
    const parts = await readJson(c, TemplateSchema);
    checkCompiles(parts);
    return c.json(templateView(await templates.put(c.get('tenant'), name, parts)), 200);
  });

  app.get('/:name', async (c) => {
    const t = await templates.get(c.get('tenant'), pathParam(c, 'name', TEMPLATE_NAME, NAME_RULE));
    if (!t) throw noTemplate();
    return c.json(templateView(t), 200);
  });

  // Renders every part with the given params, as a delivery would (sandbox, budget, strict mode); nothing is sent.
  app.post('/:name/preview', async (c) => {
    const tenant = c.get('tenant');
    const name = pathParam(c, 'name', TEMPLATE_NAME, NAME_RULE);
    const { params = {} } = await readJson(c, PreviewSchema);
    const t = await templates.get(tenant, name);
    if (!t) throw noTemplate();
    if (!render) throw new ApiError('unavailable', 'previews are not available on this process');
    const channels = CHANNELS.filter((ch) => t.parts[ch] !== undefined);
    const results = await Promise.all(channels.map((ch) => render(`${tenant}/${name}`, { version: t.version, parts: t.parts }, ch, params)));
    const rendered: Partial<Record<Channel, unknown>> = {};
    for (const [i, r] of results.entries()) {
      if (!r.ok) throw new ApiError('template_render_failed', `${channels[i]}: ${r.error}`, channels[i]);
      rendered[channels[i]!] = r.content;
    }
    return c.json({ name, version: t.version, rendered }, 200);
  });

  app.delete('/:name', async (c) => {
    if (!(await templates.delete(c.get('tenant'), pathParam(c, 'name', TEMPLATE_NAME, NAME_RULE)))) throw noTemplate();
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
        if (!(err instanceof TemplateRefused || err instanceof TemplateSyntaxError)) throw err;
        throw new ApiError(err instanceof TemplateRefused ? 'template_not_allowed' : 'template_syntax', `${where}: ${err.message}`, where);
      }
    }
  }
}

const templateView = (t: StoredTemplate) => ({ name: t.name, version: t.version, ...t.parts, created_at: t.created_at, updated_at: t.updated_at });
