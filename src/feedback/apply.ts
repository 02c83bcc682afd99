// Applies one piece of feedback: the record (once), a span in the notification's own trace (the send's stored
// traceparent is its parent; the request that brought it is linked), and a count.
import { SpanKind, type Span } from '@opentelemetry/api';
import type { FeedbackUpdate } from '../domain/feedback.js';
import type { ApplyResult, FeedbackStore } from '../store/feedback.js';
import type { Metrics } from '../telemetry/metrics.js';
import { childContext, contextOf, startSpan } from '../telemetry/tracing.js';

export type ApplyFeedback = (update: FeedbackUpdate, eventId: string, request: Span) => Promise<ApplyResult>;

export function feedbackApplier(store: FeedbackStore, metrics: Metrics): ApplyFeedback {
  return async (update, eventId, request) => {
    const { result, traceparent } = await store.apply(update, eventId);
    const span = startSpan(`feedback ${update.provider} ${update.type}`, traceparent ? contextOf(traceparent) : childContext(request), {
      kind: SpanKind.CONSUMER, links: [{ context: request.spanContext() }],
      attributes: {
        'notify.notification_id': update.ref.nid, 'notify.provider': update.provider, 'notify.feedback.type': update.type,
        'notify.feedback.result': result, ...(update.status && { 'notify.status': update.status }),
      },
    });
    span.end();
    request.setAttributes({ 'notify.notification_id': update.ref.nid, 'notify.feedback.result': result });
    metrics.feedbackEvents.inc({ provider: update.provider, type: update.type, result });
    return result;
  };
}
