// Standard Webhooks signing (the `standardwebhooks` package): `whsec_` secrets, and every valid secret's signature
// in `webhook-signature`, space-separated, so a receiver with either the new or the previous secret verifies.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

export function signatureHeaders(secrets: readonly string[], msgId: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' '),
  };
}
