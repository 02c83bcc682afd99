// What the fakes called back (SNS deliveries, Twilio status callbacks): each POST and how the endpoint answered.

export interface Callback {
  provider: 'sns' | 'twilio';
  /** SNS message type, or Twilio's MessageStatus. */
  kind: string;
  url: string;
  at: number;
  /** HTTP status answered; 0 when the endpoint could not be reached. */
  status: number;
  /** The endpoint's answer (first 500 characters). */
  answer: string;
}

export class CallbackLog {
  private readonly items: Callback[] = [];

  constructor(private readonly max = 1_000) {}

  list(): Callback[] {
    return this.items.map((c) => ({ ...c }));
  }

  clear(): void {
    this.items.length = 0;
  }

  /** POSTs `body` and records the answer; never throws (a provider does not stop over an endpoint that fails). */
  async post(provider: Callback['provider'], kind: string, url: string, headers: Record<string, string>, body: string): Promise<Callback> {
    const c: Callback = { provider, kind, url, at: Date.now(), status: 0, answer: '' };
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) });
      c.status = res.status;
      c.answer = (await res.text()).slice(0, 500);
    } catch (err) {
      c.answer = (err as Error).message;
    }
    this.items.push(c);
    if (this.items.length > this.max) this.items.shift();
    return c;
  }
}
