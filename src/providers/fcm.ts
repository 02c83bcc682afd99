// FCM adapter on firebase-admin: messaging.send() per message over a keep-alive HTTP/1.1 agent we own (the fake seam).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { cert, deleteApp, initializeApp, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Messaging, type TokenMessage } from 'firebase-admin/messaging';
import { classifyFcm } from './classify.js';
import type { FcmConfig } from './config.js';
import { failure, networkFailure } from './failure.js';
import { guardedSend, wrongChannel } from './guard.js';
import type { ProviderAdapter, PushMessage, SendFailure } from './types.js';

/** What the wire showed for one send; firebase-admin's errors carry neither the HTTP status nor Retry-After. */
interface Exchange {
  status?: number;
  retryAfter?: string;
  req?: ClientRequest;
}
const exchanges = new AsyncLocalStorage<Exchange>();
type AddRequest = (req: ClientRequest, options: unknown) => void;
const baseAddRequest = (https.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;

/**
 * Keep-alive agent handed to firebase-admin as `httpAgent`. It sees each request as it is queued (inside the send's
 * async context), so it can note status and Retry-After for that send and let a timeout abort it. With `endpoint`,
 * every connection goes there instead of fcm.googleapis.com (providers.md: the only seam the SDK offers).
 */
class FcmAgent extends https.Agent {
  constructor(maxSockets: number, private readonly endpoint?: FcmConfig['endpoint']) {
    super({ keepAlive: true, maxSockets });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, s: Duplex) => void): Duplex | null | undefined {
    const ep = this.endpoint;
    if (!ep) return super.createConnection(options, callback);
    if (!ep.tls) return net.connect(ep.port, ep.host);
    return tls.connect({ host: ep.host, port: ep.port, servername: 'fcm.googleapis.com', ca: ep.ca, ALPNProtocols: ['http/1.1'] });
  }

  addRequest(req: ClientRequest, options: unknown): void {
    const ex = exchanges.getStore();
    if (ex) {
      ex.req = req;
      req.once('response', (res) => {
        ex.status = res.statusCode;
        const ra = res.headers['retry-after'];
        if (ra !== undefined) ex.retryAfter = String(ra);
      });
    }
    baseAddRequest.call(this, req, options);
  }
}

/** A static bearer token: the fake checks only that one is present. */
function staticCredential(token = 'sandbox-access-token'): Credential {
  return { getAccessToken: async () => ({ access_token: token, expires_in: 3600 }) };
}

/**
 * firebase-admin retries 503 and ECONNRESET/ETIMEDOUT by itself for ~7 s, with no option to change it. Our retry
 * policy must be the only one, so set its (internal) retry budget to zero. If a future SDK moves the field, this does
 * nothing and the send timeout still bounds the SDK's retries (test/providers-fcm.test.ts counts requests to catch it).
 */
function disableSdkRetries(messaging: Messaging): boolean {
  const client = (messaging as unknown as { messagingRequestHandler?: { httpClient?: { retry?: unknown } } }).messagingRequestHandler?.httpClient;
  if (!client || !client.retry || typeof client.retry !== 'object') return false;
  client.retry = { ...client.retry, maxRetries: 0 };
  return true;
}

/** The FCM v1 message for one push. */
export function buildFcmMessage(m: PushMessage): TokenMessage {
  const msg: TokenMessage = {
    token: m.to,
    notification: m.content.title !== undefined ? { title: m.content.title, body: m.content.body } : { body: m.content.body },
    android: { priority: m.priority === 'high' ? 'high' : 'normal' },
  };
  if (m.collapseKey) msg.android!.collapseKey = m.collapseKey;
  if (m.data && Object.keys(m.data).length > 0) msg.data = { ...m.data };
  return msg;
}

function classifyError(err: unknown, ex: Exchange): SendFailure | undefined {
  const e = err as { code?: unknown; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('messaging/')) return classifyFcm({ status: ex.status, code, detail: e.message, retryAfter: ex.retryAfter });
  if (code === 'app/network-timeout') return failure('fcm', { code: 'timeout', retryable: true, providerSide: true, maybeDelivered: true, detail: e.message });
  if (code === 'app/network-error') {
    // The SDK flattens the socket error into its message: "… Error code: ECONNREFUSED".
    const errno = /Error code: (E[A-Z]+)/.exec(e.message ?? '')?.[1];
    return failure('fcm', { code: errno ?? 'connection', retryable: true, providerSide: true, detail: e.message });
  }
  return networkFailure('fcm', err);
}

let appSeq = 0;

export function createFcmAdapter(cfg: FcmConfig): ProviderAdapter {
  const agent = new FcmAgent(cfg.maxSockets, cfg.endpoint);
  const credential = cfg.serviceAccountJson ? cert(JSON.parse(cfg.serviceAccountJson)) : staticCredential(cfg.accessToken);
  const app: App = initializeApp({ credential, projectId: cfg.projectId, httpAgent: agent }, `notify-fcm-${++appSeq}`);
  const messaging = getMessaging(app);
  disableSdkRetries(messaging);

  return {
    name: 'fcm',
    channel: 'push',
    send(message) {
      const wrong = wrongChannel('fcm', 'push', message);
      if (wrong) return Promise.resolve(wrong);
      const ex: Exchange = {};
      return guardedSend(
        'fcm',
        cfg.timeoutMs,
        (signal) => {
          signal.addEventListener('abort', () => ex.req?.destroy(), { once: true });
          return exchanges.run(ex, async () => ({ ok: true as const, providerMessageId: await messaging.send(buildFcmMessage(message as PushMessage)) }));
        },
        (err) => classifyError(err, ex),
      );
    },
    close: async () => {
      await deleteApp(app);
      agent.destroy();
    },
  };
}
