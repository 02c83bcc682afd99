// Pure provider protection: circuit breaker and token bucket over a fake clock; throttling classification.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker } from '../src/domain/circuit-breaker.js';
import { TokenBucket } from '../src/domain/token-bucket.js';
import { classifyFcm, classifySes, classifyTwilio, classifyApns } from '../src/providers/classify.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, half-opens for one probe, closes on an answer', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000 });
    for (let i = 0; i < 2; i++) b.onProviderFailure(0);
    assert.equal(b.tryPass(0), true);
    b.onProviderFailure(0);
    assert.equal(b.state(0), 'open');
    assert.equal(b.tryPass(999), false);
    assert.equal(b.tryPass(1000), true, 'one probe after openMs');
    assert.equal(b.tryPass(1001), false, 'only one probe at a time');
    b.onAnswer();
    assert.equal(b.state(1001), 'closed');
    assert.equal(b.tryPass(1001), true);
  });

  it('re-opens when the probe fails, and lets the next probe go if one is cancelled', () => {
    const b = new CircuitBreaker({ failureThreshold: 1, openMs: 100 });
    b.onProviderFailure(0);
    assert.equal(b.tryPass(100), true);
    b.onProviderFailure(100);
    assert.equal(b.tryPass(150), false);
    assert.equal(b.tryPass(200), true);
    b.cancelProbe();
    assert.equal(b.tryPass(200), true);
  });

  it('resets the count on any answer', () => {
    const b = new CircuitBreaker({ failureThreshold: 2, openMs: 100 });
    b.onProviderFailure(0);
    b.onAnswer();
    b.onProviderFailure(0);
    assert.equal(b.state(0), 'closed');
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    const t = new TokenBucket(10, 2, 0);
    assert.equal(t.take(0), 0);
    assert.equal(t.take(0), 0);
    assert.equal(t.take(0), 100, 'next token in 100 ms at 10/s');
    assert.equal(t.take(100), 0);
  });

  it('sends nothing while paused by the provider', () => {
    const t = new TokenBucket(1000, 10, 0);
    t.pause(500);
    assert.equal(t.take(100), 400);
    assert.equal(t.take(500), 0);
  });
});

describe('throttling classification', () => {
  it('marks the provider asking us to slow down', () => {
    assert.equal(classifyApns({ status: 429, code: 'TooManyRequests' }).throttled, true);
    assert.equal(classifyFcm({ status: 429, code: 'messaging/message-rate-exceeded' }).throttled, true);
    assert.equal(classifyTwilio({ status: 429, code: 20429 }).throttled, true);
    assert.equal(classifySes({ status: 429, code: 'TooManyRequestsException' }).throttled, true);
    assert.equal(classifySes({ status: 503, code: 'ServiceUnavailable' }).throttled, undefined);
  });
});
