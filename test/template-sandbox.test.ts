// Templates are tenant input: no expression may reach constructors, prototypes, globals or Node, at PUT (422) or at
// render time (the render fails); render threads hold no secrets; renders have a time and output budget.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Piscina } from 'piscina';
import { TemplateRefused } from '../src/render/check.js';
import { compile } from '../src/render/engine.js';
import { RenderPool, renderThreadOptions } from '../src/render/render-pool.js';
import { SandboxError, MAX_RANGE, MAX_TEXT } from '../src/render/sandbox.js';
import { DYNAMIC_ESCAPES, ESCAPE_PARAMS, STATIC_ESCAPES } from './support/escapes.js';

const escaped = () => (globalThis as { __escaped?: boolean }).__escaped === true;

/** What rendering `source` gives: its text, or the error it failed with. */
function attempt(source: string, params: object = ESCAPE_PARAMS): { text?: string; err?: Error } {
  try {
    return { text: compile(source, 'body').render(params) };
  } catch (err) {
    return { err: err as Error };
  }
}

describe('template sandbox', () => {
  it(`refuses every one of ${STATIC_ESCAPES.length} static escapes before it is stored, with line and column`, () => {
    for (const source of STATIC_ESCAPES) {
      const { err } = attempt(source);
      assert.ok(err instanceof TemplateRefused, `${source} → ${err ? err.message : 'compiled'}`);
      assert.match(err.message, /\(line 1, column \d+\)$/);
    }
    assert.equal(escaped(), false);
  });

  it(`fails every one of ${DYNAMIC_ESCAPES.length} escapes that only show while rendering, leaking nothing`, () => {
    let refused = 0;
    for (const source of DYNAMIC_ESCAPES) {
      const { text, err } = attempt(source);
      if (!err) assert.equal(text, '', `${source} rendered ${text}`);
      else assert.doesNotMatch(err.message, /PATH|native code/, source);
      if (err instanceof Error && /SandboxError/.test(err.message)) refused++;
    }
    assert.ok(refused > DYNAMIC_ESCAPES.length / 2, `most are refused by the sandbox itself (${refused})`);
    assert.equal(escaped(), false, 'no payload ran');
  });

  it('keeps what templates are for: variables, loops, filters, tests, macros, cycler and joiner', () => {
    const src = '{% macro li(x) %}<{{ x | upper }}>{% endmacro %}{% for i in items %}{{ li(i) }}{{ loop.index }}{% endfor %}'
      + '{% set c = cycler("a", "b") %}{{ c.next() }}{{ c.next() }}{% set j = joiner("|") %}{{ j() }}1{{ j() }}2'
      + '{{ obj.a }}{{ items.length }}{{ "s" if x is odd }}{{ missing | default("d") }}{{ range(3) | join(",") }}';
    assert.equal(attempt(src).text, '<B>1<A>2ab1|212sd0,1,2');
  });

  it('fails cleanly on params whose keys shadow Object.prototype (JSON can carry them)', () => {
    const params = JSON.parse('{"t": {"toString": "x", "valueOf": "y"}, "u": {"__proto__": {"a": 1}}}') as object;
    const t = attempt('{{ t }}', params);
    assert.ok(t.err, 'an object that cannot become text fails the render');
    assert.equal(attempt('{{ u.a }}', params).text, '', 'an own __proto__ key is not a prototype to read through');
  });

  it('refuses ranges, filter results and renders over their limits', () => {
    assert.match(attempt(`{% for i in range(0, ${MAX_RANGE + 1}) %}{% endfor %}`).err?.message ?? '', /range\(\) of 10001 items is over the limit/);
    assert.match(attempt(`{{ "x" | center(${MAX_TEXT + 1}) }}`).err?.message ?? '', /center filter made a text/);
    assert.ok(attempt(`{% for i in range(0, ${MAX_RANGE}) %}{% endfor %}`).text === '', 'the limit itself is allowed');
    assert.ok(new SandboxError('x') instanceof Error);
  });
});

describe('render threads', () => {
  it('have no environment variables (so no secrets)', async () => {
    process.env.NOTIFY_TEST_SECRET = 'hunter2';
    const pool = new Piscina({ filename: new URL('./fixtures/env-worker.ts', import.meta.url).href, ...renderThreadOptions(64) });
    try {
      assert.deepEqual(await pool.run(null), []);
    } finally {
      await pool.destroy();
      delete process.env.NOTIFY_TEST_SECRET;
    }
  });

  describe('budget and fairness', () => {
    const pool = new RenderPool({ threads: 1, batch: 50, timed: true, timeoutMs: 200 });
    after(() => pool.close());
    const slow = { version: 's1', parts: { sms: { body: '{% for i in range(0, 10000) %}{% for j in range(0, 10000) %}{% endfor %}{% endfor %}x' } } };
    const huge = { version: 'h1', parts: { sms: { body: '{% set s = "0123456789" %}{% for i in range(0, 20) %}{% set s = s ~ s %}{% endfor %}{{ s }}' } } };
    const ok = { version: 'o1', parts: { sms: { body: 'hi {{ n }}' } } };

    it('fails a render past its time budget with a clear error, recycles the thread, and renders the rest', async () => {
      const done: string[] = [];
      const track = (who: string, p: Promise<any>) => p.then((r) => (done.push(who), r));
      const [timedOut, sibling, other] = await Promise.all([
        track('a-slow', pool.render('a/slow', slow, 'sms', {})),
        track('a-ok', pool.render('a/ok', ok, 'sms', { n: 1 })),
        track('b-ok', pool.render('b/ok', ok, 'sms', { n: 2 })),
      ]);
      assert.deepEqual({ ok: timedOut.ok, error: timedOut.error }, { ok: false, error: 'render timed out: it ran past the render budget of 200 ms' });
      assert.deepEqual(sibling.content, { body: 'hi 1' }, 'a render in the same task as the slow one is redone on its own');
      assert.deepEqual(other.content, { body: 'hi 2' });
      assert.equal(done[0], 'b-ok', 'the other tenant is not held up behind the slow render');
      assert.notEqual(sibling.timing.thread, other.timing.thread, 'the thread that ran out of time was replaced');
    });

    it('serves tenants in turn: one tenant\'s backlog does not queue ahead of another\'s', async () => {
      const order: string[] = [];
      const a = Array.from({ length: 400 }, (_, i) => pool.render('a/ok', ok, 'sms', { n: i }).then(() => order.push('a')));
      const b = pool.render('b/ok', ok, 'sms', { n: 0 }).then(() => order.push('b'));
      await Promise.all([...a, b]);
      // Batch 50, two slots: a's first two tasks start at once, and a's turn may come once more before b's.
      assert.ok(order.indexOf('b') <= 150, `b finished after ${order.indexOf('b')} of a's 400 renders (at most three tasks of 50 ahead)`);
    });

    it('fails a render whose text is over the limit', async () => {
      const r = await pool.render('a/huge', huge, 'sms', {});
      assert.equal(r.ok, false);
      assert.match((r as { error: string }).error, /over the render limit of 1048576/);
    });
  });
});
