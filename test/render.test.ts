import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledCache, compile } from '../src/render/engine.js';
import { runRenderTask, type RenderResult } from '../src/render/task.js';
import { RenderPool } from '../src/render/render-pool.js';

const untimed = (rs: RenderResult[]) => rs.map(({ timing: _t, ...r }) => r);
const parts = {
  push: { title: 'Hi {{ name }}', body: '{{ item }} is back in stock' },
  email: { subject: 'Hello {{ name }}', html: '<p>{{ item }}</p>', text: '{{ item }}' },
};

describe('render', () => {
  it('renders every field, autoescaping HTML only', () => {
    const [push, email] = untimed(runRenderTask({
      templates: { 't/x@1': { version: '1', parts } },
      jobs: [
        { template: 't/x@1', channel: 'push', params: { name: 'Jo', item: '<Socks>' } },
        { template: 't/x@1', channel: 'email', params: { name: 'Jo', item: '<Socks>' } },
      ],
    }, new CompiledCache()));
    assert.deepEqual(push, { ok: true, content: { title: 'Hi Jo', body: '<Socks> is back in stock' } });
    assert.deepEqual(email, { ok: true, content: { subject: 'Hello Jo', html: '<p>&lt;Socks&gt;</p>', text: '<Socks>' } });
  });

  it('reports a missing part per job without failing the others', () => {
    const r = runRenderTask({ templates: { k: { version: '1', parts } }, jobs: [{ template: 'k', channel: 'sms', params: {} }, { template: 'k', channel: 'push', params: {} }] }, new CompiledCache());
    assert.equal(r[0]!.ok, false);
    assert.equal(r[1]!.ok, true);
  });

  it('compiles once per version and refreshes when the version changes', () => {
    const cache = new CompiledCache();
    const run = (version: string, body: string) =>
      untimed(runRenderTask({ templates: { [`k@${version}`]: { version, parts: { sms: { body } } } }, jobs: [{ template: `k@${version}`, channel: 'sms', params: { a: 1 } }] }, cache))[0];
    assert.deepEqual(run('1', 'v1 {{ a }}'), { ok: true, content: { body: 'v1 1' } });
    assert.deepEqual(run('1', 'v1 {{ a }}'), { ok: true, content: { body: 'v1 1' } });
    assert.equal(cache.size, 1);
    assert.deepEqual(run('2', 'v2 {{ a }}'), { ok: true, content: { body: 'v2 1' } });
  });

  it('rejects bad syntax at compile time', () => {
    assert.throws(() => compile('{{ oops', 'body'));
  });

  describe('pool', () => {
    const pool = new RenderPool({ threads: 1, batch: 10, timed: true });
    after(() => pool.close());
    it('renders in a worker thread, many jobs per task', async () => {
      const src = { version: 'v', parts };
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => pool.render('t/x', src, 'push', { name: `n${i}`, item: 'x' })));
      assert.deepEqual(results.map((r) => r.ok && 'title' in r.content && r.content.title), Array.from({ length: 25 }, (_, i) => `Hi n${i}`));
      assert.ok(results.every((r) => r.timing && r.timing.thread > 0 && r.timing.end >= r.timing.start), 'timed on a worker thread');
    });
  });
});
