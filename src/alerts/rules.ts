// Pure: the alert settings (destinations and rules), as the operator configures them (NOTIFY_ALERT_RULES) and a tenant
// PUTs them (/v1/alerts), validated with zod; the first problem names its field.
import { z } from 'zod';
import { parseTarget, UrlRefused } from '../webhooks/ssrf.js';

export const RULE_KINDS = ['feedback', 'dead_letter', 'circuit', 'failure_rate', 'queue_lag', 'webhook_disabled'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
/** Facts about the whole service, not one tenant's: only the operator's rules may watch them. */
export const SERVICE_KINDS: ReadonlySet<RuleKind> = new Set(['circuit', 'queue_lag']);
export const FEEDBACK_EVENTS = ['bounce', 'complaint', 'reject'] as const;

export const MAX_RULES = 50;
export const MAX_DESTINATIONS = 10;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const NAME_RULE = 'names are 1-64 characters of letters, digits and ._-';
const MIN_WINDOW_MS = 100;
const MAX_WINDOW_MS = 86_400_000;

const name = z.string().regex(NAME, NAME_RULE);
const url = z.string().max(2048).superRefine((raw, ctx) => {
  try {
    parseTarget(raw);
  } catch (err) {
    if (err instanceof UrlRefused) ctx.addIssue({ code: 'custom', message: err.message });
    else throw err;
  }
});

const Destination = z.strictObject({ name, type: z.enum(['slack', 'webhook']), url });

const base = {
  name,
  /** Facts are counted per window of this length; at its end the rule fires (once) or, after firing, resolves. */
  window_ms: z.number().int().min(MIN_WINDOW_MS).max(MAX_WINDOW_MS).default(300_000),
  destinations: z.array(name).min(1).max(MAX_DESTINATIONS),
};
const minCount = z.number().int().min(1).max(1_000_000).default(1);

const Rule = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('feedback'), events: z.array(z.enum(FEEDBACK_EVENTS)).min(1).max(3).default([...FEEDBACK_EVENTS]), min_count: minCount }),
  z.strictObject({ ...base, kind: z.literal('dead_letter'), reasons: z.array(z.string().regex(/^[a-z_]{1,64}$/, 'reasons are lower-case words like attempts_exhausted')).min(1).max(20).optional(), min_count: minCount }),
  z.strictObject({ ...base, kind: z.literal('circuit'), providers: z.array(z.enum(['apns', 'fcm', 'twilio', 'ses', 'sns'])).min(1).max(5).optional() }),
  z.strictObject({
    ...base, kind: z.literal('failure_rate'), channel: z.enum(['push', 'sms', 'email']).optional(),
    threshold_percent: z.number().min(0).max(100), min_deliveries: z.number().int().min(1).max(1_000_000).default(10),
  }),
  z.strictObject({
    ...base, kind: z.literal('queue_lag'),
    oldest_pending_ms: z.number().int().min(1).optional(), lag_entries: z.number().int().min(1).optional(),
  }).refine((r) => r.oldest_pending_ms !== undefined || r.lag_entries !== undefined, { path: ['oldest_pending_ms'], message: 'give oldest_pending_ms, lag_entries or both' }),
  z.strictObject({ ...base, kind: z.literal('webhook_disabled') }),
]);

export const SettingsSchema = z.strictObject({
  destinations: z.array(Destination).max(MAX_DESTINATIONS).default([]),
  rules: z.array(Rule).max(MAX_RULES).default([]),
});

export type Destination = z.infer<typeof Destination> & {
  /** Set by the service only (the sandbox's fake Slack on loopback): sent to even where private targets are refused. */
  trusted?: boolean;
};
export type Rule = z.infer<typeof Rule>;
export type Settings = { destinations: Destination[]; rules: Rule[] };
export type Scope = 'operator' | 'tenant';

export interface SettingsProblem {
  field: string;
  message: string;
}

/** The settings, or the first problem with its field (`rules.2.destinations.0`). */
export function parseSettings(input: unknown, scope: Scope): { settings: Settings } | { problem: SettingsProblem } {
  const parsed = SettingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    return { problem: { field: at.map(String).join('.') || 'settings', message: issue.message } };
  }
  const s = parsed.data as Settings;
  const problem = crossCheck(s, scope);
  return problem ? { problem } : { settings: s };
}

function crossCheck(s: Settings, scope: Scope): SettingsProblem | undefined {
  const dests = new Set<string>();
  for (const [i, d] of s.destinations.entries()) {
    if (dests.has(d.name)) return { field: `destinations.${i}.name`, message: `the destination name ${d.name} is used twice` };
    dests.add(d.name);
  }
  const rules = new Set<string>();
  for (const [i, r] of s.rules.entries()) {
    if (rules.has(r.name)) return { field: `rules.${i}.name`, message: `the rule name ${r.name} is used twice` };
    rules.add(r.name);
    if (scope === 'tenant' && SERVICE_KINDS.has(r.kind)) {
      return { field: `rules.${i}.kind`, message: `${r.kind} watches the whole service: only the operator's rules (NOTIFY_ALERT_RULES) may use it` };
    }
    for (const [j, d] of r.destinations.entries()) {
      if (!dests.has(d)) return { field: `rules.${i}.destinations.${j}`, message: `no destination named ${d}` };
    }
  }
  return undefined;
}

/** A short account of what a rule watches, for messages. */
export function describeRule(r: Rule): string {
  switch (r.kind) {
    case 'feedback': return `${r.events.join('/')} feedback${r.min_count > 1 ? ` (at least ${r.min_count})` : ''}`;
    case 'dead_letter': return `dead letters${r.reasons ? ` (${r.reasons.join(', ')})` : ''}${r.min_count > 1 ? ` (at least ${r.min_count})` : ''}`;
    case 'circuit': return `a provider's circuit open${r.providers ? ` (${r.providers.join(', ')})` : ''}`;
    case 'failure_rate': return `${r.channel ?? 'all channels'} failure rate over ${r.threshold_percent} % (at least ${r.min_deliveries} attempts)`;
    case 'queue_lag': return [
      r.oldest_pending_ms !== undefined && `oldest pending over ${r.oldest_pending_ms} ms`, r.lag_entries !== undefined && `lag over ${r.lag_entries} entries`,
    ].filter(Boolean).join(' or ');
    case 'webhook_disabled': return 'webhook endpoints disabled after persistent failure';
  }
}
