// Pure: the most each channel's providers take, checked before anything is sent, so an over-long message fails
// clearly instead of being accepted and refused later (Twilio 21617, APNs 413, FCM "Message is too big").
import { stringifyData } from './task.js';
import type { Channel, EmailContent, PushContent, RenderedContent, SmsContent } from './types.js';

/** Twilio's limit on a message body (reliability.md), in characters (UTF-16 code units: an emoji counts two). */
export const SMS_MAX_CHARS = 1600;
/** APNs' and FCM's limit on what reaches the device. */
export const PUSH_MAX_BYTES = 4096;
/**
 * Ours, for subject + html + text in UTF-8: SES takes 10 MB per message after MIME encoding, which can triple a body
 * (quoted-printable) — 1 MiB stays far below it and keeps lane stream entries small.
 */
export const EMAIL_MAX_BYTES = 1_048_576;

type Data = Readonly<Record<string, string | number | boolean>>;

/**
 * At most what the payload can take: a UTF-16 unit is at most 6 bytes of JSON (`\u001f`), plus the keys and braces.
 * Most pushes are far below the limit by this bound, so their exact size is never computed.
 */
function pushBytesBound(content: PushContent, data?: Data): number {
  let units = (content.title?.length ?? 0) + content.body.length;
  if (data) for (const k in data) units += k.length + String(data[k]).length + 6;
  return 6 * units + 64;
}

/**
 * Size of the APNs payload for this push: the app data beside `aps` (as @parse/node-apn builds it). It is the larger
 * of the two: FCM counts notification + data without the `aps` wrapper.
 */
export function pushPayloadBytes(content: PushContent, data?: Data): number {
  return Buffer.byteLength(JSON.stringify({ ...stringifyData(data), aps: { alert: content } }));
}

/** Why the channel's provider would refuse this message for its size, or undefined when it fits. */
export function limitProblem(channel: Channel, content: RenderedContent, data?: Data): string | undefined {
  switch (channel) {
    case 'sms': {
      const chars = (content as SmsContent).body.length;
      return chars > SMS_MAX_CHARS ? `SMS body is ${chars} characters, over the SMS limit of ${SMS_MAX_CHARS}` : undefined;
    }
    case 'push': {
      if (pushBytesBound(content as PushContent, data) <= PUSH_MAX_BYTES) return undefined;
      const bytes = pushPayloadBytes(content as PushContent, data);
      return bytes > PUSH_MAX_BYTES
        ? `push payload is ${bytes} bytes (title, body and data), over the APNs/FCM limit of ${PUSH_MAX_BYTES}`
        : undefined;
    }
    case 'email': {
      const e = content as EmailContent;
      const bytes = Buffer.byteLength(e.subject) + Buffer.byteLength(e.html ?? '') + Buffer.byteLength(e.text ?? '');
      return bytes > EMAIL_MAX_BYTES ? `email is ${bytes} bytes (subject, html and text), over the email limit of ${EMAIL_MAX_BYTES}` : undefined;
    }
  }
}
