// receiver_browser.mjs - driven by receiver_browser.sh: a person's visit to
// the dashboard in headless Chromium.  Logs in, sees the alert in the queue,
// opens it, acknowledges it, downloads the JSON export, opens the incident
// report, logs out, and checks that the pages then redirect to the login.
// Then an admin opens the staff page and disables another user's login
// (the receiver_browser.sh checks the database afterwards).
// argv: URL ALERT_ID USER PASSWORD SCREENSHOT_DIR ADMIN ADMIN_PASSWORD OTHER_USER
import { chromium } from 'playwright-core';

const [url, alertId, user, password, shots, admin, adminPassword, other] = process.argv.slice(2);
const fail = (msg) => { console.log('FAIL: ' + msg); process.exit(1); };
const ok = (msg) => console.log('ok: ' + msg);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // The test CA is not in the browser's store; the TLS itself was checked
  // with curl --cacert in the other receiver tests.
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true,
    viewport: { width: 1360, height: 820 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  // Not logged in: the dashboard sends us to the login page.
  await page.goto(url + '/');
  if (!page.url().endsWith('/login')) fail('the dashboard did not redirect to /login: ' + page.url());
  await page.fill('#user', user);
  await page.fill('#password', 'not the password');
  await page.click('#submit');
  await page.waitForSelector('#error:not([hidden])');
  ok('wrong password shows: ' + await page.textContent('#error'));
  errors.length = 0; // the console reports that 401 as a failed load
  await page.fill('#password', password);
  await page.click('#submit');
  await page.waitForURL(url + '/');
  ok('logged in');

  // The alert is in the queue.
  const row = page.locator('#queue tbody tr', { hasText: 'ASSET-0001' });
  await row.first().waitFor();
  if (await row.count() !== 1) fail('expected one queue row');
  const text = await row.first().textContent();
  for (const s of ['csam', 'pdq', 'Confirmed', 'New']) {
    if (!text.includes(s)) fail('queue row lacks ' + s + ': ' + text);
  }
  await page.screenshot({ path: shots + '/dashboard-queue.png', fullPage: true });
  ok('alert in the queue');

  // Detail and acknowledge.
  await row.first().click();
  await page.waitForSelector('#view-detail:not([hidden])');
  if ((await page.textContent('#d-id')) !== alertId) fail('detail shows another alert');
  const fieldsText = await page.textContent('#d-fields');
  for (const s of ['file_sha256', 'audit_head', 'Yes when a second, independent check agreed']) {
    if (!fieldsText.includes(s)) fail('detail lacks ' + s);
  }
  await page.click('button[data-step="acknowledge"]');
  await page.waitForFunction(() => document.getElementById('d-status').textContent.startsWith('Acknowledged'));
  const history = await page.textContent('#d-actions');
  if (!history.includes(user + ' acknowledge')) fail('history lacks the acknowledgement: ' + history);
  await page.fill('#note-text', 'Safeguarding lead informed by phone.');
  await page.click('#note-form button');
  await page.waitForFunction(() => document.getElementById('d-notes').textContent.includes('Safeguarding lead'));
  await page.screenshot({ path: shots + '/dashboard-detail.png', fullPage: true });
  ok('acknowledged, note added');

  // Export: the JSON download and the incident report.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const file = await download.path();
  const { readFileSync } = await import('node:fs');
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  if (exported.alert_id !== alertId || exported.status !== 'acknowledged') fail('export content');
  const [report] = await Promise.all([ctx.waitForEvent('page'), page.click('#export-report')]);
  await report.waitForLoadState();
  const body = await report.textContent('body');
  for (const s of ['Incident report', 'ASSET-0001', 'Action taken', 'Safeguarding lead informed']) {
    if (!body.includes(s)) fail('report lacks ' + s);
  }
  await report.screenshot({ path: shots + '/incident-report.png', fullPage: true });
  await report.close();
  ok('exported as JSON and as an incident report');

  // Fleet view renders.
  await page.click('button[data-view="fleet"]');
  await page.locator('#fleet tbody tr', { hasText: 'ASSET-0001' }).waitFor();
  await page.screenshot({ path: shots + '/dashboard-fleet.png', fullPage: true });
  ok('fleet view');

  // Log out: back to the login page, and the dashboard is closed again.
  await page.click('#logout');
  await page.waitForURL(url + '/login');
  await page.goto(url + '/');
  if (!page.url().endsWith('/login')) fail('dashboard reachable after logout');
  const api = await page.request.get(url + '/api/alerts');
  if (api.status() !== 401) fail('API after logout: ' + api.status());
  ok('logged out');

  // An admin disables another user's login from the staff page.
  await page.goto(url + '/login');
  await page.fill('#user', admin);
  await page.fill('#password', adminPassword);
  await page.click('#submit');
  await page.waitForURL(url + '/');
  await page.click('#nav-activity');
  const otherRow = page.locator('#staff tbody tr', { hasText: other });
  await otherRow.first().waitFor();
  if (await page.locator('#staff tbody tr', { hasText: admin }).locator('button').count() !== 0) {
    fail('the admin is offered to disable their own login');
  }
  page.once('dialog', (d) => d.accept());
  await otherRow.locator('button[data-verb="disable"]').click();
  await otherRow.locator('button[data-verb="enable"]').waitFor();
  if (!(await otherRow.textContent()).includes('Disabled')) fail('the row does not say Disabled');
  await page.locator('#activity tbody tr', { hasText: 'user disable' }).first().waitFor();
  await page.screenshot({ path: shots + '/dashboard-staff.png', fullPage: true });
  ok('admin disabled ' + other + ' from the staff page');
  if (errors.length) fail('browser errors: ' + errors.join(' | '));
} finally {
  await browser.close();
}
console.log('PASS');
