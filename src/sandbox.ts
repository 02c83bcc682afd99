// Sandbox mode: the fake providers stand in for the real ones, so a fresh machine shows notifications flowing.
import type https from 'node:https';
import type { Config, Role } from './config.js';
import type { Logger } from './log.js';
import { sandboxProvidersConfig, snsCertAgent, startFakes, summarizeFakeMessage, type FakeMessage, type FakeMessageSummary, type FakesInfo, type Subscription } from './fakes/index.js';
import { RecentMap } from './fakes/recent-map.js';
import type { ProvidersConfig } from './providers/config.js';

export interface Sandbox {
  providers: ProvidersConfig;
  /** The fakes' plain HTTP address (their control endpoints, the fake Slack). */
  fakesUrl: string;
  /** Notes the tenant of a message a fake accepted (see ServiceOptions.sandboxSent). */
  sent(providerMessageId: string, tenant: string): void;
  /** The newest messages the fakes received for this tenant. */
  messages(tenant: string, limit: number): Promise<unknown[]>;
  /** How SNS signing certificates are fetched from the fake SNS (undefined when its address is not known here). */
  snsCertAgent?: https.Agent;
  /** Subscribes this service's SES feedback endpoint to the fake SNS topic of SES events. */
  subscribeFeedback(endpoint: string): Promise<void>;
  close(): Promise<void>;
}

/** As many messages as a fake keeps (its default ring), so a tenant's newest are among them. */
const SCAN = 10_000;

/**
 * With `url`, uses fakes running elsewhere. Otherwise a process that sends (worker roles) starts them here;
 * an ingress-only process reads their messages over HTTP from the configured port. A message is listed for the tenant
 * it was sent for: known to fakes started here (tagged as they are sent), and to a process that sent it itself.
 */
export async function startSandbox(config: Config, role: Role, log: Logger): Promise<Sandbox> {
  const { url, httpPort, apnsPort } = config.sandbox;
  if (url || role === 'ingress') {
    const base = url ?? `http://127.0.0.1:${httpPort}`;
    const own = new RecentMap<string>(SCAN);
    const remote = async (tenant: string, limit: number) => {
      const r = await fetchJson<{ messages?: Owned[] } | Owned[]>(`${base}/_fake/messages?limit=${SCAN}`);
      const all = Array.isArray(r) ? r : (r.messages ?? []);
      return newest(all.filter((m) => (m.owner ?? (m.messageId && own.get(m.messageId))) === tenant), limit);
    };
    // An ingress beside a worker's fakes needs their address too: SNS signing certificates are fetched from them.
    const info = url ? await fetchJson<FakesInfo>(`${base}/_fake/info`) : await fakesInfoSoon(base);
    if (!info) log.warn({ fakes: base }, 'sandbox: the fake providers do not answer yet (start the worker first); no delivery feedback here');
    // An ingress sends nothing; it uses the fakes' settings only to confirm the SES events subscription (fake SNS).
    const providers = info ? sandboxProvidersConfig(info) : {};
    log.warn({ fakes: base }, 'sandbox mode: sending to fake providers, nothing reaches a real device');
    return {
      providers, fakesUrl: base, messages: remote, close: async () => undefined, ...(info && { snsCertAgent: snsCertAgent(info) }),
      sent: (id, tenant) => own.set(id, tenant),
      subscribeFeedback: async (endpoint) => {
        const res = await fetch(`${base}/_fake/sns/subscriptions`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint }), signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`the fake SNS answered ${res.status}`);
        confirmed((await res.json()) as Subscription);
      },
    };
  }
  const fakes = await startFakes({
    httpPort, apnsPort,
    onMessage: (m) => log.info({ sandbox: logged(m) }, `sandbox ${m.provider} received a message`),
  });
  log.warn({ fakes: fakes.httpUrl, apnsPort: fakes.apnsPort }, 'sandbox mode: sending to fake providers started in this process, nothing reaches a real device; list them at GET /v1/sandbox/messages');
  return {
    providers: sandboxProvidersConfig(fakes),
    fakesUrl: fakes.httpUrl,
    sent: (id, tenant) => fakes.tag(id, tenant),
    messages: async (tenant, limit) => newest(fakes.received().filter((m) => fakes.owner(m.messageId) === tenant), limit),
    snsCertAgent: snsCertAgent(fakes),
    subscribeFeedback: async (endpoint) => confirmed(await fakes.subscribe(endpoint)),
    close: () => fakes.close(),
  };
}

type Owned = FakeMessage & { owner?: string };

/** The fake Slack incoming webhook of the fakes at `base`, and what it received (the sandbox's operator alerts). */
export function fakeSlack(base: string): { slackUrl: string; received: (limit: number) => Promise<unknown[]> } {
  return {
    slackUrl: `${base}/slack/services/T000/B000/sandbox`,
    received: async (limit) => {
      const all = await fetchJson<{ hook: string; at: number; message: unknown }[]>(`${base}/_fake/slack`);
      return all.slice(Math.max(0, all.length - limit)).map((g) => ({ at: new Date(g.at).toISOString(), message: g.message }));
    },
  };
}

/** The fakes' info, waiting a second for a worker that starts beside this ingress; undefined if they never answer. */
async function fakesInfoSoon(base: string): Promise<FakesInfo | undefined> {
  for (let i = 0; i < 4; i++) {
    try {
      return await fetchJson<FakesInfo>(`${base}/_fake/info`);
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return undefined;
}

/** A subscription the fake SNS made but this service did not confirm means no feedback: say so. */
function confirmed(sub: Subscription): void {
  if (!sub.confirmed) throw new Error('the SES events subscription was not confirmed (the SNS signature check or the confirmation failed)');
}


/** The summary under a field name the logger does not redact (it redacts every `to`): the address is masked already. */
function logged(m: FakeMessage): Omit<FakeMessageSummary, 'to'> & { recipient: string } {
  const { to, ...rest } = summarizeFakeMessage(m);
  return { ...rest, recipient: to };
}

const newest = (messages: FakeMessage[], limit: number) => messages.slice(Math.max(0, messages.length - limit)).map(summary);

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

const summary = (m: FakeMessage) => ({ ...summarizeFakeMessage(m), preview: preview(m) });

/** The words a sandbox user wants to see: title/body or subject, never the address. */
function preview(m: FakeMessage): string | undefined {
  const b = m.body;
  switch (m.provider) {
    case 'apns': return [b.aps?.alert?.title, b.aps?.alert?.body].filter(Boolean).join(' — ');
    case 'fcm': return [b.message?.notification?.title, b.message?.notification?.body].filter(Boolean).join(' — ');
    case 'twilio': return b.Body;
    case 'sns': return b.Message;
    case 'ses': return b.Content?.Simple?.Subject?.Data;
  }
}
