// Picks what each channel sends from inline content, and which channels a template or content can serve.
import type { ContentInput, TemplateInput } from './schemas.js';
import type { Channel, RenderedContent } from './types.js';

/** What each channel needs of inline `content` (see inlineContent), for messages that say why nothing can be sent. */
export const CONTENT_NEEDS: Readonly<Record<Channel, string>> = {
  push: 'push needs body (or text), title (or subject) is optional',
  sms: 'sms needs body (or text)',
  email: 'email needs subject (or title) and html, text or body',
};

/** The channel's message built from inline `content`, or null when the content has nothing for that channel. */
export function inlineContent(channel: Channel, c: ContentInput): RenderedContent | null {
  switch (channel) {
    case 'push': {
      const body = c.body ?? c.text;
      if (body === undefined) return null;
      const title = c.title ?? c.subject;
      return title === undefined ? { body } : { title, body };
    }
    case 'sms': {
      const body = c.body ?? c.text;
      return body === undefined ? null : { body };
    }
    case 'email': {
      const subject = c.subject ?? c.title;
      const text = c.text ?? c.body;
      if (subject === undefined || (c.html === undefined && text === undefined)) return null;
      return { subject, ...(c.html !== undefined && { html: c.html }), ...(text !== undefined && { text }) };
    }
  }
}

/** Channels a template has parts for. */
export function templateChannels(t: TemplateInput): Set<Channel> {
  const set = new Set<Channel>();
  if (t.push) set.add('push');
  if (t.sms) set.add('sms');
  if (t.email) set.add('email');
  return set;
}

/** Channels inline content can serve. */
export function contentChannels(c: ContentInput): Set<Channel> {
  const set = new Set<Channel>();
  for (const ch of ['push', 'sms', 'email'] as const) if (inlineContent(ch, c)) set.add(ch);
  return set;
}
