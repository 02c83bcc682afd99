// With tracing off in the ingress, accepting builds no spans, and a producer's own traceparent still rides with each
// notification (so workers that do trace continue the producer's trace).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { traceAccept } from '../src/http/accept-trace.js';
import { tracingOn } from '../src/telemetry/tracing.js';

describe('traceAccept with tracing off', () => {
  const header = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('hands the producer\'s traceparent to every notification of a request', () => {
    assert.equal(tracingOn(), false);
    assert.equal(traceAccept('/v1/notifications', header, 1).traceparent(0), header);
    const batch = traceAccept('/v1/notifications/batch', header, 3);
    assert.deepEqual([0, 1, 2].map((i) => batch.traceparent(i)), [header, header, header]);
    batch.end(['a', undefined, 'c'], new Error('ignored'));
  });

  it('stores none when the producer sent none', () => {
    assert.equal(traceAccept('/v1/notifications', undefined, 1).traceparent(0), undefined);
  });
});
