// The APNs fake: TLS + HTTP/2 like api.push.apple.com, POST /3/device/<token>, answers in APNs' {reason} form.
import { randomUUID } from 'node:crypto';
import { constants, createSecureServer, type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ApnsKeyMaterial, TlsMaterial } from './tls.js';
import type { Behaviors } from './behavior.js';
import { APNS_ERRORS, JwtChecker, MAX_PAYLOAD, checkHeaders, checkPayload } from './apns-wire.js';
import type { FakeStore } from './store.js';
import { pick, resolveFail } from './wire.js';
import type { RunningServer } from './http-fake.js';

const PATH = '/3/device/';
const HEADERS = ['apns-topic', 'apns-push-type', 'apns-priority', 'apns-expiration', 'apns-collapse-id', 'apns-id', 'authorization'] as const;

export interface ApnsFakeOptions {
  host: string;
  port: number;
  tls: TlsMaterial;
  /** Provider tokens must be signed by this key (kid = keyId, iss = teamId). */
  key: ApnsKeyMaterial;
  store: FakeStore;
  behaviors: Behaviors;
}

type Reply = { status: number; reason?: string; retryAfterS?: number; timestampMs?: number; apnsId: string };

function respond(stream: ServerHttp2Stream, r: Reply): void {
  if (stream.destroyed || stream.closed) return;
  const headers: Record<string, string | number> = { ':status': r.status, 'apns-id': r.apnsId };
  if (r.retryAfterS !== undefined) headers['retry-after'] = r.retryAfterS;
  if (!r.reason) {
    stream.respond(headers, { endStream: true });
    return;
  }
  const body: Record<string, unknown> = { reason: r.reason };
  // APNs adds the time (ms) it learned the token was no longer valid.
  if (r.status === 410) body.timestamp = r.timestampMs ?? Date.now();
  headers['content-type'] = 'application/json';
  stream.respond(headers);
  stream.end(JSON.stringify(body));
}

/** Starts the APNs fake on host:port (0 = ephemeral). */
export function startApnsFake(opts: ApnsFakeOptions): Promise<RunningServer> {
  const { store, behaviors } = opts;
  const jwt = new JwtChecker(opts.key.keyId, opts.key.teamId, opts.key.publicKeyPem);
  const sessions = new Set<Http2Session>();
  const timers = new Set<NodeJS.Timeout>();

  function handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer, bytes: number): void {
    const at = Date.now();
    const path = String(headers[':path'] ?? '');
    const token = path.startsWith(PATH) ? path.slice(PATH.length) : '';
    const apnsId = (headers['apns-id'] as string | undefined) ?? randomUUID();
    let invalid;
    if (headers[':method'] !== 'POST') invalid = { code: 'MethodNotAllowed' };
    else if (!path.startsWith(PATH)) invalid = { code: 'BadPath' };
    else {
      const auth = jwt.check(headers.authorization as string | undefined);
      invalid = auth ? { code: auth } : checkHeaders(headers, token);
    }
    const { payload, invalid: badPayload } = checkPayload(bytes, body);
    invalid ??= badPayload;
    const decision = behaviors.decide('apns', token);
    const base = { provider: 'apns' as const, at, to: token, headers: pick(headers, HEADERS), body: payload, bytes };
    const finish = (): void => {
      if (decision.down) {
        store.record({ ...base, status: 0, error: 'down' });
        if (!stream.destroyed) stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      const failure = decision.fail ?? invalid;
      if (failure) {
        const f = resolveFail(failure, APNS_ERRORS);
        store.record({ ...base, status: f.status, error: f.code });
        respond(stream, { status: f.status, reason: f.code, retryAfterS: f.retryAfterS, timestampMs: f.timestampMs, apnsId });
      } else {
        store.record({ ...base, status: 200, messageId: apnsId });
        respond(stream, { status: 200, apnsId });
      }
    };
    if (decision.latencyMs <= 0) return finish();
    const t = setTimeout(() => {
      timers.delete(t);
      finish();
    }, decision.latencyMs);
    timers.add(t);
  }

  const server: Http2SecureServer = createSecureServer({
    key: opts.tls.keyPem,
    cert: opts.tls.certPem,
    settings: { maxConcurrentStreams: 1000 },
  });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes <= MAX_PAYLOAD) chunks.push(c);
    });
    stream.on('end', () => handle(stream, headers, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), bytes));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            server.close(() => done());
            for (const s of sessions) s.destroy();
          }),
      });
    });
  });
}
