// The user actor's decisions with a fake IO (a plain object: users, templates, renders, event owners and windows in
// memory; commits collected) and a fixed `now`: what handleUserMessage, handleRecheck, handleFlush and gatedTask
// hand to commit-plan.lua.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOf, type CommitUnit } from '../src/actors/commit-unit.js';
import { gatedTask } from '../src/actors/gate-task.js';
import { handleFlush, handleRecheck } from '../src/actors/reentry.js';
import { handleUserMessage, type UserActorIO, type UserMessage } from '../src/actors/user-actor.js';
import { DEFAULT_CONTROLS, type Controls } from '../src/domain/controls.js';
import { collapseHash } from '../src/domain/coalesce.js';
import { fingerprint } from '../src/domain/plan.js';
import { parseRateLimits } from '../src/domain/rate-limit.js';
import type { StreamEntry } from '../src/domain/schemas.js';
import type { DeliveryTask } from '../src/domain/task.js';
import type { UserRecord } from '../src/domain/user.js';
import type { StoredTemplate } from '../src/store/templates.js';
import { makeKeys } from '../src/streams/keys.js';

const NOW = Date.parse('2025-01-10T22:30:00Z'); // 23:30 in Paris
const keys = makeKeys('p');
const IOS = 'ab'.repeat(32);
const controls: Controls = { ...DEFAULT_CONTROLS, rateLimit: { ...DEFAULT_CONTROLS.rateLimit, rules: parseRateLimits('sms:3/1d,news.sms:1/1h') } };

function user(over: { prefs?: Partial<UserRecord['prefs']>; timezone?: string; phone?: string | null } = {}): UserRecord {
  return {
    id: 'u', devices: [{ token: IOS, platform: 'ios', active: true, registered_at: 1 }],
    profile: { ...(over.phone !== null && { phone: over.phone ?? '+14155550100' }), email: 'u@example.com', timezone: over.timezone ?? 'Europe/Paris', created_at: '', updated_at: '' },
    prefs: { channels: {}, categories: {}, ...over.prefs },
  };
}

interface World {
  user?: UserRecord | null;
  templates?: Record<string, StoredTemplate>;
  owners?: Record<string, string>;
  window?: Record<string, string>;
  controls?: Controls;
}

/** A UserActorIO over plain data; `commits` collects what the actor hands over, `calls` what it asked for. */
function fakeIO(w: World = {}) {
  const commits: CommitUnit[] = [];
  const calls: string[] = [];
  const io: UserActorIO = {
    keys, controls: w.controls ?? controls, retentionMs: 60_000,
    loadUser: async () => (w.user === undefined ? user() : w.user),
    loadTemplate: async (_t, name) => w.templates?.[name] ?? null,
    render: async (key, _t, ch, params) => {
      calls.push(`render ${key} ${ch}`);
      return { ok: true, content: ch === 'email' ? { subject: String(params.n), text: 'x' } : { body: `${ch} ${String(params.count ?? params.n)}` } };
    },
    eventOwner: async (k) => {
      calls.push(`event ${k}`);
      return w.owners?.[k] ?? null;
    },
    closeWindow: async (open, closed, owner) => {
      calls.push(`close ${open} ${closed} ${owner}`);
      return w.window ?? {};
    },
    // What commit-plan.lua would answer if nothing in Redis held a delivery back.
    commit: async (unit) => (commits.push(unit), outcomeOf(unit, unit.tasks.map((t) => t.record.status))),
  };
  return { io, commits, calls };
}

const message = (n: Partial<StreamEntry>, over: Partial<UserMessage> = {}): UserMessage => ({
  kind: 'plan', entryId: '1-0', sole: true, nid: 'n1', userId: 'u', recipients: 1, acceptedAt: NOW - 5,
  n: { tenant: 't', user_id: 'u', content: { title: 'Hi', body: 'hello', subject: 'Hi', text: 'hello' }, ...n } as StreamEntry, ...over,
});
const template = (parts: StoredTemplate['parts']): StoredTemplate => ({ name: 'tpl', version: 'v1', parts, created_at: '', updated_at: '' });
const statuses = (u: CommitUnit) => [
  ...u.records.map(([f, r]) => `${f.slice(2)} ${r.status}`), ...u.tasks.map((t) => `${t.field.slice(2)} ${t.defer ? 'defer' : t.limit ? 'capped' : 'ready'}`),
];

describe('handleUserMessage', () => {
  it('records an opted-out channel and a missing address, and sends the rest; the entry is acknowledged with the plan', async () => {
    const { io, commits } = fakeIO({ user: user({ phone: null, prefs: { channels: { email: false } } }), controls: DEFAULT_CONTROLS });
    const out = await handleUserMessage(message({ channels: ['push', 'sms', 'email'] }), io, NOW);
    const [u] = commits;
    assert.deepEqual(statuses(u!), ['u:sms no_address', 'u:email opted_out', `u:apns:${fingerprint(IOS)} ready`]);
    assert.deepEqual([u!.nid, u!.once, u!.ack, u!.meta?.created_at], ['n1', 'p:u', '1-0', NOW - 5]);
    assert.equal(u!.records[0]![1].last_error, 'user has no phone');
    const push = u!.tasks[0]!.task;
    assert.deepEqual([push.to, push.lane, push.content, push.priority, push.accepted_at], [IOS, 'apns', { title: 'Hi', body: 'hello' }, 'normal', NOW - 5]);
    assert.equal(out.applied, true);
  });

  it('an unknown user is no_address on every channel; with several recipients the entry is not acknowledged here', async () => {
    const { io, commits } = fakeIO({ user: null });
    await handleUserMessage(message({ channels: ['sms', 'email'] }, { sole: false }), io, NOW);
    assert.deepEqual(statuses(commits[0]!), ['u:sms no_address', 'u:email no_address']);
    assert.equal(commits[0]!.ack, '');
  });

  it('a known duplicate event id is not rendered and records deduplicated, pointing at the owner', async () => {
    const ek = keys.event('t', 'evt-1');
    const { io, commits, calls } = fakeIO({ owners: { [ek]: 'n0' }, templates: { tpl: template({ sms: { body: '{{ n }}' } }) } });
    await handleUserMessage(message({ template: 'tpl', content: undefined, params: { n: 1 }, channels: ['sms'], event_id: 'evt-1' }), io, NOW);
    const [u] = commits;
    assert.deepEqual(u!.records.map(([, r]) => [r.status, r.duplicate_of]), [['deduplicated', 'n0']]);
    assert.equal(u!.event, undefined, 'a known duplicate does not claim the event');
    assert.ok(!calls.some((c) => c.startsWith('render')), 'not rendered');
  });

  it('the owner of an event id (or a first one) claims it for the dedupe window in the commit', async () => {
    const ek = keys.event('t', 'evt-2');
    for (const owners of [{}, { [ek]: 'n1' }]) {
      const { io, commits } = fakeIO({ owners });
      await handleUserMessage(message({ channels: ['email'], event_id: 'evt-2' }), io, NOW);
      assert.deepEqual(commits[0]!.event, { key: ek, ttlMs: controls.dedupeWindowMs });
      assert.equal(commits[0]!.tasks.length, 1);
    }
  });

  it('a missing template fails each wanted channel, naming the template', async () => {
    const { io, commits } = fakeIO();
    await handleUserMessage(message({ template: 'gone', content: undefined, channels: ['sms', 'email'] }), io, NOW);
    assert.deepEqual(commits[0]!.records.map(([, r]) => [r.status, r.last_error]), [
      ['failed', 'template "gone" not found'], ['failed', 'template "gone" not found'],
    ]);
    assert.equal(commits[0]!.tasks.length, 0);
  });

  it('defers push and SMS to the end of quiet hours in the user\'s zone; email gets its caps; high priority goes as is', async () => {
    const quiet = user({ prefs: { quiet_hours: { start: '22:00', end: '07:00' } } });
    const { io, commits } = fakeIO({ user: quiet });
    await handleUserMessage(message({ channels: ['push', 'sms', 'email'], category: 'news' }), io, NOW);
    const end = Date.parse('2025-01-11T06:00:00Z');
    const tasks = commits[0]!.tasks;
    assert.deepEqual(tasks.map((t) => [t.task.channel, t.defer]), [
      ['push', { at: end, why: 'quiet_hours' }], ['sms', { at: end, why: 'quiet_hours' }], ['email', undefined],
    ]);
    assert.deepEqual(tasks[1]!.held, { n: 1, since: NOW });

    const urgent = fakeIO({ user: quiet });
    await handleUserMessage(message({ channels: ['sms'], category: 'news', priority: 'high' }), urgent.io, NOW);
    const t = urgent.commits[0]!.tasks[0]!;
    assert.deepEqual([t.defer, t.limit, t.held, t.task.priority], [undefined, undefined, undefined, 'high']);
  });

  it('attaches the channel\'s and the category\'s caps as rate keys, counted per notification, with the deferral limit', async () => {
    const { io, commits } = fakeIO({ user: user({ timezone: 'UTC' }) });
    await handleUserMessage(message({ channels: ['sms'], category: 'news' }), io, NOW - 12 * 3_600_000);
    assert.deepEqual(commits[0]!.tasks[0]!.limit, {
      caps: [
        { key: keys.rate('t', 'u', 'sms'), limit: 3, windowMs: 86_400_000, label: '3 sms per 1d' },
        { key: keys.rate('t', 'u', 'news.sms'), limit: 1, windowMs: 3_600_000, label: '1 news.sms per 1h' },
      ],
      id: 'n1', drop: false, latest: NOW - 12 * 3_600_000 + controls.rateLimit.maxDeferMs,
    });
  });

  it('with a collapse_key, hands the window its contents and end and leaves quiet hours and caps for the end', async () => {
    const quiet = user({ prefs: { quiet_hours: { start: '22:00', end: '07:00' } } });
    const { io, commits } = fakeIO({ user: quiet });
    await handleUserMessage(message({ channels: ['push', 'sms'], collapse_key: 'chat', digest_template: 'dg', params: { from: 'Al' } }), io, NOW);
    const u = commits[0]!;
    assert.ok(u.tasks.every((t) => !t.defer && !t.limit), 'not gated now');
    const ck = collapseHash('chat');
    assert.deepEqual({ ...u.collapse, member: undefined }, {
      key: keys.collapse('t', 'u', ck), windowMs: controls.collapse.windowMs, cap: controls.collapse.maxItems, member: undefined,
      item: JSON.stringify({ id: 'n1', params: { from: 'Al' } }), contents: { push: { title: 'Hi', body: 'hello' }, sms: { body: 'hello' } }, digest: 'dg',
    });
    assert.deepEqual(u.collapse!.member.split('\n'), [keys.ingest, 'flush', JSON.stringify({ tenant: 't', user_id: 'u', nid: 'n1', ck })]);
    assert.deepEqual(u.tasks.map((t) => t.task.collapse_key), ['chat', 'chat']);
  });

  it('with the controls off: no event claim, no window, no gates', async () => {
    const off = fakeIO({ controls: { ...controls, enabled: false }, user: user({ prefs: { quiet_hours: { start: '22:00', end: '07:00' } } }) });
    await handleUserMessage(message({ channels: ['sms'], event_id: 'e', collapse_key: 'k' }), off.io, NOW);
    const u = off.commits[0]!;
    assert.deepEqual([u.event, u.collapse, u.tasks[0]!.defer, u.tasks[0]!.limit], [undefined, undefined, undefined, undefined]);
    assert.ok(!off.calls.some((c) => c.startsWith('event')));
  });
});

const held = (over: Partial<DeliveryTask> = {}): DeliveryTask => ({
  nid: 'n1', dk: 'u:sms', tenant: 't', user_id: 'u', channel: 'sms', lane: 'sms', to: '+14155550100', content: { body: 'x' },
  priority: 'normal', accepted_at: NOW - 1000, attempt: 1, ...over,
});

describe('handleRecheck', () => {
  const recheck = (d: DeliveryTask, n = 1, since = NOW - 1000) => ({ kind: 'recheck' as const, entryId: '2-0', sole: true, held: { d, n, since } });

  it('is applied once per return (marker r:<key>:<n>) and is gated again: still quiet → deferred again, counting up', async () => {
    const { io, commits } = fakeIO({ user: user({ prefs: { quiet_hours: { start: '22:00', end: '07:00' } } }) });
    await handleRecheck(recheck(held(), 2), io, NOW);
    const u = commits[0]!;
    assert.deepEqual([u.once, u.ack, u.meta], ['r:u:sms:2', '2-0', undefined]);
    assert.deepEqual([u.tasks[0]!.defer?.why, u.tasks[0]!.held], ['quiet_hours', { n: 3, since: NOW - 1000 }]);
  });

  it('records opted_out, or no_address for an unknown user or a device removed while held, instead of sending', async () => {
    const cases: [World, DeliveryTask, string][] = [
      [{ user: user({ prefs: { channels: { sms: false } } }) }, held(), 'opted_out'],
      [{ user: user({ prefs: { categories: { news: { sms: false } } } }) }, held({ category: 'news' }), 'opted_out'],
      [{ user: null }, held(), 'no_address'],
      [{}, held({ channel: 'push', lane: 'apns', dk: 'u:apns:x', to: 'cd'.repeat(32) }), 'no_address'],
    ];
    for (const [world, d, status] of cases) {
      const { io, commits } = fakeIO(world);
      await handleRecheck(recheck(d), io, NOW);
      assert.deepEqual([commits[0]!.records.map(([, r]) => r.status), commits[0]!.tasks.length], [[status], 0], status);
    }
  });

  it('keeps when it was first held, so caps stop holding it after the maximum deferral', async () => {
    const { io, commits } = fakeIO({ user: user({ timezone: 'UTC' }) });
    await handleRecheck(recheck(held(), 4, NOW - 5000), io, NOW - 3 * 3_600_000);
    assert.equal(commits[0]!.tasks[0]!.limit?.latest, NOW - 5000 + controls.rateLimit.maxDeferMs);
  });
});

describe('handleFlush', () => {
  const flush = { kind: 'flush' as const, entryId: '3-0', sole: true, flush: { tenant: 't', user_id: 'u', nid: 'n1', ck: 'CK' } };
  const window = (over: Record<string, string> = {}) => ({
    owner: 'n1', n: '2', 'c:sms': JSON.stringify({ body: 'second' }),
    't:d:u:sms': JSON.stringify(held({ nid: 'n2', content: { body: 'second' }, priority: 'high' })),
    't:d:u:email': JSON.stringify(held({ channel: 'email', lane: 'email', dk: 'u:email', to: 'u@example.com', content: { subject: 's', text: 'first' } })),
    'i:1': JSON.stringify({ id: 'n1', params: { n: 1 } }), 'i:2': JSON.stringify({ id: 'n2', params: { n: 2 } }), ...over,
  });

  it('closes the window and sends its deliveries as the owner, gated now, consuming the closed window', async () => {
    const { io, commits, calls } = fakeIO({ window: window(), user: user({ prefs: { quiet_hours: { start: '22:00', end: '07:00' } } }) });
    await handleFlush(flush, io, NOW);
    const open = keys.collapse('t', 'u', 'CK');
    assert.deepEqual(calls, [`close ${open} ${open}|n1 n1`]);
    const u = commits[0]!;
    assert.deepEqual([u.nid, u.once, u.ack, u.drop], ['n1', 'f:u', '3-0', [`${open}|n1`]]);
    assert.deepEqual(u.tasks.map((t) => [t.field, t.task.nid, t.task.content, t.defer?.why]), [
      ['d:u:email', 'n1', { subject: 's', text: 'first' }, undefined],
      ['d:u:sms', 'n1', { body: 'second' }, undefined], // high priority (the latest's): no quiet hours
    ]);
  });

  it('renders the digest template for the channels it has, with the folded notifications', async () => {
    const templates = { dg: template({ sms: { body: '{{ count }}' } }) };
    const { io, commits, calls } = fakeIO({ window: window({ dt: 'dg' }), templates });
    await handleFlush(flush, io, NOW);
    assert.ok(calls.includes('render t/tpl sms'), calls.join('; '));
    assert.deepEqual(commits[0]!.tasks.map((t) => t.task.content), [{ subject: 's', text: 'first' }, { body: 'sms 2' }]);
  });

  it('a window already sent (read twice) sends nothing more but still acknowledges', async () => {
    const { io, commits } = fakeIO({ window: {} });
    await handleFlush(flush, io, NOW);
    assert.deepEqual([commits[0]!.tasks.length, commits[0]!.ack], [0, '3-0']);
  });
});

describe('gatedTask', () => {
  const ready = (d: DeliveryTask) => ({ field: `d:${d.dk}`, task: d, record: { user_id: 'u', channel: d.channel, provider: null, to: null, status: 'queued' as const, attempts: 0, updated_at: '' } });

  it('defers in quiet hours, attaches caps otherwise, and leaves an uncapped delivery as it is', () => {
    const quiet = user({ prefs: { quiet_hours: { start: '22:00', end: '07:00' } } });
    assert.deepEqual(gatedTask(ready(held()), { n: 0, since: NOW }, quiet, { keys, controls }, NOW).defer, { at: Date.parse('2025-01-11T06:00:00Z'), why: 'quiet_hours' });
    const day = gatedTask(ready(held()), { n: 0, since: NOW }, quiet, { keys, controls }, NOW + 12 * 3_600_000);
    assert.deepEqual([day.defer, day.limit?.caps.map((c) => c.key), day.held], [undefined, [keys.rate('t', 'u', 'sms')], { n: 1, since: NOW }]);
    const email = ready(held({ channel: 'email', lane: 'email' }));
    assert.equal(gatedTask(email, { n: 0, since: NOW }, quiet, { keys, controls }, NOW), email, 'nothing to add');
    const drop = gatedTask(ready(held()), { n: 0, since: NOW }, null, { keys, controls: { ...controls, rateLimit: { ...controls.rateLimit, mode: 'drop' } } }, NOW);
    assert.equal(drop.limit?.drop, true);
    assert.equal(gatedTask(ready(held({ category: 'transactional' })), { n: 0, since: NOW }, null, { keys, controls }, NOW).limit, undefined);
  });
});
