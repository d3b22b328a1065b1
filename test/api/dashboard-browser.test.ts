/**
 * The dashboard in a real browser (Debian's headless Chromium driven by playwright-core) against a
 * cluster under the packaged nats.conf (so the api user's permission to hear notifications is the
 * real one): an admin logs in from the page, sees the hosts' heat map, boots a server from the form
 * and watches it turn ACTIVE with the live feed announcing it, stops it (SHUTOFF) and sees the heat map
 * follow, disables and enables a host; then a member logs in and sees neither the hosts page nor
 * the admin's server. Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import t from 'tap';
import { startCluster } from '../../cluster/cluster.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';
import { ADMIN_PASSWORD, Http, TEST_PASSWORD_HASH } from '../harness/api-http.js';
import { ensureDashboardBuilt } from '../harness/dashboard.js';
import { until, waitFor } from '../harness/poll.js';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium package (apt-get install chromium)`);
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
mkdirSync(ARTIFACTS, { recursive: true });
const WAIT = { timeout: 30_000 };

ensureDashboardBuilt();
const pg = await startPostgres();
t.teardown(() => pg.stop());
const cluster = await startCluster({
  databaseUrl: pg.url, hosts: 2, logLevel: 'error', api: { adminPassword: ADMIN_PASSWORD, passwordHash: TEST_PASSWORD_HASH },
  compute: { reportIntervalMs: 300, heartbeatIntervalMs: 200 },
});
t.teardown(() => cluster.stop());
await cluster.waitForHosts(2);
const http = new Http(cluster.apiUrl!);
const admin = await http.token('admin', ADMIN_PASSWORD, 'admin');
const alice = await http.member(admin, 'acme', 'alice', 'member');
// The conductor records hosts' compute nodes on its next flush (≤ 1 s).
await waitFor('both hosts recorded', async () => (await cluster.client.listHosts()).length === 2);
const hosts = (await cluster.client.listHosts()).map((h) => h.host).sort();

// A fresh profile each run; the flags keep Chromium (as root, in this network) from reaching out.
const profile = mkdtempSync(join(tmpdir(), 'novact-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
t.teardown(async () => {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
});
const page = browser.pages()[0] ?? await browser.newPage();
page.setDefaultTimeout(WAIT.timeout);
// Script errors and refused resources (a CSP violation logs one) fail the test.
const problems: string[] = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`); });
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function logIn(p: Page, user: string, password: string, project: string) {
  await p.goto(`${cluster.apiUrl}/dashboard`);
  await p.fill('input[name=user]', user);
  await p.fill('input[name=password]', password);
  await p.fill('input[name=project]', project);
  await p.click('form.login button[type=submit]');
  await p.locator('[data-testid=who]').waitFor();
  // Acting before the live feed is connected could miss the events the steps wait for.
  await p.locator('[data-testid=feed-state][data-up=true]').waitFor();
}

type Cell = { host: string; vcpus: number; running: number };
const cells = (p: Page) => p.$$eval('.heatmap .cell', (els) => els.map((e) => {
  const d = (e as HTMLElement).dataset;
  return { host: d.host!, vcpus: Number(d.vcpusUsed), running: Number(d.running) };
}));
/** Waits until the heat map satisfies `ok` (the page polls the APIs and refreshes after events). */
async function heatMapUntil(p: Page, ok: (cs: Cell[]) => boolean): Promise<Cell[]> {
  let last: Cell[] = [];
  if (await until(async () => ok(last = await cells(p)), WAIT.timeout, 100)) return last;
  throw new Error(`heat map never matched: ${JSON.stringify(last)}`);
}

t.test('an admin logs in, boots a server, watches it go ACTIVE live, stops it, sees the heat map change', async (t) => {
  await logIn(page, 'admin', ADMIN_PASSWORD, 'admin');
  t.match(await page.textContent('[data-testid=who]'), /admin @ admin \(admin\)/);
  const before = await heatMapUntil(page, (cs) => cs.length === 2);
  t.same(before.map((c) => c.host).sort(), hosts, 'one cell per host');
  await shot('01-overview');

  await page.click('a[data-nav=instances]');
  await page.fill('form.boot input[name=name]', 'web-1');
  await page.selectOption('form.boot select[name=flavor]', '1');
  await page.click('form.boot button[type=submit]');
  const row = page.locator('tr[data-server-name=web-1]');
  await row.waitFor();
  await page.locator('tr[data-server-name=web-1][data-status=ACTIVE]').waitFor();
  await page.locator('.feed li[data-event="create.end"]').first().waitFor();
  t.pass('web-1 turned ACTIVE and the feed announced create.end');
  const id = (await row.getAttribute('data-server-id'))!;
  await shot('02-instances-active');

  const flavor = (await http.get('/v2.1/flavors/1', { token: admin })).body.flavor;
  const host = (await http.get(`/v2.1/servers/${id}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host'] as string;
  const at = (cs: Cell[]) => cs.find((c) => c.host === host)!;
  await page.click('a[data-nav=overview]');
  const booted = await heatMapUntil(page, (cs) => at(cs)?.vcpus === at(before).vcpus + flavor.vcpus && at(cs).running === at(before).running + 1);
  t.equal(at(booted).vcpus, at(before).vcpus + flavor.vcpus, `${host}'s cell counts the new server's vCPUs`);
  t.match(await page.textContent('[data-testid=states]'), /ACTIVE/);
  await shot('03-overview-booted');

  await page.goto(`${cluster.apiUrl}/dashboard#/instances/${id}`);
  await page.click('button[data-action=stop]');
  await page.locator(`section[data-server-id="${id}"][data-status=SHUTOFF]`).waitFor();
  await page.locator('.feed li[data-event="power_off.end"]').first().waitFor();
  await page.locator('tr[data-action=stop]').waitFor();
  t.pass('stopped: SHUTOFF, the feed said power_off.end, and the action is listed');
  await shot('04-instance-stopped');

  await page.click('a[data-nav=overview]');
  const stopped = await heatMapUntil(page, (cs) => at(cs)?.running === at(before).running);
  t.equal(at(stopped).vcpus, at(booted).vcpus, 'a stopped server keeps its vCPUs (as in Nova)');
  t.equal(at(stopped).running, at(booted).running - 1, 'but no longer runs');
  await shot('05-overview-stopped');

  await page.goto(`${cluster.apiUrl}/dashboard#/instances/${id}`);
  await page.locator('tr[data-action=stop] button').click();
  await page.locator('tr[data-action=stop] li').first().waitFor();
  t.pass("the stop action's events are shown");
  await page.click('button[data-action=start]');
  await page.locator(`section[data-server-id="${id}"][data-status=ACTIVE]`).waitFor();
  await page.click('button[data-action=reboot]');
  await page.locator('.feed li[data-event="reboot.end"]').first().waitFor();
  await page.locator(`section[data-server-id="${id}"][data-status=ACTIVE]`).waitFor();
  t.pass('started and rebooted from the page');
});

t.test('an admin disables and enables a host from the hosts page', async (t) => {
  await page.click('a[data-nav=hosts]');
  const host = hosts[0]!;
  const row = page.locator(`tr[data-host="${host}"]`);
  await row.locator('button[data-action=disable]').click();
  await page.locator(`tr[data-host="${host}"][data-status=disabled]`).waitFor();
  const svc = (await http.get(`/v2.1/os-services?host=${host}`, { token: admin })).body.services[0];
  t.equal(svc.status, 'disabled', 'the API agrees');
  await shot('06-hosts-disabled');
  await row.locator('button[data-action=enable]').click();
  await page.locator(`tr[data-host="${host}"][data-status=enabled]`).waitFor();
  t.equal((await http.get(`/v2.1/os-services?host=${host}`, { token: admin })).body.services[0].status, 'enabled');

  await page.click('a[data-nav=overview]');
  await page.click(`.heatmap .cell[data-host="${host}"]`);
  await page.locator('h2', { hasText: `Host ${host}` }).waitFor();
  t.match(await page.textContent('.page'), /vCPU/, "the heat map's cell opens the host's detail with its usage");
});

t.test("a member sees no hosts page and no other project's servers", async (t) => {
  await page.click('header button.link');
  await page.locator('form.login').waitFor();
  await logIn(page, 'alice', alice.password, 'acme');
  t.equal(await page.locator('a[data-nav=hosts]').count(), 0, 'no hosts link');
  t.equal(await page.locator('.heatmap').count(), 0, 'no heat map');
  await page.goto(`${cluster.apiUrl}/dashboard#/hosts`);
  await page.locator('a[data-nav=overview].on').waitFor();
  t.pass('#/hosts shows the overview instead');

  await page.click('a[data-nav=instances]');
  await page.fill('form.boot input[name=name]', 'alice-1');
  await page.click('form.boot button[type=submit]');
  await page.locator('tr[data-server-name=alice-1][data-status=ACTIVE]').waitFor();
  // Her list has loaded (her own server is in it) and holds nothing of the admin's project.
  t.equal(await page.locator('tr[data-server-name=web-1]').count(), 0, "the admin's server is not listed");
  t.notOk((await page.textContent('.feed'))!.includes('web-1'), 'nor in her feed');
  await shot('07-member-instances');
});

t.test('an admin deletes the server from its page', async (t) => {
  await page.click('header button.link');
  await logIn(page, 'admin', ADMIN_PASSWORD, 'admin');
  await page.click('a[data-nav=instances]');
  await page.click('tr[data-server-name=web-1] a');
  await page.click('button[data-action=delete]');
  await page.locator('.feed li[data-event="delete.end"]').first().waitFor();
  await page.click('a[data-nav=instances]');
  await page.locator('tr[data-server-name=web-1]').waitFor({ state: 'detached' });
  t.equal((await http.get('/v2.1/servers?name=web-1', { token: admin })).body.servers.length, 0, 'the API agrees');
  t.same(problems, [], 'no script errors or refused resources');
});
