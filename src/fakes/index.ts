// Starts every fake provider (APNs over HTTP/2 + TLS; FCM, Twilio, SES, SNS over HTTP/1.1) and points adapters at them.
import type { ProviderName } from '../domain/types.js';
import type { ProvidersConfig } from '../providers/config.js';
import { startApnsFake } from './apns-fake.js';
import { Behaviors, type Behavior } from './behavior.js';
import { startHttpFake } from './http-fake.js';
import { LatencyProbe, type LatencySnapshot } from './latency.js';
import { FakeStore, type FakeMessage, type FakeStats, type MessageHook } from './store.js';
import { generateApnsKey, generateTlsMaterial, type ApnsKeyMaterial } from './tls.js';
import { CallbackLog, type Callback } from './callback-log.js';
import { FeedbackEvents, type SesOutcome, type TwilioOutcome } from './feedback-events.js';
import { startCertServer } from './sns-cert-server.js';
import { SES_EVENTS_TOPIC, SNS_CERT_HOST, SnsTopics, type Subscription } from './sns-topics.js';
import { SlackInbox, type SlackReceived } from './slack-fake.js';

export type { Behavior, FailSpec } from './behavior.js';
export type { FakeMessage, FakeStats, ProviderStats, MessageHook } from './store.js';
export type { ApnsKeyMaterial, TlsMaterial } from './tls.js';
export { generateApnsKey, generateTlsMaterial } from './tls.js';
export { maskAddress, summarizeFakeMessage, type FakeMessageSummary } from './mask.js';
export { benchTimestamp, preciseNow, type LatencySnapshot } from './latency.js';
export type { Callback } from './callback-log.js';
export type { SesOutcome, TwilioOutcome } from './feedback-events.js';
export type { Subscription } from './sns-topics.js';
export { snsCertAgent } from './sns-cert-agent.js';
export type { SlackReceived } from './slack-fake.js';

export interface StartFakesOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  apnsPort?: number;
  httpPort?: number;
  /** Size of the received-message ring; default 10 000. */
  maxMessages?: number;
  /** Called once per received request (keep it cheap; log `summarizeFakeMessage(m)`, never the raw message). */
  onMessage?: MessageHook;
  /** Use this APNs key instead of generating one. */
  apnsKey?: ApnsKeyMaterial;
}

/** What a client needs to reach running fakes; serialisable, so another process can use it (see src/fakes/main.ts). */
export interface FakesInfo {
  /** Address clients connect to. */
  host: string;
  httpPort: number;
  apnsPort: number;
  /** http://host:httpPort */
  httpUrl: string;
  /** CA that signed the APNs fake's certificate. */
  caPem: string;
  /** The key the APNs fake accepts provider tokens from. */
  apns: { keyPem: string; keyId: string; teamId: string };
  /** Port of the TLS server standing in for sns.<region>.amazonaws.com (the SNS signing certificate; see snsCertAgent). */
  snsCertPort: number;
  /** The SNS topic SES events are published to. */
  sesEventsTopicArn: string;
}

/** Running fakes: connection facts, what they received, how they behave. */
export interface Fakes extends FakesInfo {
  /** Received requests, oldest first (the newest `limit`). */
  received(provider?: ProviderName, limit?: number): FakeMessage[];
  /** First request (stored or coming) matching the predicate; rejects after timeoutMs (default 2000). */
  waitFor(predicate: (m: FakeMessage) => boolean, timeoutMs?: number): Promise<FakeMessage>;
  /** Forgets received requests and resets counters. */
  clear(): void;
  /** Notes who a received message belongs to (`owner` in GET /_fake/messages). */
  tag(messageId: string, owner: string): void;
  owner(messageId: string | undefined): string | undefined;
  stats(): FakeStats;
  /** Replaces a provider's behaviour; `{}` restores normal service. */
  behavior(provider: ProviderName, behavior: Behavior): void;
  resetBehavior(provider?: ProviderName): void;
  /** Bench probe: latency of received messages that carry a bench timestamp (see latency.ts); also GET /_fake/latency. */
  latency(): LatencySnapshot;
  resetLatency(): void;
  /** Subscribes an HTTP(S) endpoint to a topic (default: the SES events topic); resolves once it answered the confirmation. */
  subscribe(endpoint: string, opts?: { topicArn?: string; signatureVersion?: 1 | 2 }): Promise<Subscription>;
  subscriptions(): Subscription[];
  /** What becomes of messages to `to` (undefined: delivered): SES events or Twilio status callbacks tell it. */
  outcome(provider: 'ses', to: string, outcome: SesOutcome | undefined): void;
  outcome(provider: 'twilio', to: string, outcome: TwilioOutcome | undefined): void;
  /** SNS deliveries and Twilio status callbacks made, and how they were answered. */
  callbacks(): Callback[];
  /** Resolves once every callback started so far was answered. */
  callbacksSettled(): Promise<void>;
  /** The fake Slack incoming webhook: `<httpUrl>/slack/<any path>`. */
  slackUrl(path?: string): string;
  /** Messages the fake Slack accepted, oldest first (`all`: failed requests too). */
  slack(all?: boolean): SlackReceived[];
  clearSlack(): void;
  /** The fake Slack answers the next `n` requests with `status` (default 500). */
  failSlack(n: number, status?: number): void;
  /** Signs an SNS message as the fake SNS does (for tests that build their own). */
  signSns(message: Record<string, string>, version?: '1' | '2'): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** The serialisable part of running fakes (what src/fakes/main.ts prints). */
export function fakesInfo(f: FakesInfo): FakesInfo {
  return {
    host: f.host, httpPort: f.httpPort, apnsPort: f.apnsPort, httpUrl: f.httpUrl, caPem: f.caPem, apns: { ...f.apns },
    snsCertPort: f.snsCertPort, sesEventsTopicArn: f.sesEventsTopicArn,
  };
}

function connectHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/**
 * Starts the fakes.
 * @example
 * const fakes = await startFakes();
 * const adapters = await createAdapters(sandboxProvidersConfig(fakes));
 * ...
 * await fakes.close();
 */
export async function startFakes(opts: StartFakesOptions = {}): Promise<Fakes> {
  const host = opts.host ?? '127.0.0.1';
  const probe = new LatencyProbe();
  const hook = opts.onMessage;
  const store = new FakeStore(opts.maxMessages ?? 10_000, hook ? (m) => (probe.observe(m), hook(m)) : (m) => probe.observe(m));
  const behaviors = new Behaviors();
  const key = opts.apnsKey ?? generateApnsKey();
  const tls = await generateTlsMaterial([SNS_CERT_HOST]);
  let info: FakesInfo | undefined;
  const log = new CallbackLog();
  const topics = new SnsTopics(log);
  const events = new FeedbackEvents(topics, log);
  const slack = new SlackInbox();
  const apns = await startApnsFake({ host, port: opts.apnsPort ?? 0, tls, key, store, behaviors });
  const certs = await startCertServer(host, tls, topics);
  const http = await startHttpFake({ host, port: opts.httpPort ?? 0, store, behaviors, latency: probe, info: () => info, feedback: { topics, events, log }, slack }).catch(async (err) => {
    await Promise.all([apns.close(), certs.close()]);
    throw err;
  });
  const clientHost = connectHost(host);
  info = {
    host: clientHost,
    httpPort: http.port,
    apnsPort: apns.port,
    httpUrl: `http://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${http.port}`,
    caPem: tls.caPem,
    apns: { keyPem: key.keyPem, keyId: key.keyId, teamId: key.teamId },
    snsCertPort: certs.port,
    sesEventsTopicArn: SES_EVENTS_TOPIC,
  };
  return {
    ...info,
    received: (provider, limit) => store.received(provider, limit),
    waitFor: (predicate, timeoutMs) => store.waitFor(predicate, timeoutMs),
    clear: () => {
      store.clear();
      log.clear();
      slack.clear();
    },
    tag: (messageId, owner) => store.tag(messageId, owner),
    owner: (messageId) => store.owner(messageId),
    stats: () => store.stats(),
    behavior: (provider, behavior) => behaviors.set(provider, behavior),
    resetBehavior: (provider) => {
      behaviors.reset(provider);
      if (!provider) events.clearOutcomes();
    },
    latency: () => probe.snapshot(),
    resetLatency: () => probe.reset(),
    subscribe: (endpoint, o) => topics.subscribe(endpoint, o),
    subscriptions: () => topics.list(),
    outcome: (provider: 'ses' | 'twilio', to: string, outcome: SesOutcome | TwilioOutcome | undefined) => events.setOutcome(provider, to, outcome),
    callbacks: () => log.list(),
    callbacksSettled: () => events.settled(),
    slackUrl: (path = 'services/T000/B000/sandbox') => `${info!.httpUrl}/slack/${path}`,
    slack: (all) => slack.received(all),
    clearSlack: () => slack.clear(),
    failSlack: (n, status) => slack.fail(n, status),
    signSns: (m, version) => topics.sign(m, version),
    close: async () => {
      await Promise.all([apns.close(), http.close(), certs.close()]);
    },
  };
}

/** Per-provider overrides for the sandbox configuration; `null` leaves that provider out. */
export type SandboxOverrides = {
  [K in keyof ProvidersConfig]?: Partial<NonNullable<ProvidersConfig[K]>> | null;
};

/** How long the sandbox's SDKs keep one request open: longer than any send timeout it is run with, plus a late answer. */
export const SANDBOX_ANSWER_BOUND_MS = 120_000;

/** Dummy credentials the fakes accept. */
export const SANDBOX_CREDENTIALS = {
  apnsTopic: 'com.example.notify.sandbox',
  fcmProjectId: 'notify-sandbox',
  twilioAccountSid: `AC${'0'.repeat(31)}1`,
  twilioAuthToken: 'sandbox-auth-token',
  twilioFrom: '+15005550006',
  sesFrom: 'notify@sandbox.example.com',
  awsRegion: 'us-east-1',
  awsAccessKeyId: 'AKIASANDBOXFAKE00000',
  awsSecretAccessKey: 'sandbox-secret-access-key',
} as const;

/**
 * A ProvidersConfig that points every adapter at the fakes, with dummy credentials.
 * @example const cfg = sandboxProvidersConfig(fakes, { twilio: { timeoutMs: 200 }, sns: null });
 */
export function sandboxProvidersConfig(fakes: FakesInfo, overrides: SandboxOverrides = {}): ProvidersConfig {
  const c = SANDBOX_CREDENTIALS;
  // The SDKs' bound for one request (see providers/config.ts). The send timeout itself (NOTIFY_SEND_TIMEOUT_MS) is the
  // channel actors', so this only has to exceed it: a fixed value here once made every sandbox send time out at 5 s.
  const timeoutMs = SANDBOX_ANSWER_BOUND_MS;
  const aws = { region: c.awsRegion, endpoint: fakes.httpUrl, accessKeyId: c.awsAccessKeyId, secretAccessKey: c.awsSecretAccessKey, timeoutMs };
  const base: Required<ProvidersConfig> = {
    apns: {
      key: fakes.apns.keyPem, keyId: fakes.apns.keyId, teamId: fakes.apns.teamId, topic: c.apnsTopic,
      production: false, address: fakes.host, port: fakes.apnsPort, ca: fakes.caPem, timeoutMs,
    },
    fcm: { projectId: c.fcmProjectId, endpoint: { host: fakes.host, port: fakes.httpPort, tls: false }, timeoutMs, maxSockets: 64 },
    twilio: { accountSid: c.twilioAccountSid, authToken: c.twilioAuthToken, from: c.twilioFrom, baseUrl: fakes.httpUrl, timeoutMs },
    // A configuration set, so the fake SES publishes events (as an SES configuration set with an SNS destination does).
    ses: { ...aws, from: c.sesFrom, configurationSetName: 'notify-sandbox' },
    sns: { ...aws },
  };
  const out: ProvidersConfig = {};
  for (const name of Object.keys(base) as (keyof ProvidersConfig)[]) {
    const o = overrides[name];
    if (o === null) continue;
    (out as Record<string, unknown>)[name] = { ...base[name], ...o };
  }
  return out;
}
