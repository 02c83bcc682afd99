// Spans for accepting notifications: the request (server span) and one `enqueue` span per notification, whose
// traceparent rides in the ingest entry so the workers continue the same trace.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { childContext, contextOf, recordError, startSpan, traceparentOf, tracingOn } from '../telemetry/tracing.js';

export interface AcceptTrace {
  /** Traceparent to store with the notification at index i (the producer's own when tracing is off here). */
  traceparent(i: number): string | undefined;
  /** Ends the spans: each notification's id (undefined if it was not accepted), or the error that failed them all. */
  end(ids: (string | undefined)[], err?: unknown): void;
}

/**
 * One notification: enqueue is a child of the request. A batch: each notification is its own trace (continuing the
 * producer's context if it sent one), linked to the request span, so one notification is one trace.
 */
export function traceAccept(route: string, header: string | undefined, count: number): AcceptTrace {
  // Tracing off here: no spans to build; the producer's own traceparent (if any) still rides with each notification.
  if (!tracingOn()) return { traceparent: () => header, end: () => undefined };
  const parent = contextOf(header);
  const server = startSpan(`POST ${route}`, parent, { kind: SpanKind.SERVER, attributes: { 'http.route': route, 'notify.batch_size': count } });
  const enqueues: Span[] = Array.from({ length: count }, () =>
    count === 1
      ? startSpan('enqueue', childContext(server))
      : startSpan('enqueue', header ? parent : ROOT_CONTEXT, { links: [{ context: server.spanContext() }] }));
  return {
    traceparent: (i) => traceparentOf(enqueues[i]!) ?? header,
    end(ids, err) {
      enqueues.forEach((span, i) => {
        const id = ids[i];
        if (id) span.setAttribute('notify.notification_id', id);
        else span.setStatus({ code: SpanStatusCode.ERROR, message: 'not accepted' });
        span.end();
      });
      if (err) {
        recordError(server, err);
        server.setStatus({ code: SpanStatusCode.ERROR });
      }
      if (count === 1 && ids[0]) server.setAttribute('notify.notification_id', ids[0]);
      server.end();
    },
  };
}
