// The logger redacts secret-bearing keys at any depth and scrubs error text (messages and stacks).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log.js';

const EMAIL = 'deep.person@example.com';
const PHONE = '+14155550177';
const TOKEN = 'f'.repeat(64);

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  return { lines, log: createLogger('info', sink) };
}
const leaks = (line: string) => [EMAIL, PHONE, TOKEN].filter((s) => line.includes(s));

describe('log redaction', () => {
  it('censors secret keys however deep they sit', () => {
    const { lines, log } = capture();
    log.info({ a: { b: { c: { email: EMAIL, phone: PHONE } } }, list: [{ user: { token: TOKEN } }], id: 'n-1' }, 'nested');
    assert.equal(lines.length, 1);
    assert.deepEqual(leaks(lines[0]!), []);
    const out = JSON.parse(lines[0]!);
    assert.equal(out.a.b.c.email, '[redacted]');
    assert.equal(out.list[0].user.token, '[redacted]');
    assert.equal(out.id, 'n-1', 'ordinary fields stay');
  });

  it('scrubs an error\'s message and stack, and the line message taken from it', () => {
    const { lines, log } = capture();
    const err = new Error(`Unexpected token in "${EMAIL}" for ${PHONE} and ${TOKEN}`);
    log.error({ err, lane: 'sms' }, 'failed');
    log.error(err);
    log.warn({ err: err.message }, 'as text');
    log.warn({ nested: { cause: err } }, 'nested error');
    assert.equal(lines.length, 4);
    for (const line of lines) assert.deepEqual(leaks(line), [], line);
    const first = JSON.parse(lines[0]!);
    assert.match(first.err.message, /\[email\].*\[number\].*\[token\]/);
    assert.ok(first.err.stack.includes('log.test.ts'), 'the stack stays useful');
    assert.equal(first.err.type, 'Error');
    assert.match(JSON.parse(lines[1]!).msg, /\[email\]/);
  });
});
