// Pure: an alert as a Slack message (Block Kit) and as the generic webhook's JSON. Only the alert's own fields go in —
// what, how many, which provider/channel/reason, a sample notification id — never an address, token or body.
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import type { AlertMessage } from './window.js';

type Block = NonNullable<IncomingWebhookSendArguments['blocks']>[number];

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

const KIND_TITLE: Record<AlertMessage['kind'], string> = {
  feedback: 'Bounces, complaints or rejects',
  dead_letter: 'Dead letters',
  circuit: 'Provider circuit open',
  failure_rate: 'Delivery failure rate',
  queue_lag: 'Queue lag',
  webhook_disabled: 'Webhook endpoint disabled',
};

/** Slack mrkdwn escapes (&, <, >): names and labels are the service's own, but never trusted as markup. */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function headline(m: AlertMessage): string {
  const scope = m.tenant === null ? '' : ` [tenant ${m.tenant}]`;
  if (m.state === 'resolved') return `Resolved: ${KIND_TITLE[m.kind]} — rule ${m.rule}${scope}`;
  const rate = m.kind === 'failure_rate' && m.total ? ` (${Math.round((m.count * 1000) / m.total) / 10} % of ${m.total})` : '';
  return `Firing: ${KIND_TITLE[m.kind]} — rule ${m.rule}${scope}: ${m.count}${rate} in the window`;
}

export function slackMessage(m: AlertMessage): SlackMessage {
  const firing = m.state === 'firing';
  const fields = [
    `*Rule*\n${esc(m.rule)}`,
    `*Watches*\n${esc(m.what)}`,
    `*Count*\n${m.count}${m.total !== undefined ? ` of ${m.total}` : ''}`,
    `*Window*\n${m.window_start} → ${m.window_end}`,
    ...(m.tenant !== null ? [`*Tenant*\n${esc(m.tenant)}`] : []),
    ...(m.sample_notification_id ? [`*Sample notification*\n\`${esc(m.sample_notification_id)}\``] : []),
    ...(m.max_oldest_pending_ms !== undefined ? [`*Oldest pending*\n${m.max_oldest_pending_ms} ms`] : []),
    ...(m.max_lag !== undefined ? [`*Lag*\n${m.max_lag} entries`] : []),
  ].slice(0, 10); // Slack takes at most 10 fields in a section
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: `${firing ? ':red_circle:' : ':large_green_circle:'} ${headline(m)}`.slice(0, 150), emoji: true } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (m.breakdown.length > 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*${firing ? 'By' : 'Last window, by'}*\n${m.breakdown.map((b) => `• ${esc(b.what)}: ${b.count}`).join('\n')}`.slice(0, 3000) },
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `notify alerts · ${m.kind} · ${m.state}` }] });
  return { text: headline(m), blocks };
}

/** The generic JSON webhook's body. */
export function webhookBody(m: AlertMessage, at: number): Record<string, unknown> {
  return { type: `alert.${m.state}`, timestamp: new Date(at).toISOString(), summary: headline(m), alert: m };
}
