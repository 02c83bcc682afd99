// Builds the adapters of the configured providers, loading each SDK only when its provider is configured.
import type { ProviderName } from '../domain/types.js';
import type { ProvidersConfig } from './config.js';
import type { ProviderAdapter } from './types.js';

export type { ProviderAdapter, SendResult, SendFailure, SendOk, OutboundMessage } from './types.js';

// Cold-loading twilio alone takes ~250 ms: a worker without SMS should not pay for it.
const LOADERS: { [K in ProviderName]: (cfg: NonNullable<ProvidersConfig[K]>) => Promise<ProviderAdapter> } = {
  apns: async (cfg) => (await import('./apns.js')).createApnsAdapter(cfg),
  fcm: async (cfg) => (await import('./fcm.js')).createFcmAdapter(cfg),
  twilio: async (cfg) => (await import('./twilio.js')).createTwilioAdapter(cfg),
  ses: async (cfg) => (await import('./ses.js')).createSesAdapter(cfg),
  sns: async (cfg) => (await import('./sns.js')).createSnsAdapter(cfg),
};

/**
 * One adapter per configured provider, created in parallel. If any fails to start, the others are closed and the
 * error is thrown (bad provider configuration should stop start-up).
 * @example const adapters = await createAdapters(config.providers); await adapters.get('fcm')?.send(msg);
 */
export async function createAdapters(cfg: ProvidersConfig): Promise<Map<ProviderName, ProviderAdapter>> {
  const names = (Object.keys(LOADERS) as ProviderName[]).filter((n) => cfg[n] !== undefined);
  const settled = await Promise.allSettled(
    names.map((n) => (LOADERS[n] as (c: unknown) => Promise<ProviderAdapter>)(cfg[n])),
  );
  const adapters = new Map<ProviderName, ProviderAdapter>();
  const errors: string[] = [];
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') adapters.set(names[i]!, r.value);
    else errors.push(`${names[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
  });
  if (errors.length > 0) {
    await closeAdapters(adapters);
    throw new Error(`provider adapters failed to start: ${errors.join('; ')}`);
  }
  return adapters;
}

/** Closes every adapter, ignoring individual failures. */
export async function closeAdapters(adapters: Map<ProviderName, ProviderAdapter>): Promise<void> {
  await Promise.allSettled([...adapters.values()].map((a) => a.close()));
}
