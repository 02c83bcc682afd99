// Twilio SMS adapter: messages.create() through a RequestClient that never retries and can be pointed at a fake.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioHttp from 'twilio/lib/http/response.js';
import { classifyTwilio } from './classify.js';
import type { TwilioConfig } from './config.js';
import { networkFailure } from './failure.js';
import { guardedSend, wrongChannel } from './guard.js';
import { callbackQuery } from '../domain/feedback.js';
import type { ProviderAdapter, SendFailure, SmsMessage } from './types.js';

/** Status and Retry-After of one send's answer; Twilio's exceptions drop the headers. */
interface Exchange {
  status?: number;
  retryAfter?: string;
}
const exchanges = new AsyncLocalStorage<Exchange>();

/** RequestClient with SDK retries off (autoRetry false), our timeout, keep-alive, and the URI rewritten to `baseUrl`. */
class AdapterRequestClient extends twilio.RequestClient {
  private readonly base: string | undefined;

  constructor(baseUrl: string | undefined, timeoutMs: number) {
    super({ autoRetry: false, timeout: timeoutMs, keepAlive: true, maxSockets: 256 });
    this.base = baseUrl?.replace(/\/+$/, '');
    // Twilio only builds an https agent; a plain-http fake would otherwise get axios' default agent.
    if (this.base?.startsWith('http:')) this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  /** Closes pooled keep-alive sockets. */
  destroy(): void {
    for (const agent of [this.axios.defaults.httpAgent, this.axios.defaults.httpsAgent]) {
      if (agent instanceof http.Agent) agent.destroy();
    }
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioHttp.default<TData>> {
    if (this.base) {
      const u = new URL(opts.uri);
      opts = { ...opts, uri: `${this.base}${u.pathname}${u.search}` };
    }
    const res = await super.request(opts);
    const ex = exchanges.getStore();
    if (ex) {
      ex.status = res.statusCode;
      const ra = (res.headers as Record<string, unknown> | undefined)?.['retry-after'];
      if (ra !== undefined && ra !== null) ex.retryAfter = String(ra);
    }
    return res;
  }
}

function classifyError(err: unknown, ex: Exchange): SendFailure | undefined {
  const e = err as { status?: unknown; code?: unknown; message?: string; isAxiosError?: boolean; detail?: string };
  // RestException {status, code, moreInfo} and RFC 9457 TwilioServiceException {status, code, title, detail}.
  if (e && !e.isAxiosError && typeof e.status === 'number') {
    const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined;
    return classifyTwilio({ status: e.status, code, detail: e.detail ?? e.message, retryAfter: ex.retryAfter });
  }
  return networkFailure('twilio', err);
}

export function createTwilioAdapter(cfg: TwilioConfig): ProviderAdapter {
  if (!cfg.from && !cfg.messagingServiceSid) throw new Error('twilio: set from or messagingServiceSid');
  const httpClient = new AdapterRequestClient(cfg.baseUrl, cfg.timeoutMs);
  const client = twilio(cfg.accountSid, cfg.authToken, { httpClient, autoRetry: false });

  return {
    name: 'twilio',
    channel: 'sms',
    send(message) {
      const wrong = wrongChannel('twilio', 'sms', message);
      if (wrong) return Promise.resolve(wrong);
      const m = message as SmsMessage;
      const params: { to: string; body: string; from?: string; messagingServiceSid?: string; statusCallback?: string } = { to: m.to, body: m.content.body };
      // A messaging service picks the sender itself; prefer it when configured.
      if (cfg.messagingServiceSid) params.messagingServiceSid = cfg.messagingServiceSid;
      else params.from = cfg.from;
      // Twilio signs the callback URL as given, query included: it names the delivery the status is for.
      if (cfg.statusCallbackUrl && m.deliveryKey !== undefined && m.tenant !== undefined) {
        params.statusCallback = `${cfg.statusCallbackUrl}?${callbackQuery({ tenant: m.tenant, nid: m.notificationId, dk: m.deliveryKey })}`;
      }
      const ex: Exchange = {};
      return guardedSend(
        'twilio',
        cfg.timeoutMs,
        () => exchanges.run(ex, async () => ({ ok: true as const, providerMessageId: (await client.messages.create(params)).sid })),
        (err) => classifyError(err, ex),
        false,
      );
    },
    close: async () => httpClient.destroy(),
  };
}
