// The console at /console (src/console), end to end in headless Chromium (Debian's, through playwright-core) against
// the real service in this process, with history on in PostgreSQL: logging in with an API key (a wrong one refused),
// activity search, one notification's timeline with masked addresses, dead letters listed, inspected and redriven
// (or deleted) after confirming, and the status page. Screenshots go to test-artifacts/console/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { API_KEY, eventually, startHarness, type Harness } from './support/harness.js';
import { dropSchema, historySchema } from './support/history.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../test-artifacts/console/', import.meta.url);
const { schema, env } = historySchema('console');

let h: Harness;
let browser: Browser;
let page: Page;
let sentId: string;
const refused: string[] = [];

const shot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
const post = async (body: object) => {
  const r = await h.api('POST', '/v1/notifications', body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.id as string;
};
const deadLetterOf = (id: string) => eventually(async () => {
  const r = await h.api('GET', '/v1/dead-letters?reason=provider_refused&limit=500');
  return r.body.dead_letters.find((d: any) => d.notification_id === id);
}, 10_000, `the dead letter of ${id}`);
const bodyText = async () => (await page.textContent('body')) ?? '';

describe('the console', () => {
  before(() => assert.ok(existsSync(CHROMIUM), `no ${CHROMIUM}: apt-get install chromium (.ci/run does)`));
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await startHarness('console', {
      env: { ...env, NOTIFY_WEBHOOKS: 'on', NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'on', NOTIFY_ALERTS: 'on', NOTIFY_ALERT_ALLOW_PRIVATE: 'on' },
    });
    assert.equal((await h.api('PUT', '/v1/users/con1', { email: 'jane.doe@example.com', phone: '+15555550100' })).status, 200);
    sentId = await post({ user_id: 'con1', channels: ['email', 'sms'], category: 'console-test', content: { subject: 'Hi', text: 'Hello', body: 'Hello' } });
    assert.equal((await h.api('PUT', '/v1/webhooks/ops-hook', { url: 'http://127.0.0.1:9/hook', events: ['delivery.failed'] })).status, 201);
    const alerts = await h.api('PUT', '/v1/alerts', {
      destinations: [{ name: 'pager', type: 'webhook', url: 'http://127.0.0.1:9/secret-alert-path' }],
      rules: [{ name: 'dead-letters', kind: 'dead_letter', destinations: ['pager'] }],
    });
    assert.equal(alerts.status, 200, JSON.stringify(alerts.body));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') refused.push(m.text()); });
    page.on('pageerror', (err) => refused.push(String(err)));
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
    await dropSchema(schema);
  });

  it('is served without an API key, with a strict Content-Security-Policy, and only for GET', async () => {
    for (const [path, type] of [['/console', /text\/html/], ['/console/app.js', /text\/javascript/], ['/console/console.css', /text\/css/]] as const) {
      const r = await fetch(h.url + path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', type, path);
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
    }
    assert.equal((await fetch(`${h.url}/console`, { method: 'POST' })).status, 405);
    // What the page inserts is text: no HTML sinks in the bundle.
    const js = readFileSync(new URL('../src/console/app.js', import.meta.url), 'utf8');
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('logs in with the API key; a wrong key is refused with a message', async () => {
    await page.goto(`${h.url}/console`);
    await page.fill('#api-key', 'wrong-key-000000000000');
    await page.click('#login');
    await page.getByText('That API key was refused').waitFor();
    await shot('login-refused');
    await page.fill('#api-key', API_KEY);
    await page.click('#login');
    await page.locator('form#search').waitFor();
    assert.equal(await page.evaluate('location.hash'), '#/activity');
    assert.equal(await page.evaluate('sessionStorage.getItem("notify-console-key")'), API_KEY);
  });

  it('activity search finds a sent notification', async () => {
    // In the history once archived.
    await eventually(async () => {
      const r = await h.api('GET', '/v1/notifications?user_id=con1');
      return r.body.notifications?.some((n: any) => n.id === sentId && n.status === 'sent') ? true : undefined;
    }, 15_000, 'the notification archived as sent');
    await page.fill('input[name=user_id]', 'con1');
    await page.selectOption('select[name=status]', 'sent');
    await page.click('form#search button');
    const link = page.locator('#notifications a', { hasText: sentId });
    await link.waitFor();
    await shot('activity');
    await link.click();
    await page.locator('#deliveries').waitFor();
    assert.equal(await page.textContent('#notification-id'), sentId);
  });

  it('one notification: its deliveries with provider, attempts and masked addresses, a timeline and a Jaeger link', async () => {
    const rows = page.locator('#deliveries tbody tr');
    assert.equal(await rows.count(), 2);
    const text = await page.textContent('#deliveries') ?? '';
    assert.match(text, /email/);
    assert.match(text, /ses/);
    assert.match(text, /twilio/);
    assert.ok(text.includes('j***@example.com'), text);
    assert.ok(text.includes('+1******0100'), text);
    const all = await bodyText();
    assert.ok(!all.includes('jane.doe@example.com') && !all.includes('+15555550100'), 'no whole address on the page');
    const n = (await h.api('GET', `/v1/notifications/${sentId}`)).body;
    for (const d of n.deliveries) if (d.provider_message_id) assert.ok(text.includes(d.provider_message_id), 'the provider message id');
    assert.ok((await page.locator('#timeline li').count()) >= 3, 'accepted, then each delivery');
    const href = await page.getAttribute('#trace', 'href') ?? '';
    assert.ok(href.startsWith('http://localhost:16686/search?service=notify&tags='), href);
    assert.ok(decodeURIComponent(href).includes(`"notify.notification_id":"${sentId}"`), href);
    await shot('timeline');
  });

  it('dead letters: listed with filters, inspected, redriven after confirming (with a count), deleted', async () => {
    h.fakes.behavior('ses', { failWith: { code: 'AccountSuspendedException' } });
    const redriveId = await post({ user_id: 'con1', channels: ['email'], content: { subject: 'R', text: 'x' } });
    const deleteId = await post({ user_id: 'con1', channels: ['email'], content: { subject: 'D', text: 'x' } });
    const [toRedrive, toDelete] = [await deadLetterOf(redriveId), await deadLetterOf(deleteId)];
    h.fakes.resetBehavior();

    await page.click('nav a[href="#/dead-letters"]');
    await page.selectOption('select[name=reason]', 'provider_refused');
    await page.selectOption('select[name=channel]', 'email');
    await page.click('form.filters button');
    await page.locator(`#dead-letters tr[data-id="${toRedrive.id}"]`).waitFor();
    assert.match(await page.evaluate('location.hash'), /reason=provider_refused/);
    assert.ok((await page.textContent(`#dead-letters tr[data-id="${toDelete.id}"]`))?.includes(deleteId));
    await shot('dead-letters');

    // Inspect one: its attempt history.
    await page.click(`#dead-letters a:text-is("${toRedrive.id}")`);
    await page.locator('#attempts').waitFor();
    const attempts = await page.textContent('#attempts') ?? '';
    assert.match(attempts, /AccountSuspendedException/);
    assert.match(await bodyText(), /provider_refused/);
    await shot('dead-letter');
    await page.click('a[href="#/dead-letters"]');
    await page.locator('#dead-letters table').waitFor();
    // The filter is gone (the link is to all of them); both are still listed.
    await page.check(`input[data-id="${toRedrive.id}"]`);

    // A dismissed confirm does nothing.
    page.once('dialog', (d) => void d.dismiss());
    await page.click('#redrive');
    assert.ok((await h.api('GET', `/v1/dead-letters/${toRedrive.id}`)).status === 200, 'still there after cancelling');
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await page.click('#redrive');
    await page.getByText('Redriven 1/1').waitFor();
    assert.equal(asked, 'Redrive 1 dead letter?');
    assert.equal(await page.locator(`#dead-letters tr[data-id="${toRedrive.id}"]`).count(), 0, 'gone from the list');
    await eventually(async () => ((await h.api('GET', `/v1/notifications/${redriveId}`)).body.deliveries[0].status === 'sent' ? true : undefined), 10_000, 'the redriven email sent');
    await shot('dead-letters-redriven');

    await page.check(`input[data-id="${toDelete.id}"]`);
    page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await page.click('#delete');
    await page.getByText('Deleted 1/1').waitFor();
    assert.equal(asked, 'Delete 1 dead letter?');
    assert.equal((await h.api('GET', `/v1/dead-letters/${toDelete.id}`)).status, 404);
  });

  it('status: readiness, queue depth and lag, provider circuits, webhook endpoints and alerts (no destination URL)', async () => {
    await page.click('nav a[href="#/status"]');
    await page.locator('#streams').waitFor();
    await page.locator('#webhook-table').waitFor();
    await page.locator('#alert-table').waitFor();
    assert.match(await page.textContent('#ready') ?? '', /ready/);
    const streams = await page.textContent('#streams') ?? '';
    assert.match(streams, /ingest/);
    assert.match(streams, /email/);
    assert.match(await page.textContent('#circuits') ?? '', /ses[\s\S]*closed/);
    assert.match(await page.textContent('#webhook-table') ?? '', /ops-hook[\s\S]*127\.0\.0\.1:9/);
    assert.match(await page.textContent('#alert-table') ?? '', /dead-letters[\s\S]*dead_letter/);
    assert.ok(!(await bodyText()).includes('secret-alert-path'), 'alert destination URLs are not shown');
    await shot('status');
  });

  it('a notification search with history off says so; logging out forgets the key; nothing broke in the page', async () => {
    const off = await startHarness('console-off');
    try {
      const other = await browser.newPage();
      await other.goto(`${off.url}/console#/activity`);
      await other.fill('#api-key', API_KEY);
      await other.click('#login');
      await other.getByText('history is off').waitFor();
      await other.screenshot({ path: new URL('history-off.png', ARTIFACTS).pathname, fullPage: true });
      await other.close();
    } finally {
      await off.stop();
    }
    await page.click('#logout');
    await page.locator('#api-key').waitFor();
    assert.equal(await page.evaluate('sessionStorage.getItem("notify-console-key")'), null);
    // The wrong key's 401 is the one error the browser logs.
    assert.deepEqual(refused.filter((e) => !/401/.test(e)), []);
  });
});
