// Every Redis key of the webhooks, under the service's prefix. Tenants and endpoint names never contain ':'.
export interface WebhookKeys {
  /** Hash: an endpoint (url, events, enabled, secrets, times, why it was disabled). */
  endpoint(tenant: string, name: string): string;
  /** Set: a tenant's endpoint names. */
  index(tenant: string): string;
  /** Stream: the endpoint's queue, sent from the head, one at a time. */
  queue(tenant: string, name: string): string;
  /** Hash: the endpoint's delivery state (head entry and its attempts, consecutive failures and since when). */
  state(tenant: string, name: string): string;
  /** List (JSON, newest first): the endpoint's recent attempts. */
  attempts(tenant: string, name: string): string;
  /** Stream: the endpoint's dead letters. */
  dead(tenant: string, name: string): string;
  /** String: which sender holds the endpoint now. */
  lease(tenant: string, name: string): string;
  /** Sorted set: endpoints with something queued, scored by when they are due (ms); member `<tenant>:<name>`. */
  readonly due: string;
  /** String: which process dispatches the event stream now (one at a time keeps the events in order). */
  readonly dispatchLease: string;
}

export function webhookKeys(prefix: string): WebhookKeys {
  const p = `${prefix}:wh`;
  return {
    endpoint: (t, n) => `${p}:ep:${t}:${n}`,
    index: (t) => `${p}:ix:${t}`,
    queue: (t, n) => `${p}:q:${t}:${n}`,
    state: (t, n) => `${p}:st:${t}:${n}`,
    attempts: (t, n) => `${p}:at:${t}:${n}`,
    dead: (t, n) => `${p}:dl:${t}:${n}`,
    lease: (t, n) => `${p}:lease:${t}:${n}`,
    due: `${p}:due`,
    dispatchLease: `${p}:dispatch`,
  };
}

export const member = (tenant: string, name: string): string => `${tenant}:${name}`;
export function fromMember(m: string): [tenant: string, name: string] {
  const i = m.indexOf(':');
  return [m.slice(0, i), m.slice(i + 1)];
}
