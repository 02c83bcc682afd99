// What providers tell later, over HTTP: SES events through an SNS HTTP(S) subscription, and Twilio status callbacks.
// These requests carry no API key: each is authenticated by its signature (SNS: the certificate of an SNS host;
// Twilio: HMAC with the account's auth token over the public callback URL). Anything unsigned or forged is a 403.
import { Hono, type Context } from 'hono';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { interpretSesEvent, interpretTwilioStatus, type Interpretation } from '../../domain/feedback.js';
import type { ApplyFeedback } from '../../feedback/apply.js';
import type { Confirm } from '../../feedback/confirm.js';
import type { SnsVerifier } from '../../feedback/sns.js';
import type { TwilioCheck } from '../../feedback/twilio.js';
import type { FeedbackStore } from '../../store/feedback.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { startSpan } from '../../telemetry/tracing.js';
import { bodyLimit } from '../body-limit.js';
import { ApiError, type ErrorCode } from '../errors.js';

export interface FeedbackRouteDeps {
  apply: ApplyFeedback;
  /**
   * The store `apply` writes to: createApp appends the API's own status events through it (engagement, erasure) and,
   * with history, points its late feedback at the history.
   */
  store?: FeedbackStore;
  /** Present when SES events are configured (NOTIFY_SES_EVENTS_TOPIC_ARNS). */
  ses?: { verifier: SnsVerifier; confirm: Confirm };
  /** Present when Twilio status callbacks are configured (NOTIFY_PUBLIC_URL with Twilio). */
  twilio?: { check: TwilioCheck; publicUrl: string };
  metrics: Metrics;
  log: Logger;
  maxBodyBytes: number;
  now?: () => number;
}

export function feedbackRoutes(deps: FeedbackRouteDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  app.use(bodyLimit(deps.maxBodyBytes));

  const refuse = (provider: string, code: ErrorCode, message: string): never => {
    deps.metrics.feedbackRejected.inc({ provider, code });
    deps.log.warn({ provider, code, reason: message }, 'feedback request refused');
    throw new ApiError(code, message);
  };
  /** The request's span (a trace of its own), ended whatever happens. */
  const traced = (route: string, c: Context, handle: (span: Span) => Promise<Response>): Promise<Response> => {
    const span = startSpan(`POST ${route}`, ROOT_CONTEXT, { kind: SpanKind.SERVER, attributes: { 'http.route': route } });
    return handle(span).then(
      (res) => {
        span.setAttribute('http.response.status_code', res.status);
        span.end();
        return res;
      },
      (err: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof ApiError ? err.code : 'failed' });
        span.end();
        throw err;
      },
    );
  };
  const applied = async (c: Context, r: Interpretation, provider: 'ses' | 'twilio', eventId: string, span: Span) => {
    if (!r.ok) {
      deps.metrics.feedbackEvents.inc({ provider, type: r.type, result: 'unmatched' });
      return c.json({ status: 'ignored', reason: r.reason });
    }
    return c.json({ status: await deps.apply(r.update, eventId, span) });
  };

  app.post('/ses', (c) => traced('/v1/feedback/ses', c, async (span) => {
    const ses = deps.ses;
    if (!ses) throw new ApiError('not_found', 'SES feedback is not configured: set NOTIFY_SES_EVENTS_TOPIC_ARNS');
    // SNS posts text/plain: the raw body is the message, whatever the content type says.
    const check = await ses.verifier.verify(await c.req.text(), c.req.header('x-amz-sns-message-type'));
    if (!check.ok) {
      if (check.status === 503) {
        c.header('Retry-After', '5');
        deps.log.warn({ reason: check.message }, 'SNS signing certificate unavailable; SNS will retry');
        throw new ApiError('unavailable', check.message);
      }
      return refuse('ses', check.code as ErrorCode, check.message);
    }
    const m = check.message;
    span.setAttribute('notify.sns.type', m.Type);
    if (m.Type === 'SubscriptionConfirmation') {
      if (!m.Token) return refuse('ses', 'invalid_sns_message', 'a SubscriptionConfirmation needs its Token');
      let arn: string;
      try {
        arn = await ses.confirm(m.TopicArn, m.Token);
      } catch (err) {
        deps.log.warn({ err, topic: m.TopicArn }, 'confirming the SNS subscription failed');
        c.header('Retry-After', '5');
        throw new ApiError('unavailable', 'the subscription could not be confirmed with SNS now');
      }
      deps.log.info({ topic: m.TopicArn, subscription: arn }, 'SNS subscription confirmed');
      return c.json({ status: 'confirmed' });
    }
    if (m.Type === 'UnsubscribeConfirmation') {
      deps.log.warn({ topic: m.TopicArn }, 'SNS subscription ended (UnsubscribeConfirmation); not subscribing again');
      return c.json({ status: 'unsubscribed' });
    }
    let event: unknown;
    try {
      event = JSON.parse(m.Message);
    } catch {
      event = undefined;
    }
    const r: Interpretation = event && typeof event === 'object' ? interpretSesEvent(event as Record<string, unknown>) : { ok: false, type: 'unknown', reason: 'the Message is not an SES event' };
    return applied(c, r, 'ses', m.MessageId, span);
  }));

  app.post('/twilio', (c) => traced('/v1/feedback/twilio', c, async (span) => {
    const twilio = deps.twilio;
    if (!twilio) throw new ApiError('not_found', 'Twilio status callbacks are not configured: set NOTIFY_PUBLIC_URL');
    const signature = c.req.header('x-twilio-signature');
    if (!signature) return refuse('twilio', 'invalid_signature', 'X-Twilio-Signature is missing');
    if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? '')) {
      return refuse('twilio', 'unsupported_media_type', 'a status callback is a form (application/x-www-form-urlencoded)');
    }
    const params = Object.fromEntries(new URLSearchParams(await c.req.text()));
    // Twilio signed the URL it was given: the public one, with this request's path and query.
    const url = new URL(c.req.url);
    if (!(await twilio.check(signature, `${twilio.publicUrl}${url.pathname}${url.search}`, params))) {
      return refuse('twilio', 'invalid_signature', 'X-Twilio-Signature does not match (is NOTIFY_PUBLIC_URL the URL Twilio calls?)');
    }
    const r = interpretTwilioStatus(params, url.searchParams, now());
    return applied(c, r, 'twilio', `${params.MessageSid ?? ''}:${params.MessageStatus ?? params.SmsStatus ?? ''}`, span);
  }));
  return app;
}
