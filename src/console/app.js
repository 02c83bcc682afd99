// The notify console: one page, hash routes, the /v1 API with the API key the user pasted (sessionStorage).
// Everything shown is put into the DOM as text nodes (never as HTML); addresses are masked.

const KEY = 'notify-console-key';
const JAEGER_KEY = 'notify-console-jaeger';
const DEFAULT_JAEGER = 'http://localhost:16686';
const CHANNELS = ['push', 'sms', 'email'];
const STATUSES = ['accepted', 'scheduled', 'processing', 'sent', 'partially_sent', 'failed', 'not_sent', 'cancelled'];
const REASONS = ['attempts_exhausted', 'max_age_exceeded', 'provider_refused', 'poison', 'invalid_json', 'invalid_entry',
  'missing_payload', 'unknown_tenant', 'invalid_task'];
/** Ids sent per redrive or delete request; the progress count moves after each. */
const CHUNK = 25;

const main = document.getElementById('main');
const nav = document.getElementById('nav');

// ---- DOM helpers: text only ----

/** An element; strings and numbers become text nodes, `on<event>` attributes listeners. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'href') el.setAttribute('href', safeHref(v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Only in-page hashes and http(s) links (the Jaeger one). */
function safeHref(v) {
  const s = String(v);
  if (s.startsWith('#')) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
  } catch { /* not a URL */ }
  return '#';
}

function show(...children) {
  main.replaceChildren();
  append(main, children);
}

const msg = (text, kind = '') => h('div', { class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
const table = (head, rows) => h('table', {}, h('thead', {}, h('tr', {}, head.map((t) => h('th', {}, t)))), h('tbody', {}, rows));
const kv = (pairs) => h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const GOOD = new Set(['sent', 'delivered', 'ready', 'closed', 'clear', 'succeeded', 'ok', 'enabled']);
const BAD = new Set(['failed', 'bounced', 'complained', 'undelivered', 'not_sent', 'partially_sent', 'open', 'firing', 'not_ready', 'disabled']);
const WAIT = new Set(['accepted', 'scheduled', 'processing', 'queued', 'retrying', 'deferred', 'half-open']);
const badge = (s) => h('span', { class: `status ${GOOD.has(s) ? 'good' : BAD.has(s) ? 'bad' : WAIT.has(s) ? 'wait' : ''}` }, s ?? '');

// ---- masking: no address is shown whole ----

/** `jane.doe@example.com` → `j***@example.com`; `+15555550100` → `+1******0100` (as the service masks them). */
export function maskAddress(to) {
  if (typeof to !== 'string' || to === '') return to ?? '';
  const at = to.lastIndexOf('@');
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  if (/^\+\d{6,}$/.test(to)) return `${to.slice(0, 2)}${'*'.repeat(Math.max(0, to.length - 6))}${to.slice(-4)}`;
  return to;
}
/** Free text (errors, user ids): any email or +phone number in it masked. */
export function maskText(text) {
  if (typeof text !== 'string') return text ?? '';
  return text
    .replace(/[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[A-Za-z]{2,}/g, (m) => maskAddress(m))
    .replace(/\+\d{7,15}\b/g, (m) => maskAddress(m));
}

// ---- the API ----

const key = () => sessionStorage.getItem(KEY);

class ApiFailure extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? `http_${status}`;
  }
}

async function api(method, path, body, apiKey = key()) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (res.status === 401 && apiKey === key()) {
    sessionStorage.removeItem(KEY);
    loginPage('The API key was refused (401): log in again.');
    throw new ApiFailure(401, json);
  }
  if (!res.ok) throw new ApiFailure(res.status, json);
  return json;
}

const failure = (err) => msg(err instanceof ApiFailure ? `${err.status} ${err.code}: ${maskText(err.message)}` : `Request failed: ${err.message}`, 'error');
const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

// ---- routing ----

function route() {
  if (!key()) return loginPage();
  nav.hidden = false;
  const [path, qs] = location.hash.replace(/^#/, '').split('?');
  const params = Object.fromEntries(new URLSearchParams(qs ?? ''));
  const parts = (path || '/activity').split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('href') === `#/${parts[0]}`);
  const run = parts[0] === 'notifications' && parts[1] ? timelinePage(parts[1])
    : parts[0] === 'dead-letters' && parts[1] ? deadLetterPage(parts[1])
      : parts[0] === 'dead-letters' ? deadLettersPage(params)
        : parts[0] === 'status' ? statusPage()
          : activityPage(params);
  run.catch((err) => { if (!(err instanceof ApiFailure && err.status === 401)) show(failure(err)); });
}

function go(path, params = {}) {
  const next = `#${path}${query(params)}`;
  if (location.hash === next) route();
  else location.hash = next;
}

// ---- login ----

function loginPage(note) {
  nav.hidden = true;
  const input = h('input', { type: 'password', name: 'api-key', id: 'api-key', autocomplete: 'off', required: true, placeholder: 'the tenant\'s API key' });
  const out = h('div', {}, note && msg(note, 'warn'));
  const form = h('form', {
    class: 'login',
    onsubmit: async (e) => {
      e.preventDefault();
      const candidate = input.value.trim();
      if (!candidate) return;
      out.replaceChildren(msg('Checking the key…'));
      try {
        // Any authenticated call tells: this one works whether history is on or not.
        await api('GET', '/v1/dead-letters?limit=1', undefined, candidate);
        sessionStorage.setItem(KEY, candidate);
        if (!location.hash || location.hash === '#/login') location.hash = '#/activity';
        else route();
      } catch (err) {
        out.replaceChildren(err instanceof ApiFailure && err.status === 401
          ? msg('That API key was refused (401 unauthorized).', 'error') : failure(err));
      }
    },
  }, h('h1', {}, 'Log in'), h('p', {}, 'Paste an API key. It is kept in this tab only (sessionStorage) and sent as Authorization: Bearer on every call; you see that key\'s tenant.'),
  h('label', { for: 'api-key' }, 'API key'), input, h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'login' }, 'Log in')), out);
  show(form);
  input.focus();
}

// ---- activity ----

function select(name, values, current, any = 'any') {
  return h('select', { name }, h('option', { value: '' }, any), values.map((v) => h('option', { value: v, selected: v === current }, v)));
}

async function activityPage(params) {
  const user = h('input', { name: 'user_id', value: params.user_id ?? '', placeholder: 'user id' });
  const status = select('status', STATUSES, params.status);
  const channel = select('channel', CHANNELS, params.channel);
  const openId = h('input', { name: 'id', placeholder: 'notification id' });
  const results = h('div', { id: 'results' });
  show(
    h('h1', {}, 'Activity'),
    h('form', { class: 'filters', id: 'search', onsubmit: (e) => { e.preventDefault(); go('/activity', { user_id: user.value.trim(), status: status.value, channel: channel.value }); } },
      h('label', {}, 'User', user), h('label', {}, 'Status', status), h('label', {}, 'Channel', channel), h('button', { type: 'submit' }, 'Search')),
    h('form', { class: 'filters', id: 'open', onsubmit: (e) => { e.preventDefault(); if (openId.value.trim()) go(`/notifications/${encodeURIComponent(openId.value.trim())}`); } },
      h('label', {}, 'Open by id', openId), h('button', { type: 'submit' }, 'Open')),
    results,
  );
  const rows = h('tbody');
  const more = h('div', { class: 'actions' });
  const load = async (cursor) => {
    let page;
    try {
      page = await api('GET', `/v1/notifications${query({ user_id: params.user_id, status: params.status, channel: params.channel, cursor, limit: 50 })}`);
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 503 && /history/i.test(err.message)) {
        results.replaceChildren(msg(`Search needs the notification history, and it is off on this service: ${err.message}. A notification can still be opened by id.`, 'warn'));
        return;
      }
      throw err;
    }
    if (!cursor && page.notifications.length === 0) {
      results.replaceChildren(msg('No notifications match.'));
      return;
    }
    if (!cursor) results.replaceChildren(h('table', { id: 'notifications' }, h('thead', {}, h('tr', {}, ['Created', 'Id', 'Status', 'Deliveries', 'Category', 'Event id'].map((t) => h('th', {}, t)))), rows), more);
    for (const n of page.notifications) {
      rows.append(h('tr', {},
        h('td', {}, when(n.created_at)),
        h('td', { class: 'mono' }, h('a', { href: `#/notifications/${encodeURIComponent(n.id)}` }, n.id)),
        h('td', {}, badge(n.status)),
        h('td', {}, n.deliveries.map((d) => `${d.channel}:${d.status}`).join(' ')),
        h('td', {}, n.category ?? ''),
        h('td', { class: 'mono' }, n.event_id ?? '')));
    }
    more.replaceChildren(page.next_cursor ? h('button', { type: 'button', onclick: () => load(page.next_cursor).catch((err) => more.replaceChildren(failure(err))) }, 'More') : '');
  };
  await load();
}

// ---- one notification ----

function jaegerBase() {
  const given = new URLSearchParams(location.search).get('jaeger');
  if (given && /^https?:\/\//.test(given)) sessionStorage.setItem(JAEGER_KEY, given.replace(/\/+$/, ''));
  return sessionStorage.getItem(JAEGER_KEY) ?? DEFAULT_JAEGER;
}

/** A trace id on the record (the API does not show one today), else Jaeger's search by the tag every span carries. */
function traceLink(n) {
  const base = jaegerBase();
  const traceId = n.trace_id ?? (typeof n.traceparent === 'string' ? n.traceparent.split('-')[1] : undefined);
  if (traceId && /^[0-9a-f]{32}$/.test(traceId)) return h('a', { href: `${base}/trace/${traceId}`, target: '_blank', rel: 'noopener noreferrer', id: 'trace' }, `Trace ${traceId} in Jaeger`);
  const tags = JSON.stringify({ 'notify.notification_id': n.id });
  return h('a', { href: `${base}/search?service=notify&tags=${encodeURIComponent(tags)}`, target: '_blank', rel: 'noopener noreferrer', id: 'trace' }, 'Its trace in Jaeger (search by notify.notification_id)');
}

function timelineOf(n) {
  const events = [[n.created_at, 'accepted']];
  if (n.send_at) events.push([n.send_at, 'scheduled for']);
  if (n.cancelled_at) events.push([n.cancelled_at, 'cancelled']);
  if (n.not_planned) events.push([n.not_planned.at, `not planned: ${n.not_planned.reason} ${maskText(n.not_planned.message ?? '')}`]);
  for (const d of n.deliveries) {
    const who = `${d.channel}${d.provider ? ` via ${d.provider}` : ''} to ${maskAddress(d.to) || maskText(d.user_id)}`;
    if (d.deferred_until) events.push([d.deferred_until, `${who}: deferred until`]);
    if (d.feedback) events.push([d.feedback.at, `${who}: provider reported ${d.feedback.event}${d.feedback.detail ? ` (${maskText(d.feedback.detail)})` : ''}`]);
    events.push([d.updated_at, `${who}: ${d.status}${d.attempts ? ` after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : ''}${d.last_error ? ` — ${maskText(d.last_error)}` : ''}`]);
  }
  const at = (x) => (typeof x === 'number' ? x : Date.parse(x));
  return events.filter(([t]) => t !== undefined && !Number.isNaN(at(t))).sort((a, b) => at(a[0]) - at(b[0]));
}

async function timelinePage(id) {
  show(h('h1', {}, 'Notification ', h('span', { class: 'mono' }, id)), msg('Loading…'));
  const n = await api('GET', `/v1/notifications/${encodeURIComponent(id)}`);
  const link = (to) => (to ? h('a', { href: `#/notifications/${encodeURIComponent(to)}`, class: 'mono' }, to) : '');
  const fb = (f) => (f ? `${f.event} at ${when(typeof f.at === 'number' ? new Date(f.at).toISOString() : f.at)}${f.detail ? ` (${maskText(f.detail)})` : ''}` : '');
  show(
    h('h1', {}, 'Notification ', h('span', { class: 'mono', id: 'notification-id' }, n.id)),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => route() }, 'Refresh'), traceLink(n)),
    kv([['Status', badge(n.status)], ['Created', when(n.created_at)], ['Send at', when(n.send_at)], ['Cancelled', when(n.cancelled_at)],
      ['Category', n.category], ['Event id', n.event_id], ['Collapse key', n.collapse_key],
      ['Not planned', n.not_planned && `${n.not_planned.reason}: ${maskText(n.not_planned.message ?? '')}`],
      ['Dead letter', n.not_planned?.dead_letter_id && h('a', { href: `#/dead-letters/${encodeURIComponent(n.not_planned.dead_letter_id)}` }, n.not_planned.dead_letter_id)]]),
    h('h2', {}, 'Deliveries'),
    n.deliveries.length === 0 ? msg('No deliveries (yet).') : h('table', { id: 'deliveries' },
      h('thead', {}, h('tr', {}, ['User', 'Channel', 'Provider', 'To', 'Status', 'Attempts', 'Provider message id', 'Feedback', 'Error', 'Updated'].map((t) => h('th', {}, t)))),
      h('tbody', {}, n.deliveries.map((d) => h('tr', {},
        h('td', {}, maskText(d.user_id)), h('td', {}, d.channel), h('td', {}, d.provider ?? ''), h('td', { class: 'mono' }, maskAddress(d.to)),
        h('td', {}, badge(d.status), d.deferred_until ? ` until ${when(d.deferred_until)}` : ''),
        h('td', {}, d.attempts ?? 0), h('td', { class: 'mono' }, d.provider_message_id ?? ''), h('td', {}, fb(d.feedback)),
        h('td', {}, maskText(d.last_error ?? ''), d.duplicate_of ? ['duplicate of ', link(d.duplicate_of)] : '', d.coalesced_into ? ['coalesced into ', link(d.coalesced_into)] : ''),
        h('td', {}, when(d.updated_at)))))),
    h('h2', {}, 'Timeline'),
    h('ol', { class: 'timeline', id: 'timeline' }, timelineOf(n).map(([t, what]) => h('li', {}, h('span', { class: 'muted' }, when(typeof t === 'number' ? new Date(t).toISOString() : t)), ' ', what))),
  );
}

// ---- dead letters ----

async function deadLettersPage(params) {
  const channel = select('channel', CHANNELS, params.channel);
  const reason = select('reason', REASONS, params.reason);
  const kind = select('kind', ['delivery', 'intake'], params.kind);
  const out = h('div', { id: 'dead-letters' });
  const progress = h('span', { id: 'progress', role: 'status' });
  const selected = new Set();
  const boxes = [];
  const rows = h('tbody');
  const all = h('input', { type: 'checkbox', 'aria-label': 'select all', onchange: () => { for (const b of boxes) { b.checked = all.checked; b.dispatchEvent(new Event('change')); } } });
  const act = async (what) => {
    const ids = [...selected];
    if (ids.length === 0) { progress.textContent = 'Select dead letters first.'; return; }
    if (!confirm(`${what === 'redrive' ? 'Redrive' : 'Delete'} ${ids.length} dead letter${ids.length === 1 ? '' : 's'}?`)) return;
    const done = await inChunks(what, ids, (n) => { progress.textContent = `${what === 'redrive' ? 'Redriving' : 'Deleting'} ${n}/${ids.length}`; });
    progress.textContent = `${what === 'redrive' ? 'Redriven' : 'Deleted'} ${done.count}/${ids.length}${done.error ? ` — stopped: ${done.error}` : ''}`;
    await load(undefined, false);
  };
  const more = h('div', { class: 'actions' });
  show(
    h('h1', {}, 'Dead letters'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); go('/dead-letters', { channel: channel.value, reason: reason.value, kind: kind.value }); } },
      h('label', {}, 'Channel', channel), h('label', {}, 'Reason', reason), h('label', {}, 'Kind', kind), h('button', { type: 'submit' }, 'Filter')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'redrive', onclick: () => act('redrive').catch((err) => progress.replaceChildren(failure(err))) }, 'Redrive selected'),
      h('button', { type: 'button', id: 'delete', class: 'danger', onclick: () => act('delete').catch((err) => progress.replaceChildren(failure(err))) }, 'Delete selected'),
      progress),
    out,
  );
  async function load(cursor, clearProgress = true) {
    const page = await api('GET', `/v1/dead-letters${query({ channel: params.channel, reason: params.reason, kind: params.kind, cursor, limit: 100 })}`);
    if (!cursor) {
      selected.clear();
      boxes.length = 0;
      rows.replaceChildren();
      all.checked = false;
      if (clearProgress) progress.textContent = '';
    }
    if (!cursor && page.dead_letters.length === 0) {
      out.replaceChildren(msg('No dead letters match.'));
      return;
    }
    if (!cursor) {
      out.replaceChildren(h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, all), ['Dead at', 'Id', 'Kind', 'Reason', 'Channel', 'Notification', 'User', 'Attempts', 'Error'].map((t) => h('th', {}, t)))), rows), more);
    }
    for (const d of page.dead_letters) {
      const box = h('input', { type: 'checkbox', 'aria-label': `select ${d.id}`, 'data-id': d.id, onchange: () => { if (box.checked) selected.add(d.id); else selected.delete(d.id); } });
      boxes.push(box);
      rows.append(h('tr', { 'data-id': d.id },
        h('td', {}, box), h('td', {}, when(d.dead_at)),
        h('td', { class: 'mono' }, h('a', { href: `#/dead-letters/${encodeURIComponent(d.id)}` }, d.id)),
        h('td', {}, d.kind), h('td', {}, d.reason), h('td', {}, d.channel ?? ''),
        h('td', { class: 'mono' }, d.notification_id ? h('a', { href: `#/notifications/${encodeURIComponent(d.notification_id)}` }, d.notification_id) : ''),
        h('td', {}, maskText(d.user_id ?? '')), h('td', {}, d.attempts ?? ''), h('td', {}, maskText(d.error ?? ''))));
    }
    more.replaceChildren(page.next_cursor ? h('button', { type: 'button', onclick: () => load(page.next_cursor).catch((err) => more.replaceChildren(failure(err))) }, 'More') : '');
  }
  await load();
}

/** Redrives or deletes `ids`, CHUNK at a time, reporting how many were sent so far; stops at the first failure. */
async function inChunks(what, ids, onProgress) {
  let count = 0;
  onProgress(0);
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    try {
      const r = await api('POST', `/v1/dead-letters/${what}`, { ids: chunk, limit: chunk.length });
      count += what === 'redrive' ? r.redriven : r.deleted;
    } catch (err) {
      return { count, error: `${err.code ?? ''} ${maskText(err.message)}` };
    }
    onProgress(Math.min(i + chunk.length, ids.length));
  }
  return { count };
}

async function deadLetterPage(id) {
  const d = await api('GET', `/v1/dead-letters/${encodeURIComponent(id)}`);
  const progress = h('span', { id: 'progress', role: 'status' });
  const one = async (what) => {
    if (!confirm(`${what === 'redrive' ? 'Redrive' : 'Delete'} dead letter ${d.id}?`)) return;
    const done = await inChunks(what, [d.id], (n) => { progress.textContent = `${what === 'redrive' ? 'Redriving' : 'Deleting'} ${n}/1`; });
    progress.textContent = done.error ? `Failed: ${done.error}` : `${what === 'redrive' ? 'Redriven' : 'Deleted'} ${done.count}/1`;
  };
  const note = (a) => h('tr', {}, h('td', {}, when(a.at)), h('td', {}, a.provider ?? ''), h('td', { class: 'mono' }, a.code ?? ''), h('td', {}, maskText(a.message ?? '')));
  show(
    h('h1', {}, 'Dead letter ', h('span', { class: 'mono' }, d.id)),
    h('div', { class: 'actions' },
      h('a', { href: '#/dead-letters' }, '← all dead letters'),
      h('button', { type: 'button', id: 'redrive-one', onclick: () => one('redrive').catch((err) => progress.replaceChildren(failure(err))) }, 'Redrive'),
      h('button', { type: 'button', id: 'delete-one', class: 'danger', onclick: () => one('delete').catch((err) => progress.replaceChildren(failure(err))) }, 'Delete'),
      progress),
    kv([['Kind', d.kind], ['Reason', d.reason], ['Error', maskText(d.error ?? '')], ['Dead at', when(d.dead_at)], ['Channel', d.channel], ['Lane', d.lane],
      ['Notification', d.notification_id && h('a', { href: `#/notifications/${encodeURIComponent(d.notification_id)}`, class: 'mono' }, d.notification_id)],
      ['User', d.user_id && maskText(d.user_id)], ['Attempts', d.attempts], ['Throttled', d.throttled]]),
    h('h2', {}, 'Attempts'),
    d.history?.length ? h('table', { id: 'attempts' }, h('thead', {}, h('tr', {}, ['At', 'Provider', 'Code', 'Message'].map((t) => h('th', {}, t)))), h('tbody', {}, d.history.map(note)))
      : msg('No attempts recorded (an intake entry, or it never reached a provider).'),
    d.last_throttle ? [h('h2', {}, 'Last throttle'), table(['At', 'Provider', 'Code', 'Message'], [note(d.last_throttle)])] : '',
  );
}

// ---- status ----

/** Prometheus text → [{name, labels, value}] (comments skipped). */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const CIRCUIT = ['closed', 'half-open', 'open'];
const num = (v) => (Number.isNaN(v) ? 'unknown' : Number.isInteger(v) ? String(v) : v.toFixed(1));

async function statusPage() {
  const ready = h('section', { id: 'ready' }, msg('Loading…'));
  const queues = h('section', { id: 'queues' });
  const hooks = h('section', { id: 'webhooks' });
  const alerts = h('section', { id: 'alerts' });
  show(h('h1', {}, 'Status'), h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => route() }, 'Refresh')),
    h('h2', {}, 'Readiness'), ready, queues, h('h2', {}, 'Webhook endpoints'), hooks, h('h2', {}, 'Alerts'), alerts);
  const tasks = [
    (async () => {
      const res = await fetch('/readyz');
      const body = await res.json().catch(() => ({}));
      ready.replaceChildren(kv([['Status', badge(body.status ?? `HTTP ${res.status}`)], ...Object.entries(body.checks ?? {}).map(([k, v]) => [k, badge(v ? 'ok' : 'failed')])]));
    })().catch((err) => ready.replaceChildren(failure(err))),
    (async () => {
      const res = await fetch('/metrics');
      if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
      const samples = parseMetrics(await res.text());
      const one = (name) => samples.find((s) => s.name === name)?.value;
      const streams = new Map();
      for (const s of samples) {
        if (!s.name.startsWith('notify_stream_') || s.labels.stream === undefined) continue;
        const row = streams.get(s.labels.stream) ?? {};
        row[s.name.slice('notify_stream_'.length)] = s.value;
        streams.set(s.labels.stream, row);
      }
      const circuits = samples.filter((s) => s.name === 'notify_circuit_state');
      queues.replaceChildren(
        h('h2', {}, 'Queues'),
        kv([['Redis', badge(one('notify_redis_up') === 1 ? 'ok' : 'not answering')], ['Delayed entries', one('notify_delayed_entries') !== undefined && num(one('notify_delayed_entries'))],
          ['Dead letters (all tenants)', one('notify_dead_letters') !== undefined && num(one('notify_dead_letters'))]]),
        streams.size === 0 ? msg('No per-stream gauges (Redis did not answer in time).', 'warn') : h('table', { id: 'streams' },
          h('thead', {}, h('tr', {}, ['Stream', 'Length', 'Lag (unread)', 'Pending', 'Queued (lag + pending)', 'Oldest pending'].map((t) => h('th', {}, t)))),
          h('tbody', {}, [...streams].map(([name, r]) => h('tr', {}, h('td', { class: 'mono' }, name), h('td', {}, num(r.length ?? NaN)), h('td', {}, r.lag === undefined ? '' : num(r.lag)),
            h('td', {}, num(r.pending ?? NaN)), h('td', {}, r.lag === undefined ? '' : num(r.lag + (r.pending ?? 0))),
            h('td', {}, r.oldest_pending_age_seconds ? `${num(r.oldest_pending_age_seconds)} s` : '—'))))),
        h('h2', {}, 'Provider circuits'),
        circuits.length === 0 ? msg('No circuit states (this process runs no worker).') : h('table', { id: 'circuits' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Provider'), h('th', {}, 'Circuit'))),
          h('tbody', {}, circuits.map((c) => h('tr', {}, h('td', {}, c.labels.provider ?? ''), h('td', {}, badge(CIRCUIT[c.value] ?? String(c.value))))))),
      );
    })().catch((err) => queues.replaceChildren(failure(err))),
    (async () => {
      try {
        const { webhooks } = await api('GET', '/v1/webhooks');
        const host = (u) => { try { return new URL(u).host; } catch { return ''; } };
        hooks.replaceChildren(webhooks.length === 0 ? msg('No webhook endpoints.') : h('table', { id: 'webhook-table' },
          h('thead', {}, h('tr', {}, ['Name', 'Host', 'Events', 'Enabled', 'Queued', 'Dead letters', 'Failures in a row', 'Disabled'].map((t) => h('th', {}, t)))),
          h('tbody', {}, webhooks.map((w) => h('tr', {}, h('td', {}, w.name), h('td', { class: 'mono' }, host(w.url)), h('td', {}, (w.events ?? []).join(', ')),
            h('td', {}, badge(w.enabled ? 'enabled' : 'disabled')), h('td', {}, w.queued ?? ''), h('td', {}, w.dead_letters ?? ''), h('td', {}, w.consecutive_failures ?? ''),
            h('td', {}, w.disabled_reason ? `${maskText(w.disabled_reason)} (${when(w.disabled_at)})` : ''))))));
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 404) hooks.replaceChildren(msg('Webhooks are off on this service (NOTIFY_WEBHOOKS=off).'));
        else throw err;
      }
    })().catch((err) => hooks.replaceChildren(failure(err))),
    (async () => {
      try {
        const a = await api('GET', '/v1/alerts');
        const state = new Map((a.state ?? []).map((s) => [s.rule, s]));
        alerts.replaceChildren(
          (a.rules ?? []).length === 0 ? msg('No alert rules for this tenant.') : h('table', { id: 'alert-table' },
            h('thead', {}, h('tr', {}, ['Rule', 'Kind', 'Destinations', 'State', 'Last message', 'Last window count', 'Current window count'].map((t) => h('th', {}, t)))),
            h('tbody', {}, a.rules.map((r) => {
              const s = state.get(r.name) ?? {};
              return h('tr', {}, h('td', {}, r.name), h('td', {}, r.kind), h('td', {}, (r.destinations ?? []).join(', ')), h('td', {}, badge(s.state ?? '')),
                h('td', {}, s.last_message ? `${s.last_message} ${when(s.last_sent_at)}` : ''), h('td', {}, s.last_window_count ?? ''), h('td', {}, s.current_window_count ?? ''));
            }))),
          // Destination URLs are secrets (a Slack webhook URL is its credential): names and types only.
          (a.destinations ?? []).length ? h('p', { class: 'muted' }, `Destinations: ${a.destinations.map((d) => `${d.name} (${d.type})`).join(', ')}`) : '');
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 404) alerts.replaceChildren(msg('Alerts are off on this service (NOTIFY_ALERTS=off).'));
        else throw err;
      }
    })().catch((err) => alerts.replaceChildren(failure(err))),
  ];
  await Promise.all(tasks);
}

// ---- start ----

document.getElementById('logout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  loginPage('Logged out.');
});
window.addEventListener('hashchange', route);
route();
