// Email adapter on Amazon SES v2 (SendEmail, simple content); tags carry the notification id for SES events.
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { awsAnswer, awsClientConfig } from './aws.js';
import { classifySes } from './classify.js';
import type { SesConfig } from './config.js';
import { guardedSend, wrongChannel } from './guard.js';
import { encodeKey, SES_TAG } from '../domain/feedback.js';
import type { EmailMessage, ProviderAdapter } from './types.js';

const MAX_TAGS = 50;
const MAX_TAG_LEN = 256;

/** SES accepts only ASCII letters, digits, '_' and '-' in tag names and values, up to 256 characters. */
export function sesTagPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_TAG_LEN);
}

const RESERVED = new Set<string>(Object.values(SES_TAG));

/**
 * `notification_id`, `delivery_key` (base64url) and `tenant` first — SES events carry them back as `mail.tags`, which
 * is how feedback finds its delivery — then the message's data as tags (sanitised, empty values dropped, at most 50).
 */
export function sesTags(m: EmailMessage): { Name: string; Value: string }[] {
  const tags: { Name: string; Value: string }[] = [{ Name: SES_TAG.nid, Value: sesTagPart(m.notificationId) }];
  if (m.deliveryKey !== undefined && m.tenant !== undefined) {
    tags.push({ Name: SES_TAG.dk, Value: sesTagPart(encodeKey(m.deliveryKey)) }, { Name: SES_TAG.tenant, Value: sesTagPart(m.tenant) });
  }
  for (const [k, v] of Object.entries(m.data ?? {})) {
    if (tags.length >= MAX_TAGS) break;
    const Name = sesTagPart(k);
    const Value = sesTagPart(v);
    if (Name && Value && !RESERVED.has(Name)) tags.push({ Name, Value });
  }
  return tags;
}

/** The SendEmail request for one email. */
export function buildSesRequest(m: EmailMessage, cfg: Pick<SesConfig, 'from' | 'configurationSetName'>): SendEmailCommandInput {
  const body: { Text?: { Data: string; Charset: string }; Html?: { Data: string; Charset: string } } = {};
  if (m.content.text !== undefined) body.Text = { Data: m.content.text, Charset: 'UTF-8' };
  if (m.content.html !== undefined) body.Html = { Data: m.content.html, Charset: 'UTF-8' };
  if (!body.Text && !body.Html) body.Text = { Data: '', Charset: 'UTF-8' };
  const input: SendEmailCommandInput = {
    FromEmailAddress: cfg.from,
    Destination: { ToAddresses: [m.to] },
    Content: { Simple: { Subject: { Data: m.content.subject, Charset: 'UTF-8' }, Body: body } },
    EmailTags: sesTags(m),
  };
  if (cfg.configurationSetName) input.ConfigurationSetName = cfg.configurationSetName;
  return input;
}

export function createSesAdapter(cfg: SesConfig): ProviderAdapter {
  const client = new SESv2Client(awsClientConfig(cfg));
  return {
    name: 'ses',
    channel: 'email',
    send(message) {
      const wrong = wrongChannel('ses', 'email', message);
      if (wrong) return Promise.resolve(wrong);
      const command = new SendEmailCommand(buildSesRequest(message as EmailMessage, cfg));
      return guardedSend(
        'ses',
        cfg.timeoutMs,
        async (signal) => {
          const out = await client.send(command, { abortSignal: signal });
          return { ok: true, providerMessageId: out.MessageId ?? '' };
        },
        (err) => {
          const answer = awsAnswer(err);
          return answer ? classifySes(answer) : undefined;
        },
      );
    },
    close: async () => client.destroy(),
  };
}
