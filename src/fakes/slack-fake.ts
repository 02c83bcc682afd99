// A fake Slack incoming webhook: POST /slack/<path> with a JSON message answers 200 `ok` as Slack does (or, while told
// to fail, the status it was given) and keeps what it received; GET /_fake/slack lists it, DELETE /_fake/slack forgets
// it, POST /_fake/slack/behavior {fail: n, status?} makes the next n requests fail.
export interface SlackReceived {
  /** The path after /slack/ (the hook's own part of the URL). */
  hook: string;
  at: number;
  /** The message as sent (text, blocks…), or the raw body when it was not JSON. */
  message: unknown;
  /** The answer given. */
  status: number;
}

export class SlackInbox {
  private readonly got: SlackReceived[] = [];
  private failing = 0;
  private failStatus = 500;

  constructor(private readonly max = 1_000) {}

  /** Handles one request to /slack/<hook>; returns the answer. */
  receive(hook: string, body: string): { status: number; text: string } {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      message = body;
    }
    const ok = this.failing === 0;
    const valid = typeof message === 'object' && message !== null && (typeof (message as { text?: unknown }).text === 'string' || Array.isArray((message as { blocks?: unknown }).blocks));
    const status = !ok ? this.failStatus : valid ? 200 : 400;
    if (!ok) this.failing--;
    this.got.push({ hook, at: Date.now(), message, status });
    if (this.got.length > this.max) this.got.shift();
    return { status, text: status === 200 ? 'ok' : status === 400 ? 'invalid_payload' : 'service_unavailable' };
  }

  /** What was received (and answered 200), oldest first; `all` includes the failed requests too. */
  received(all = false): SlackReceived[] {
    return all ? [...this.got] : this.got.filter((g) => g.status === 200);
  }

  clear(): void {
    this.got.length = 0;
    this.failing = 0;
  }

  /** The next `n` requests are answered `status` (default 500). */
  fail(n: number, status = 500): void {
    this.failing = n;
    this.failStatus = status;
  }
}
