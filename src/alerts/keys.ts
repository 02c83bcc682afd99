// Every Redis key of the alerts, under the service's prefix. A scope is a tenant id, or `*` for the operator's rules;
// tenants, rule and destination names never contain ':' or '|'.
export const OPERATOR = '*';

export interface AlertKeys {
  /** String (JSON): a tenant's settings (PUT /v1/alerts). */
  settings(tenant: string): string;
  /** Set: the tenants with settings. */
  readonly tenants: string;
  /** Hash: a rule's counts in the window starting at `start` (n, t, s, ma, ml, b:<what>). */
  counts(scope: string, rule: string, start: number): string;
  /** Hash: a rule's state (next window, firing, last message). */
  state(scope: string, rule: string): string;
  /** Stream: a destination's outbox (messages to send, oldest first). */
  outbox(scope: string, dest: string): string;
  /** Hash: the outbox head's attempts. */
  attempts(scope: string, dest: string): string;
  /** String: requests made to a destination in one rate window. */
  rate(scope: string, dest: string, window: number): string;
  /** Sorted set: destinations with something to send, scored by when (ms); member `<scope>|<dest>`. */
  readonly due: string;
  /** String: the process that evaluates and sends now. */
  readonly lease: string;
  /** String: the last dead letter (id in `<prefix>:dead`) counted. */
  readonly deadCursor: string;
  /** Stream: facts the status event stream does not carry (a webhook endpoint disabled), and its cursor. */
  readonly facts: string;
  readonly factsCursor: string;
  /** Hash: each worker's circuit states, field `<consumer>|<provider>`, value `<state>|<ms>`. */
  readonly circuits: string;
}

export function alertKeys(prefix: string): AlertKeys {
  const p = `${prefix}:al`;
  return {
    settings: (t) => `${p}:cfg:${t}`,
    tenants: `${p}:tenants`,
    counts: (s, r, start) => `${p}:c:${s}:${r}:${start}`,
    state: (s, r) => `${p}:st:${s}:${r}`,
    outbox: (s, d) => `${p}:q:${s}:${d}`,
    attempts: (s, d) => `${p}:at:${s}:${d}`,
    rate: (s, d, w) => `${p}:rl:${s}:${d}:${w}`,
    due: `${p}:due`,
    lease: `${p}:lease`,
    deadCursor: `${p}:dlc`,
    facts: `${p}:facts`,
    factsCursor: `${p}:fc`,
    circuits: `${p}:cb`,
  };
}

export const destMember = (scope: string, dest: string): string => `${scope}|${dest}`;
export function fromDestMember(m: string): [scope: string, dest: string] {
  const i = m.indexOf('|');
  return [m.slice(0, i), m.slice(i + 1)];
}
