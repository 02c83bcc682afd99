// The plain HTTP/1.1 fake (keep-alive): FCM, Twilio, SES and SNS routed by path, plus the /_fake control endpoints.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROVIDERS, type ProviderName } from '../domain/types.js';
import { parseBehaviorRequest, type Behaviors } from './behavior.js';
import { fcmRoute } from './fcm-wire.js';
import { sesRoute } from './ses-wire.js';
import { snsRoute, snsTopicAction } from './sns-wire.js';
import type { CallbackLog } from './callback-log.js';
import { SES_OUTCOMES, TWILIO_OUTCOMES, type FeedbackEvents } from './feedback-events.js';
import type { SnsTopics } from './sns-topics.js';
import type { LatencyProbe } from './latency.js';
import type { FakeStore } from './store.js';
import { twilioRoute } from './twilio-wire.js';
import type { SlackInbox } from './slack-fake.js';
import type { HttpProviderRoute, WireReply } from './wire.js';

const ROUTES: HttpProviderRoute[] = [fcmRoute, twilioRoute, sesRoute, snsRoute];
const MAX_BODY = 10 * 1024 * 1024;

export interface HttpFakeOptions {
  host: string;
  port: number;
  store: FakeStore;
  behaviors: Behaviors;
  /** Bench latency probe, served at GET /_fake/latency (DELETE resets it). */
  latency?: LatencyProbe;
  /** Served at GET /_fake/info so another process can learn ports and key material. */
  info: () => unknown;
  /** SNS topics and what happens after a send (SES events, Twilio status callbacks). */
  feedback: { topics: SnsTopics; events: FeedbackEvents; log: CallbackLog };
  /** A fake Slack incoming webhook at POST /slack/<path> (GET/DELETE /_fake/slack). */
  slack?: SlackInbox;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, reply: WireReply): void {
  if (res.destroyed) return;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

function json(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) res.writeHead(status).end();
  else send(res, { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function readBody(req: IncomingMessage, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => done(size <= MAX_BODY ? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) : undefined));
  req.on('error', () => undefined);
}

function providerParam(v: string | null): ProviderName | undefined {
  return v && (PROVIDERS as readonly string[]).includes(v) ? (v as ProviderName) : undefined;
}

/** Starts the HTTP/1.1 fake on host:port (0 = ephemeral). */
export function startHttpFake(opts: HttpFakeOptions): Promise<RunningServer> {
  const { store, behaviors } = opts;
  const timers = new Set<NodeJS.Timeout>();

  function serve(route: HttpProviderRoute, params: string[], req: IncomingMessage, res: ServerResponse, path: string): void {
    readBody(req, (body) => {
      const at = Date.now();
      if (!body) return send(res, route.fail({ status: 413, code: 'RequestEntityTooLarge' }, params).reply);
      const parsed = route.parse({ method: req.method ?? 'POST', path, headers: req.headers, body }, params);
      const signed = String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ');
      const topicAction = route.provider === 'sns' ? snsTopicAction(parsed.body, signed, opts.feedback.topics) : undefined;
      if (topicAction) return send(res, topicAction);
      const decision = behaviors.decide(route.provider, parsed.to);
      const base = { provider: route.provider, at, to: parsed.to, headers: parsed.headers, body: parsed.body, bytes: body.length };
      const finish = (): void => {
        if (decision.down) {
          store.record({ ...base, status: 0, error: 'down' });
          req.socket.destroy();
          return;
        }
        // An injected failure wins over validation: an overloaded provider answers before it reads the message.
        const failure = decision.fail ?? parsed.invalid;
        if (failure) {
          const { reply, code } = route.fail(failure, params);
          store.record({ ...base, status: reply.status, error: code });
          send(res, reply);
        } else {
          const { reply, messageId } = route.ok(parsed, params);
          store.record({ ...base, status: reply.status, messageId });
          send(res, reply);
          afterSend(route.provider, parsed.body, messageId, params, req.headers.authorization);
        }
      };
      if (decision.latencyMs <= 0) return finish();
      const t = setTimeout(() => {
        timers.delete(t);
        finish();
      }, decision.latencyMs);
      timers.add(t);
    });
  }

  /** What the provider does with an accepted message later: events, callbacks, topic fan-out. */
  function afterSend(provider: ProviderName, body: Record<string, any>, messageId: string, params: string[], authorization?: string): void {
    const { events, topics } = opts.feedback;
    if (provider === 'ses') events.sesSent(body, messageId);
    if (provider === 'twilio') {
      const [, token] = Buffer.from((authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
      events.twilioSent(body, messageId, params[0]!, token ?? '');
    }
    if (provider === 'sns' && body.TopicArn && !body.PhoneNumber) void topics.publish(body.TopicArn, body.Message ?? '', body.Subject);
  }

  function withJson(req: IncomingMessage, res: ServerResponse, handle: (body: Record<string, any>) => Promise<unknown> | unknown): void {
    readBody(req, (raw) => {
      Promise.resolve()
        .then(() => handle(JSON.parse(raw?.toString('utf8') || '{}') as Record<string, any>))
        .then((out) => json(res, 200, out), (err: unknown) => json(res, 400, { error: err instanceof Error ? err.message : String(err) }));
    });
  }

  function feedbackControl(req: IncomingMessage, res: ServerResponse, key: string): boolean {
    const { topics, events, log } = opts.feedback;
    if (key === 'GET /_fake/sns/subscriptions') return (json(res, 200, topics.list()), true);
    if (key === 'POST /_fake/sns/subscriptions') {
      withJson(req, res, (b) => {
        if (typeof b.endpoint !== 'string' || !/^https?:\/\//.test(b.endpoint)) throw new Error('endpoint: an http(s) URL is required');
        return topics.subscribe(b.endpoint, { ...(typeof b.topicArn === 'string' && { topicArn: b.topicArn }), ...(b.signatureVersion === 2 && { signatureVersion: 2 }) });
      });
      return true;
    }
    if (key === 'POST /_fake/outcomes') {
      withJson(req, res, (b) => {
        const allowed: readonly string[] = b.provider === 'ses' ? SES_OUTCOMES : b.provider === 'twilio' ? TWILIO_OUTCOMES : [];
        if (typeof b.to !== 'string' || (b.outcome !== undefined && !allowed.includes(b.outcome))) {
          throw new Error(`provider must be ses (${SES_OUTCOMES.join(', ')}) or twilio (${TWILIO_OUTCOMES.join(', ')}), with to and outcome`);
        }
        events.setOutcome(b.provider, b.to, b.outcome);
        return { provider: b.provider, to: b.to, outcome: b.outcome ?? null };
      });
      return true;
    }
    if (key === 'DELETE /_fake/outcomes') return (events.clearOutcomes(), json(res, 204), true);
    if (key === 'GET /_fake/callbacks') return (json(res, 200, log.list()), true);
    if (key === 'DELETE /_fake/callbacks') return (log.clear(), json(res, 204), true);
    return false;
  }

  function slackControl(req: IncomingMessage, res: ServerResponse, key: string, query: URLSearchParams): boolean {
    const slack = opts.slack;
    if (!slack) return false;
    if (key === 'GET /_fake/slack') return (json(res, 200, slack.received(query.get('all') === 'true')), true);
    if (key === 'DELETE /_fake/slack') return (slack.clear(), json(res, 204), true);
    if (key === 'POST /_fake/slack/behavior') {
      withJson(req, res, (b) => {
        if (!Number.isInteger(b.fail) || b.fail < 0 || (b.status !== undefined && !(Number.isInteger(b.status) && b.status >= 400 && b.status <= 599))) {
          throw new Error('fail: a whole number of requests to fail, status?: 400-599');
        }
        slack.fail(b.fail, b.status);
        return { fail: b.fail, status: b.status ?? 500 };
      });
      return true;
    }
    return false;
  }

  function control(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    const key = `${req.method} ${path}`;
    if (feedbackControl(req, res, key)) return;
    if (slackControl(req, res, key, query)) return;
    if (key === 'GET /_fake/messages') {
      const limit = Number(query.get('limit') ?? 100);
      const messages = store.received(providerParam(query.get('provider')), Number.isFinite(limit) ? limit : 100);
      return json(res, 200, messages.map((m) => {
        const owner = store.owner(m.messageId);
        return owner === undefined ? m : { ...m, owner };
      }));
    }
    if (key === 'DELETE /_fake/messages') return (store.clear(), json(res, 204));
    if (key === 'GET /_fake/stats') return json(res, 200, store.stats());
    if (key === 'GET /_fake/info') return json(res, 200, opts.info());
    if (key === 'GET /_fake/latency' && opts.latency) return json(res, 200, opts.latency.snapshot());
    if (key === 'DELETE /_fake/latency' && opts.latency) return (opts.latency.reset(), json(res, 204));
    if (key === 'DELETE /_fake/behavior') return (behaviors.reset(), json(res, 204));
    if (key === 'GET /_fake/behavior') {
      return json(res, 200, Object.fromEntries(PROVIDERS.map((p) => [p, behaviors.get(p)])));
    }
    if (key === 'POST /_fake/behavior') {
      return readBody(req, (body) => {
        try {
          const { provider, behavior } = parseBehaviorRequest(JSON.parse(body?.toString('utf8') || '{}'));
          behaviors.set(provider, behavior);
          json(res, 200, { provider, behavior: behaviors.get(provider) });
        } catch (err) {
          json(res, 400, { error: err instanceof Error ? err.message : String(err) });
        }
      });
    }
    json(res, 404, { error: `no control endpoint ${key}` });
  }

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path.startsWith('/_fake/')) return control(req, res, path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const method = req.method ?? 'GET';
    if (opts.slack && method === 'POST' && path.startsWith('/slack/')) {
      const slack = opts.slack;
      return readBody(req, (body) => {
        const answer = slack.receive(path.slice('/slack/'.length), body?.toString('utf8') ?? '');
        send(res, { status: answer.status, headers: { 'content-type': 'text/plain' }, body: answer.text });
      });
    }
    for (const route of ROUTES) {
      const params = route.match(method, path);
      if (params) return serve(route, params, req, res, path);
    }
    req.resume();
    json(res, 404, { error: 'no fake provider serves this path' });
  });
  // Longer than any client's idle keep-alive, so the fake never closes a socket a client is about to reuse.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

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
            server.closeAllConnections();
          }),
      });
    });
  });
}
