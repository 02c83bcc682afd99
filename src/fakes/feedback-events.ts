// What happens to a message after the fake provider accepted it, told back the providers' way: SES events
// (event publishing to SNS, for a message sent with a configuration set) and Twilio status callbacks (to the
// message's StatusCallback, signed with the account's auth token). An address's fate is set by a control, or by
// the SES mailbox simulator's addresses.
import { createHmac, randomUUID } from 'node:crypto';
import type { CallbackLog } from './callback-log.js';
import { FAKE_ACCOUNT, SES_EVENTS_TOPIC, type SnsTopics } from './sns-topics.js';

export const SES_OUTCOMES = ['delivery', 'bounce', 'soft_bounce', 'complaint', 'reject', 'delay'] as const;
export const TWILIO_OUTCOMES = ['delivered', 'undelivered', 'failed'] as const;
export type SesOutcome = (typeof SES_OUTCOMES)[number];
export type TwilioOutcome = (typeof TWILIO_OUTCOMES)[number];

const SIMULATOR: Record<string, SesOutcome> = {
  'success@simulator.amazonses.com': 'delivery', 'bounce@simulator.amazonses.com': 'bounce',
  'complaint@simulator.amazonses.com': 'complaint', 'ooto@simulator.amazonses.com': 'delivery',
};
/** Pause before each event: a provider never answers with its delivery report in the same instant. */
const STEP_MS = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export class FeedbackEvents {
  private readonly ses = new Map<string, SesOutcome>();
  private readonly twilio = new Map<string, TwilioOutcome>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly topics: SnsTopics,
    private readonly log: CallbackLog,
  ) {}

  /** What becomes of messages to `to` from now on (undefined: the default, delivered). */
  setOutcome(provider: 'ses' | 'twilio', to: string, outcome: SesOutcome | TwilioOutcome | undefined): void {
    const map = (provider === 'ses' ? this.ses : this.twilio) as Map<string, string>;
    if (outcome === undefined) map.delete(to.toLowerCase());
    else map.set(to.toLowerCase(), outcome);
  }

  clearOutcomes(): void {
    this.ses.clear();
    this.twilio.clear();
  }

  /** Called for each accepted SendEmail. */
  sesSent(body: Record<string, any>, messageId: string): void {
    if (!body.ConfigurationSetName || !this.topics.hasSubscribers(SES_EVENTS_TOPIC)) return;
    const to: string[] = body.Destination?.ToAddresses ?? [];
    const outcome = this.ses.get(to[0]?.toLowerCase() ?? '') ?? SIMULATOR[to[0]?.toLowerCase() ?? ''] ?? 'delivery';
    this.run(async () => {
      const publish = async (eventType: string, part: Record<string, unknown>) => {
        await sleep(STEP_MS);
        const event = { eventType, mail: mailObject(body, messageId, to), ...part };
        await this.topics.publish(SES_EVENTS_TOPIC, JSON.stringify(event), 'Amazon SES Email Event Notification');
      };
      const now = () => new Date().toISOString();
      const recipients = (extra: Record<string, string> = {}) => to.map((emailAddress) => ({ emailAddress, ...extra }));
      await publish('Send', { send: {} });
      if (outcome === 'reject') return publish('Reject', { reject: { reason: 'Bad content' } });
      if (outcome === 'delay') {
        await publish('DeliveryDelay', {
          deliveryDelay: { timestamp: now(), delayType: 'MailboxFull', expirationTime: new Date(Date.now() + 86_400_000).toISOString(), delayedRecipients: recipients({ status: '4.2.2' }) },
        });
      }
      if (outcome === 'bounce' || outcome === 'soft_bounce') {
        const hard = outcome === 'bounce';
        return publish('Bounce', {
          bounce: {
            bounceType: hard ? 'Permanent' : 'Transient', bounceSubType: hard ? 'General' : 'MailboxFull', timestamp: now(), feedbackId: `${messageId}-bounce`,
            bouncedRecipients: recipients(hard ? { action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' } : { action: 'failed', status: '4.2.2' }),
            reportingMTA: 'dsn; fake-mta.amazonses.com',
          },
        });
      }
      await publish('Delivery', {
        delivery: { timestamp: now(), processingTimeMillis: STEP_MS, recipients: to, smtpResponse: '250 2.6.0 Message received', reportingMTA: 'fake-mta.amazonses.com' },
      });
      if (outcome === 'complaint') {
        await publish('Complaint', {
          complaint: { complainedRecipients: recipients(), timestamp: now(), feedbackId: `${messageId}-complaint`, complaintFeedbackType: 'abuse', arrivalDate: now() },
        });
      }
    });
  }

  /** Called for each accepted Messages.json create; `authToken` is the password the request authenticated with. */
  twilioSent(form: Record<string, string>, sid: string, accountSid: string, authToken: string): void {
    const url = form.StatusCallback;
    if (!url) return;
    const outcome = this.twilio.get((form.To ?? '').toLowerCase()) ?? 'delivered';
    this.run(async () => {
      for (const status of ['sent', outcome]) {
        await sleep(STEP_MS);
        const params: Record<string, string> = {
          AccountSid: accountSid, ApiVersion: '2010-04-01', From: form.From ?? '', MessageSid: sid, MessageStatus: status,
          SmsSid: sid, SmsStatus: status, To: form.To ?? '',
          ...(form.MessagingServiceSid && { MessagingServiceSid: form.MessagingServiceSid }),
          ...(status === 'undelivered' && { ErrorCode: '30003' }), ...(status === 'failed' && { ErrorCode: '30008' }),
        };
        const headers = {
          'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TwilioProxy/1.1',
          'x-twilio-signature': twilioSignature(authToken, url, params), 'i-twilio-idempotency-token': randomUUID(),
        };
        await this.log.post('twilio', status, url, headers, new URLSearchParams(params).toString());
      }
    });
  }

  /** Resolves once every callback started so far has been answered. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private run(work: () => Promise<unknown>): void {
    const p: Promise<void> = work().then(() => undefined, () => undefined).finally(() => this.running.delete(p));
    this.running.add(p);
  }
}

/** X-Twilio-Signature: base64 HMAC-SHA1, keyed by the auth token, of the URL followed by each POST field's name and value, sorted by name. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** The `mail` object of an SES event: the message, with its tags as `{name: [value]}`. */
function mailObject(body: Record<string, any>, messageId: string, to: string[]): Record<string, unknown> {
  const tags: Record<string, string[]> = { 'ses:configuration-set': [body.ConfigurationSetName], 'ses:from-domain': [String(body.FromEmailAddress ?? '').split('@')[1] ?? ''] };
  for (const t of (body.EmailTags ?? []) as { Name: string; Value: string }[]) tags[t.Name] = [t.Value];
  return {
    timestamp: new Date().toISOString(), source: body.FromEmailAddress, sourceArn: `arn:aws:ses:us-east-1:${FAKE_ACCOUNT}:identity/${body.FromEmailAddress}`,
    sendingAccountId: FAKE_ACCOUNT, messageId, destination: to, headersTruncated: false,
    commonHeaders: { from: [body.FromEmailAddress], to, messageId, subject: body.Content?.Simple?.Subject?.Data ?? '' }, tags,
  };
}
