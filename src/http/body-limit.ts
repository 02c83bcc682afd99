// Request body size limit. With a Content-Length (which Node's HTTP parser enforces) the check is one header read;
// only bodies of unknown length take hono's streaming limit, whose web-stream plumbing costs ~4× an empty request.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamingLimit } from 'hono/body-limit';
import { ApiError } from './errors.js';

export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new ApiError('payload_too_large', `the request body is larger than ${maxBytes} bytes`);
  const streaming = streamingLimit({ maxSize: maxBytes, onError: () => { throw tooLarge(); } });
  return async function bodyLimit(c, next) {
    const length = c.req.header('content-length');
    if (length !== undefined) {
      if (Number(length) > maxBytes) throw tooLarge();
      return next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'DELETE') return next();
    return streaming(c, next);
  };
}
