// Stream id comparison: by milliseconds, then by sequence, as numbers (not as text).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maxId, minId } from '../src/streams/ids.js';

describe('stream ids', () => {
  it('compare by time, then sequence, numerically', () => {
    assert.equal(minId('9-0', '10-0'), '9-0', 'not text order');
    assert.equal(minId('5-10', '5-9'), '5-9');
    assert.equal(minId('5-1', '5-1'), '5-1');
    assert.equal(maxId('1700000000000-2', '1700000000000-11'), '1700000000000-11');
    assert.equal(maxId('0-0', '1-0'), '1-0');
  });
});
