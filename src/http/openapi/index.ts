// GET /openapi.json (the OpenAPI 3.1 document) and GET /docs (an interactive reference reading it); no API key.
import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import { openApiDocument } from './document.js';

export { buildOpenApiDocument, openApiDocument, openApiPath } from './document.js';
export { ROUTES } from './routes.js';

export function openApiRoutes(): Hono {
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  // The page loads Scalar's script from its CDN in the browser; the service itself fetches nothing.
  app.get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'notify-streams API reference' }));
  return app;
}
