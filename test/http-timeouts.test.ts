// The ingress does not hold a slow client's connection open for Node's default 300 s: headers must arrive within
// NOTIFY_HTTP_HEADERS_TIMEOUT_MS and the whole request within NOTIFY_HTTP_REQUEST_TIMEOUT_MS (408, then closed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ConfigError, loadConfig } from '../src/config.js';
import { API_KEY, startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('http-timeouts', {
    role: 'ingress', env: { NOTIFY_HTTP_HEADERS_TIMEOUT_MS: '400', NOTIFY_HTTP_REQUEST_TIMEOUT_MS: '800' },
  });
});
after(() => h.stop());

/**
 * Opens a raw connection, writes `head`, then one byte of `dribble` every 100 ms; resolves when the server closes the
 * connection (with what it answered and how long it took), or after `giveUpMs` with `closed: false`.
 */
function slowClient(head: string, dribble: string, giveUpMs: number): Promise<{ closed: boolean; reply: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(h.service.port, '127.0.0.1');
    let reply = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < dribble.length && socket.writable) socket.write(dribble[sent++]!);
    }, 100);
    const finish = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closed, reply, ms: Date.now() - started });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

describe('HTTP timeouts', () => {
  it('closes a connection whose request body dribbles in, after the request timeout', async () => {
    const body = JSON.stringify({ user_id: 'u-slow', channels: ['push'], content: { title: 'x', body: 'y' } });
    const head = `POST /v1/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const r = await slowClient(head, body, 6_000);
    assert.ok(r.closed, `closed by the server (still open after ${r.ms} ms)`);
    assert.match(r.reply, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout');
    assert.ok(r.ms >= 600 && r.ms < 3_000, `closed after ${r.ms} ms`);
  });

  it('closes a connection whose headers dribble in, after the headers timeout', async () => {
    const r = await slowClient('POST /v1/notifications HTTP/1.1\r\n', 'Host: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 6_000);
    assert.ok(r.closed, `closed by the server (still open after ${r.ms} ms)`);
    assert.match(r.reply, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout');
    assert.ok(r.ms >= 300 && r.ms < 3_000, `closed after ${r.ms} ms`);
  });

  it('a request that arrives in time is answered as usual', async () => {
    const res = await h.api('GET', '/v1/users/nobody');
    assert.notEqual(res.status, 408);
  });

  it('refuses a headers timeout longer than the request timeout, and defaults to 10 s / 30 s', () => {
    const base = { NOTIFY_SANDBOX: 'on' };
    assert.deepEqual(
      (({ headersTimeoutMs, requestTimeoutMs }) => ({ headersTimeoutMs, requestTimeoutMs }))(loadConfig(base).http),
      { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 },
    );
    assert.throws(
      () => loadConfig({ ...base, NOTIFY_HTTP_HEADERS_TIMEOUT_MS: '5000', NOTIFY_HTTP_REQUEST_TIMEOUT_MS: '1000' }),
      (err: unknown) => err instanceof ConfigError && /NOTIFY_HTTP_HEADERS_TIMEOUT_MS/.test(err.message),
    );
  });
});
