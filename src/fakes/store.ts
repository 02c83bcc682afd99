// What the fakes received: a bounded ring of raw requests, per-provider counters, and waiters for tests.
import { RecentMap } from './recent-map.js';
import type { ProviderName } from '../domain/types.js';

/** One request a fake provider received, as it arrived on the wire (parsed JSON or form fields). */
export interface FakeMessage {
  provider: ProviderName;
  /** When the request arrived (ms since epoch). */
  at: number;
  /** Recipient: device token, phone number or email address(es, comma-joined). */
  to: string;
  /** HTTP status answered; 0 when the fake dropped the connection instead. */
  status: number;
  /** Provider error code/reason answered, when status is not 2xx. */
  error?: string;
  /** Provider message id answered on success. */
  messageId?: string;
  /** The headers that matter for this provider (lower-case names). */
  headers: Record<string, string>;
  /** Request content: APNs payload, FCM request JSON, SES request JSON, Twilio/SNS form fields. */
  body: Record<string, any>;
  /** Request body size in bytes. */
  bytes: number;
}

export interface ProviderStats {
  accepted: number;
  errored: number;
  /** Requests answered by dropping the connection (behaviour `down`). */
  dropped: number;
}

export type FakeStats = Record<ProviderName, ProviderStats>;
export type MessageHook = (message: FakeMessage) => void;

interface Waiter {
  predicate: (m: FakeMessage) => boolean;
  resolve: (m: FakeMessage) => void;
}

const PROVIDERS: ProviderName[] = ['apns', 'fcm', 'twilio', 'ses', 'sns'];
const emptyStats = (): FakeStats =>
  Object.fromEntries(PROVIDERS.map((p) => [p, { accepted: 0, errored: 0, dropped: 0 }])) as FakeStats;

/** Ring buffer of received requests; recording is O(1) so the bench can push 10k+/s through it. */
export class FakeStore {
  private readonly ring: (FakeMessage | undefined)[];
  private next = 0;
  private size = 0;
  private counters = emptyStats();
  private waiters: Waiter[] = [];
  /** messageId → owner (the sandbox's tenant), bounded like the ring. */
  private readonly owners: RecentMap<string>;

  constructor(readonly capacity = 10_000, private readonly onMessage?: MessageHook) {
    this.ring = new Array(capacity);
    this.owners = new RecentMap(capacity);
  }

  record(message: FakeMessage): void {
    this.ring[this.next] = message;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    const c = this.counters[message.provider];
    if (message.status === 0) c.dropped++;
    else if (message.status < 300) c.accepted++;
    else c.errored++;
    if (this.onMessage) {
      try {
        this.onMessage(message);
      } catch {
        // A broken log hook must not break the fake.
      }
    }
    if (this.waiters.length > 0) this.wake(message);
  }

  /** Received requests, oldest first; `limit` keeps the newest ones. */
  received(provider?: ProviderName, limit = Infinity): FakeMessage[] {
    const out: FakeMessage[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const m = this.ring[(start + i) % this.capacity]!;
      if (!provider || m.provider === provider) out.push(m);
    }
    return limit < out.length ? out.slice(out.length - limit) : out;
  }

  /**
   * Resolves with the first received request (already stored or still to come) that matches, or rejects after timeoutMs.
   * @example const m = await store.waitFor((m) => m.provider === 'fcm' && m.to === token);
   */
  waitFor(predicate: (m: FakeMessage) => boolean, timeoutMs = 2000): Promise<FakeMessage> {
    const found = this.received().find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`fake providers: no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Notes who a message belongs to (the sandbox lists messages per tenant); at least the newest `capacity` are kept. */
  tag(messageId: string, owner: string): void {
    this.owners.set(messageId, owner);
  }

  /** Who a message was tagged as belonging to. */
  owner(messageId: string | undefined): string | undefined {
    return messageId === undefined ? undefined : this.owners.get(messageId);
  }

  stats(): FakeStats {
    return structuredClone(this.counters);
  }

  /** Forgets every received request and resets the counters. */
  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.size = 0;
    this.counters = emptyStats();
    this.owners.clear();
  }

  private wake(message: FakeMessage): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.predicate(message)) w.resolve(message);
      else still.push(w);
    }
    this.waiters = still;
  }
}
