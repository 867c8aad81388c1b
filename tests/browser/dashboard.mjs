// The dashboard's behaviour, step by step, on replicas A and B of one cluster (and a replica
// that requires a token). Steps share pages: a page open on B stays open (never reloaded)
// while things happen through A, so what it shows arrived through the live event stream.

import { apiJson, jobs, open, stayedOpen } from './lib/pages.mjs';
import { assert, waitFor } from './lib/runner.mjs';

const POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/** Sign in through the token dialog the page shows. */
async function signIn(page, token) {
  const dialog = page.locator('#token-dialog[open]');
  await dialog.waitFor({ timeout: 20_000 });
  await page.getByRole('textbox', { name: 'Token', exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await dialog.waitFor({ state: 'detached', timeout: 20_000 });
}

/** Controls a viewer could act with in the page's main area (forms, buttons, action links). */
async function visibleControls(page) {
  return page.locator('main button:visible, main form:visible, main [data-action]:visible, main select:visible').count();
}

async function rowCount(locator) {
  return locator.count();
}

export const tests = [
  {
    name: 'the dashboard is served at / with a strict Content-Security-Policy',
    async fn({ a }) {
      const r = await fetch(`${a.base}/`);
      assert(r.status === 200, `status ${r.status}`);
      assert(r.headers.get('content-type').startsWith('text/html'), r.headers.get('content-type'));
      const csp = r.headers.get('content-security-policy') || '';
      for (const part of POLICY.split('; ')) assert(csp.includes(part), `CSP ${csp} lacks ${part}`);
      const html = await r.text();
      assert(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html) && !/<style/.test(html), 'inline script or style in the page');
      const js = await fetch(`${a.base}/assets/app.js`);
      assert(js.headers.get('content-type').startsWith('text/javascript'), js.headers.get('content-type'));
    },
  },
  {
    name: 'Cluster view on both replicas lists the two live replicas',
    async fn(ctx) {
      ctx.pageA = await open(ctx, ctx.a, '#/cluster');
      ctx.clusterB = await open(ctx, ctx.b, '#/cluster');
      for (const page of [ctx.pageA, ctx.clusterB]) {
        await page.locator('#instances tr[data-instance="replica-a"]').waitFor({ timeout: 15_000 });
        await page.locator('#instances tr[data-instance="replica-b"]').waitFor({ timeout: 15_000 });
      }
      const heartbeat = ctx.clusterB.locator('#instances tr[data-instance="replica-a"] time').first();
      assert(/UTC/.test(await heartbeat.getAttribute('title')), 'heartbeat time has its UTC instant in a title');
      await ctx.shot(ctx.clusterB, 'cluster');
    },
  },
  {
    name: 'an invalid cron is rejected at the schedule field with the API message',
    async fn(ctx) {
      const page = ctx.pageA;
      await page.goto(`${ctx.a.base}/#/jobs/new`);
      await page.getByLabel('Name', { exact: true }).fill('bad-cron');
      await page.getByLabel('Schedule', { exact: true }).fill('61 * * * *');
      await page.getByLabel('Plugin', { exact: true }).fill('hello');
      await page.getByRole('button', { name: 'Create job' }).click();
      const error = page.locator('#err-schedule');
      await error.waitFor({ state: 'visible', timeout: 20_000 });
      const message = await error.textContent();
      assert(/61|minute|range/i.test(message), `schedule error names the problem: ${message}`);
      assert(await page.locator('#field-schedule').getAttribute('aria-invalid') === 'true', 'schedule input marked invalid');
      assert(await page.locator('#err-name').isHidden(), 'no error on the name field');
      const described = await page.locator('#field-schedule').getAttribute('aria-describedby');
      assert(described.includes('err-schedule'), 'the error describes the input');
      assert(!(await jobs(ctx.a)).some((j) => j.name === 'bad-cron'), 'no job was created');
      await ctx.shot(page, 'job-form-invalid-cron');
    },
  },
  {
    name: 'a job created in the page on A shows its runs live on a page open on B',
    async fn(ctx) {
      const jobsB = await open(ctx, ctx.b, '#/jobs');
      ctx.jobsB = jobsB;
      const page = ctx.pageA;
      await page.getByLabel('Name', { exact: true }).fill('live-2s');
      await page.getByLabel('Schedule', { exact: true }).fill('@every 2s');
      await page.getByLabel('Time zone', { exact: true }).fill('Europe/Paris');
      await page.getByLabel('Input (JSON)').fill('{"name": "dashboard"}');
      await page.getByRole('button', { name: 'Create job' }).click();
      await page.locator('h1#job-h', { hasText: 'live-2s' }).waitFor({ timeout: 20_000 });
      // B's Jobs view shows it without a reload.
      const row = jobsB.locator('tr[data-job="live-2s"]');
      await row.waitFor({ timeout: 20_000 });
      await stayedOpen(jobsB);
      assert((await row.textContent()).includes('every 2 seconds') || (await row.textContent()).includes('@every 2s'), 'schedule shown');
      // Open its detail on B (in-page navigation) and watch runs arrive.
      await row.getByRole('link', { name: 'live-2s' }).click();
      await jobsB.locator('h1#job-h', { hasText: 'live-2s' }).waitFor({ timeout: 20_000 });
      const runs = jobsB.locator('#runs tbody tr[data-status="succeeded"]');
      await waitFor('a first succeeded run on B (scheduled runs must publish run.started/run.finished events)', 20_000, async () => (await rowCount(runs)) >= 1);
      // Open the newest run's logs: runs arriving later must not close them (rows are updated in place).
      const openedId = await runs.first().getAttribute('data-run');
      const logs = jobsB.locator(`#runs tr[data-run="${openedId}"] details`);
      await logs.locator('summary').click();
      const first = await rowCount(runs);
      await waitFor('more runs arriving live on B', 20_000, async () => (await rowCount(runs)) >= first + 2);
      assert(await logs.evaluate((d) => d.open), 'the opened logs stayed open');
      await stayedOpen(jobsB);
      const cells = await runs.first().locator('td').allTextContents();
      assert(cells.some((c) => /\d+(\.\d+)? ?(ms|s)$/.test(c.trim())), `duration and lateness shown: ${cells}`);
      assert(await jobsB.locator('.chart svg circle').count() >= 2, 'chart of the last runs drawn');
      await jobsB.locator('#runs tbody tr').first().locator('details summary').click().catch(() => {});
      await ctx.shot(jobsB, 'job-detail');
    },
  },
  {
    name: 'pausing in the page on A shows paused live on B and stops next ticks',
    async fn(ctx) {
      const page = ctx.pageA;
      await page.getByRole('button', { name: 'Pause live-2s' }).click();
      await ctx.jobsB.locator('#job-summary [data-field="status"]', { hasText: 'paused' }).waitFor({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Resume live-2s' }).waitFor({ timeout: 20_000 });
      await stayedOpen(ctx.jobsB);
      const job = (await jobs(ctx.a)).find((j) => j.name === 'live-2s');
      assert(job.status === 'paused' && job.next_tick_at === null, `paused in the API: ${job.status} ${job.next_tick_at}`);
    },
  },
  {
    name: 'triggering a paused job in the page on B runs one manual tick',
    async fn(ctx) {
      const page = ctx.jobsB;
      const manual = page.locator('#runs tbody tr', { hasText: 'manual' });
      const before = await manual.count();
      await page.getByRole('button', { name: 'Trigger live-2s now' }).click();
      await waitFor('a manual run on B', 20_000, async () => (await manual.count()) > before);
      await waitFor('the manual run on A too', 20_000, async () => (await ctx.pageA.locator('#runs tbody tr', { hasText: 'manual' }).count()) > before);
    },
  },
  {
    name: 'Job detail view shows runs with lateness, duration, attempt, kind, logs, and a chart',
    async fn(ctx) {
      const page = await ctx.context.newPage();
      const job = (await jobs(ctx.b)).find((j) => j.name === 'live-2s');
      await page.goto(`${ctx.b.base}/#/jobs/${job.id}`);
      const rows = page.locator('#runs tbody tr');
      await waitFor('runs listed', 20_000, async () => (await rows.count()) >= 2);
      const headers = await page.locator('#runs thead th').allTextContents();
      for (const h of ['Lateness', 'Duration', 'Attempt', 'Kind', 'Result / error', 'Logs']) assert(headers.includes(h), `column ${h}`);
      assert(await page.locator('.chart svg circle').count() >= 2, 'chart of the last runs drawn');
      await rows.first().locator('details summary').click();
      await ctx.shot(page, 'job-detail');
      await page.close();
    },
  },
  {
    name: 'Jobs view lists schedules in words, zones, owners and last status',
    async fn(ctx) {
      for (const [name, schedule, timezone] of [['nightly-report', '30 2 * * *', 'America/New_York'],
        ['hourly-sync', '0 * * * *', 'Europe/Paris'], ['weekday-digest', '0 9 * * 1-5', 'Asia/Tokyo']]) {
        const r = await apiJson(ctx.b, 'POST', '/jobs', { name, schedule, timezone, plugin: 'hello' });
        assert(r.status === 201, `create ${name}: ${JSON.stringify(r.body)}`);
      }
      const page = await open(ctx, ctx.b, '#/jobs');
      ctx.jobsViewB = page;
      await page.locator('tr[data-job="weekday-digest"]').waitFor({ timeout: 20_000 });
      await waitFor('owners assigned', 20_000, async () => {
        const owners = await page.locator('#jobs [data-field="owner"]').allTextContents();
        return owners.length >= 4 && owners.every((o) => o.startsWith('replica-'));
      });
      const text = await page.locator('tr[data-job="live-2s"]').textContent();
      assert(text.includes('succeeded') && text.includes('paused'), `last status and state: ${text}`);
      await ctx.shot(page, 'jobs');
    },
  },
  {
    name: 'the Jobs table updates rows in place: a focused Pause button survives live updates and pauses',
    async fn(ctx) {
      const page = ctx.jobsViewB;
      const made = await apiJson(ctx.a, 'POST', '/jobs', { name: 'busy-1s', schedule: '@every 1s', plugin: 'hello' });
      assert(made.status === 201, `create busy-1s: ${made.status}`);
      const row = page.locator('tr[data-job="busy-1s"]');
      await row.waitFor({ timeout: 20_000 });
      const button = await row.getByRole('button', { name: 'Pause busy-1s', exact: true }).elementHandle();
      await button.focus();
      const lastRun = row.locator('td[data-label="Last run"]');
      // Runs every second redraw the row's Last run cell; the button stays the same element.
      const seen = new Set([await lastRun.textContent()]);
      await waitFor('three live updates of the busy-1s row', 30_000, async () => {
        seen.add(await lastRun.textContent());
        return seen.size >= 4;
      }, 50);
      assert(await button.evaluate((b) => b.isConnected && document.activeElement === b), 'the Pause button kept its element and the focus');
      await button.click();
      await row.locator('[data-field="status"]', { hasText: 'paused' }).waitFor({ timeout: 20_000 });
      assert(await button.evaluate((b) => b.isConnected && b.textContent === 'Resume'), 'the same button now resumes');
      const job = (await jobs(ctx.b)).find((j) => j.name === 'busy-1s');
      assert(job.status === 'paused', `paused in the API: ${job.status}`);
      page.once('dialog', (d) => d.accept());
      await row.getByRole('button', { name: 'Delete busy-1s', exact: true }).click();
      await row.waitFor({ state: 'detached', timeout: 20_000 });
      await stayedOpen(page);
    },
  },
  {
    name: 'the Jobs view searches and pages on the server: 120 jobs, a page of 100, a search narrows them',
    async fn(ctx) {
      // Named to sort after every other test's job, paused so that none runs.
      const names = Array.from({ length: 120 }, (_, i) => `zz-page-${String(i).padStart(3, '0')}`);
      for (const name of names) {
        const r = await apiJson(ctx.a, 'POST', '/jobs', { name, schedule: '@yearly', plugin: 'hello', paused: true });
        assert(r.status === 201, `create ${name}: ${JSON.stringify(r.body)}`);
      }
      const page = await open(ctx, ctx.a, '#/jobs');
      const rows = page.locator('#jobs tbody tr');
      const summary = page.locator('#jobs-summary');
      await page.getByRole('searchbox', { name: 'Search jobs by name or plugin' }).fill('ZZ-PAGE');
      await summary.filter({ hasText: 'Jobs 1–100 matching “ZZ-PAGE” (more on the next page), 100 paused on this page' }).waitFor({ timeout: 20_000 });
      assert(await rows.count() === 100, `a page holds 100 rows, not ${await rows.count()}`);
      assert(await page.locator('tr[data-job="zz-page-099"]').count() === 1, 'the first page ends at zz-page-099');
      await page.getByRole('button', { name: 'Next page' }).click();
      await summary.filter({ hasText: 'Jobs 101–120 matching “ZZ-PAGE”, 20 paused on this page' }).waitFor({ timeout: 20_000 });
      assert(await rows.count() === 20, `the second page holds 20 rows, not ${await rows.count()}`);
      assert(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'no page after the last');
      await ctx.shot(page, 'jobs-paged');
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.locator('tr[data-job="zz-page-000"]').waitFor({ timeout: 20_000 });
      // A narrower search starts again from its first page; one page needs no pager.
      await page.getByRole('searchbox', { name: 'Search jobs by name or plugin' }).fill('zz-page-11');
      await summary.filter({ hasText: '10 jobs matching “zz-page-11”, 10 paused' }).waitFor({ timeout: 20_000 });
      assert(await page.locator('#jobs-pager').isHidden(), 'no pager for one page');
      await page.getByRole('searchbox', { name: 'Search jobs by name or plugin' }).fill('no such job');
      await page.locator('#jobs-none', { hasText: 'no such job' }).waitFor({ timeout: 20_000 });
      await stayedOpen(page);
      await page.close();
      for (const name of names) {
        const r = await apiJson(ctx.a, 'DELETE', `/jobs/${name}`);
        assert(r.status === 204 || r.status === 200, `delete ${name}: ${r.status}`);
      }
    },
  },
  {
    name: 'Plugins view lists the loaded plugins with digest and size',
    async fn(ctx) {
      const page = ctx.pageA;
      await page.goto(`${ctx.a.base}/#/plugins`);
      const hello = page.locator('tr[data-plugin="hello"]');
      await hello.waitFor({ timeout: 20_000 });
      assert(/KiB|MiB|B/.test(await hello.textContent()), 'size shown');
      assert((await hello.locator('code').getAttribute('title')).length > 20, 'full digest on hover');
      await ctx.shot(page, 'plugins');
    },
  },
  {
    name: 'Settings: an invalid value is rejected at the field, a valid one is saved and reset',
    async fn(ctx) {
      const page = ctx.pageA;
      await page.goto(`${ctx.a.base}/#/settings`);
      await page.getByLabel('Key').fill('runs.retention');
      await page.getByLabel('Value').fill('banana');
      await page.getByRole('button', { name: 'Set', exact: true }).click();
      await page.locator('#err-value').waitFor({ state: 'visible', timeout: 20_000 });
      assert(await page.locator('#setting-value').getAttribute('aria-invalid') === 'true', 'value marked invalid');
      await page.getByLabel('Value').fill('3d');
      await page.getByRole('button', { name: 'Set', exact: true }).click();
      await page.locator('tr[data-setting="runs.retention"] [data-field="value"]', { hasText: '3d' }).waitFor({ timeout: 20_000 });
      const r = await apiJson(ctx.b, 'GET', '/settings/runs.retention');
      assert(r.body.value === '3d', `stored: ${JSON.stringify(r.body)}`);
      await page.getByLabel('Key').fill('scheduler.max_concurrent_runs');
      await page.getByLabel('Value').fill('64');
      await page.getByRole('button', { name: 'Set', exact: true }).click();
      await page.locator('tr[data-setting="scheduler.max_concurrent_runs"]').waitFor({ timeout: 20_000 });
      await ctx.shot(page, 'settings');
      await page.getByRole('button', { name: 'Reset scheduler.max_concurrent_runs to its default' }).click();
      await page.locator('tr[data-setting="scheduler.max_concurrent_runs"]').waitFor({ state: 'detached', timeout: 20_000 });
    },
  },
  {
    name: 'Settings open on replica B follow a setting set and reset through replica A, live',
    async fn(ctx) {
      const page = await open(ctx, ctx.b, '#/settings');
      await page.locator('#settings-body').waitFor({ timeout: 20_000 });
      const setAt = Date.now();
      const set = await apiJson(ctx.a, 'PUT', '/settings/config.greeting', { value: 'hello from A' });
      assert(set.status === 200, `set through A: ${set.status}`);
      const row = page.locator('tr[data-setting="config.greeting"] [data-field="value"]', { hasText: 'hello from A' });
      await row.waitFor({ timeout: 20_000 });
      console.log(`     the page on B showed the setting ${Date.now() - setAt} ms after it was set on A`);
      const reset = await apiJson(ctx.a, 'DELETE', '/settings/config.greeting');
      assert(reset.status === 204, `reset through A: ${reset.status}`);
      await page.locator('tr[data-setting="config.greeting"]').waitFor({ state: 'detached', timeout: 20_000 });
      await stayedOpen(page);
      await page.close();
    },
  },
  {
    name: 'the Jobs view is readable on a phone (no horizontal scrolling)',
    async fn(ctx) {
      const page = await ctx.context.newPage();
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${ctx.b.base}/#/jobs`);
      await page.locator('tr[data-job="live-2s"]').waitFor({ timeout: 20_000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 1, `page is ${overflow}px wider than the phone`);
      await page.screenshot({ path: `${ctx.screenshots}/jobs-phone.png` });
      await page.close();
    },
  },
  {
    name: 'the Cluster view opens with the on-call overview, and it follows a failing job live',
    async fn(ctx) {
      const page = await open(ctx, ctx.b, '#/cluster');
      const sections = ['#overview-chart', '#overview-lateness', '#overview-failing', '#overview-paused', '#overview-stale', '#overview-alerts'];
      for (const s of sections) await page.locator(s).waitFor({ timeout: 15_000 });
      await page.locator('#instances').waitFor({ timeout: 15_000 });
      assert(await page.evaluate(() => Boolean(document.querySelector('#overview').compareDocumentPosition(document.querySelector('#instances'))
        & Node.DOCUMENT_POSITION_FOLLOWING)), 'the overview comes before the replicas');
      await waitFor('lateness measured from the jobs that ran', 20_000, async () => Number(await page.locator('#overview-lateness').getAttribute('data-samples')) > 0);
      assert((await page.locator('#overview-lateness [data-field="p99"]').textContent()) !== '—', 'a p99 is shown');
      const failedBefore = Number(await page.locator('#overview-chart').getAttribute('data-failed'));
      assert(await page.locator('#overview-failing li[data-job="fails-thrice"]').count() === 0, 'not failing before it exists');

      // Alerts go to a closed port: their deliveries fail.
      const hook = await apiJson(ctx.a, 'PUT', '/settings/alerts.webhooks', { value: [{ url: 'http://127.0.0.1:9/hook' }] });
      assert(hook.status === 200, `webhook set: ${JSON.stringify(hook.body)}`);
      const made = await apiJson(ctx.a, 'POST', '/jobs', {
        name: 'fails-thrice', schedule: '@every 2s', plugin: 'misbehave', input: { do: 'panic' },
        retry: { attempts: 3, backoff: '200ms', max_backoff: '400ms' }, pause_after_failures: 1, stale_after: '1s',
      });
      assert(made.status === 201, `job created: ${JSON.stringify(made.body)}`);
      ctx.failingJob = made.body;

      const item = (section) => page.locator(`${section} li[data-job="fails-thrice"]`);
      await item('#overview-failing').waitFor({ timeout: 30_000 });
      assert(/attempt 3/.test(await item('#overview-failing').textContent()), 'the last attempt is named');
      await item('#overview-paused').waitFor({ timeout: 30_000 });
      assert(/after 1 failed tick/.test(await item('#overview-paused').textContent()), 'the paused job names its threshold');
      await item('#overview-stale').waitFor({ timeout: 30_000 });
      await waitFor('the failed attempts counted in the chart', 20_000, async () => Number(await page.locator('#overview-chart').getAttribute('data-failed')) >= failedBefore + 3);
      await waitFor('failing alert deliveries with their error', 40_000, async () => Number(await page.locator('#overview-alerts').getAttribute('data-count')) >= 1
        && /127\.0\.0\.1/.test(await page.locator('#overview-alerts [data-field="latest-error"]').textContent()));
      await stayedOpen(page);
      await ctx.shot(page, 'cluster-overview');
      const cleared = await apiJson(ctx.a, 'DELETE', '/settings/alerts.webhooks');
      assert(cleared.status === 200 || cleared.status === 204, `webhook removed: ${cleared.status}`);
      await page.close();
    },
  },
  {
    name: 'Job detail groups a tick\'s attempts under it and shows the retry policy, why it is paused and that it is stale',
    async fn(ctx) {
      const job = ctx.failingJob;
      assert(job, 'the failing job of the previous step');
      const page = await open(ctx, ctx.b, `#/jobs/${job.id}`);
      const tick = page.locator('#runs tbody tr[data-attempts="3"]').first();
      await tick.waitFor({ timeout: 20_000 });
      const at = await tick.getAttribute('data-tick');
      assert(await page.locator(`#runs tbody tr[data-tick="${at}"]`).count() === 1, 'one row for the tick');
      const attempts = tick.locator('ol.attempts li');
      assert(await attempts.count() === 3, 'its three attempts listed under it');
      const numbers = await attempts.evaluateAll((lis) => lis.map((li) => `${li.dataset.attempt}:${li.dataset.status}`));
      assert(numbers.join(' ') === '1:failed 2:failed 3:failed', `attempts in order: ${numbers}`);
      assert(await tick.getAttribute('data-status') === 'failed', 'the tick ends with its last attempt');
      const runs = await apiJson(ctx.b, 'GET', `/jobs/${job.id}/runs?limit=100`);
      const ticks = new Set(runs.body.items.filter((r) => r.status !== 'missed' && r.status !== 'skipped').map((r) => r.scheduled_at));
      assert(await page.locator('#runs tbody tr').count() === ticks.size, `one row per tick (${ticks.size})`);
      assert(runs.body.items.length > ticks.size, 'more attempts than ticks');

      const summary = page.locator('#job-summary');
      await summary.locator('[data-field="paused-reason"][data-reason="failures"]').waitFor({ timeout: 20_000 });
      assert(/after 1 consecutive failed tick/.test(await summary.locator('[data-field="paused-reason"]').textContent()), 'why it is paused');
      await summary.locator('[data-field="stale"]').waitFor({ timeout: 20_000 });
      assert((await summary.locator('[data-field="stale"]').textContent()) === 'stale', 'stale badge');
      assert(/3 attempts, backoff 200ms/.test(await summary.locator('[data-field="retry"]').textContent()), 'retry policy');
      assert((await summary.locator('[data-field="last-success"]').textContent()).trim() === '—', 'never succeeded');
      await tick.scrollIntoViewIfNeeded();
      await ctx.shot(page, 'job-detail-attempts');

      const list = await open(ctx, ctx.b, '#/jobs');
      const row = list.locator('tr[data-job="fails-thrice"]');
      await row.locator('[data-field="stale"]').waitFor({ timeout: 20_000 });
      assert(await row.locator('[data-field="paused-reason"]').textContent() === 'after failures', 'paused-by-failure marker');
      assert(await list.locator('tr[data-job="live-2s"] [data-field="stale"]').count() === 0, 'no stale badge on a job without stale_after');
      const gone = await apiJson(ctx.a, 'DELETE', `/jobs/${job.id}`);
      assert(gone.status === 204, `deleted: ${gone.status}`);
      await list.close();
      await page.close();
    },
  },
  {
    name: 'killing replica A: it leaves the Cluster view on B and its jobs change owner',
    async fn(ctx) {
      for (let i = 1; i <= 4; i += 1) {
        await apiJson(ctx.b, 'POST', '/jobs', { name: `failover-${i}`, schedule: '@every 2s', plugin: 'hello' });
      }
      const ownedByA = await waitFor('some job owned by replica-a', 30_000, async () => {
        const owned = (await jobs(ctx.b)).filter((j) => j.owner === 'replica-a').map((j) => j.name);
        return owned.length ? owned : null;
      }, 250);
      const cluster = ctx.clusterB;
      await cluster.locator('#instances tr[data-instance="replica-a"]').waitFor({ timeout: 15_000 });
      const killedAt = Date.now();
      ctx.a.kill('SIGKILL');
      await cluster.locator('#instances tr[data-instance="replica-a"]').waitFor({ state: 'detached', timeout: 30_000 });
      const gone = Date.now() - killedAt;
      console.log(`     replica-a left B's Cluster view ${gone} ms after SIGKILL (dead-after 5s)`);
      await stayedOpen(cluster);
      const jobsPage = ctx.jobsViewB;
      for (const name of ownedByA) {
        await jobsPage.locator(`tr[data-job="${name}"] [data-field="owner"]`, { hasText: 'replica-b' }).waitFor({ timeout: 30_000 });
      }
      console.log(`     ${ownedByA.length} jobs of replica-a shown owned by replica-b ${Date.now() - killedAt} ms after SIGKILL`);
      await stayedOpen(jobsPage);
      await ctx.shot(cluster, 'cluster-after-failover');
    },
  },
  {
    name: 'a replica that requires a token: the page asks for it, refuses a wrong one, works with the right one',
    async fn(ctx) {
      const page = await ctx.context.newPage();
      await page.goto(`${ctx.secured.base}/#/jobs`);
      const dialog = page.locator('#token-dialog[open]');
      await dialog.waitFor({ timeout: 20_000 });
      await ctx.shot(page, 'token-prompt');
      await page.getByRole('textbox', { name: 'Token' }).fill('not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#token-error', { hasText: 'refused' }).waitFor({ state: 'visible', timeout: 20_000 });
      await page.getByRole('textbox', { name: 'Token' }).fill(ctx.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await dialog.waitFor({ state: 'detached', timeout: 20_000 });
      await page.locator('#jobs-summary', { hasText: '0 jobs' }).waitFor({ timeout: 20_000 });
      await page.locator('#live[data-state="live"]').waitFor({ timeout: 20_000 });
      // The stream carries events to the signed-in page.
      await apiJson(ctx.secured, 'POST', '/jobs', { name: 'secured-job', schedule: '@hourly', plugin: 'hello' }, ctx.token);
      await page.locator('tr[data-job="secured-job"]').waitFor({ timeout: 20_000 });
      await page.close();
    },
  },
  {
    name: 'a read token sees the jobs but no action control, and a forced action is refused',
    async fn(ctx) {
      const s = ctx.secured;
      const made = await apiJson(s, 'POST', '/tokens', { name: 'viewer', role: 'read' }, ctx.token);
      assert(made.status === 201 && /^wcr_/.test(made.body.token || ''), `token created: ${made.status} ${JSON.stringify(made.body)}`);
      const set = await apiJson(s, 'PUT', '/settings/metrics.token', { value: 'metrics-secret-for-the-test' }, ctx.token);
      assert(set.status === 200, `metrics.token set: ${set.status} ${JSON.stringify(set.body)}`);
      const job = (await apiJson(s, 'GET', '/jobs?limit=500', undefined, ctx.token)).body.items.find((j) => j.name === 'secured-job');

      const page = await ctx.context.newPage();
      await page.goto(`${s.base}/#/jobs`);
      await signIn(page, made.body.token);
      await page.locator('tr[data-job="secured-job"]').waitFor({ timeout: 20_000 });
      await page.locator('#who', { hasText: 'viewer · read' }).waitFor({ timeout: 20_000 });
      await page.locator('#role-notice', { hasText: 'read role' }).waitFor({ state: 'visible', timeout: 20_000 });
      assert(await visibleControls(page) === 0, `no action control in the Jobs view (${await visibleControls(page)} shown)`);
      await ctx.shot(page, 'jobs-read-only');

      await page.goto(`${s.base}/#/jobs/${job.id}`);
      await page.locator('#job-summary [data-field="status"]', { hasText: 'active' }).waitFor({ timeout: 20_000 });
      assert(await visibleControls(page) === 0, 'no action control in the job view');

      await page.goto(`${s.base}/#/jobs/new`);
      await page.locator('main .read-only-note', { hasText: 'read role' }).waitFor({ state: 'visible', timeout: 20_000 });
      assert(await visibleControls(page) === 0, 'no job form for a read token');

      await page.goto(`${s.base}/#/settings`);
      await page.locator('tr[data-setting="metrics.token"] [data-field="value"]', { hasText: '********' }).waitFor({ timeout: 20_000 });
      await page.locator('#tokens-section .read-only-note').waitFor({ state: 'visible', timeout: 20_000 });
      assert(await page.locator('#tokens').count() === 0, 'a read token is not shown the tokens');
      assert(await visibleControls(page) === 0, 'no action control in the Settings view');
      assert(!(await page.content()).includes('metrics-secret-for-the-test'), 'the metrics token is masked');
      await ctx.shot(page, 'settings-read-only');

      // The API refuses what a read token tries, and the page says so even when forced to try.
      const direct = await apiJson(s, 'POST', `/jobs/${job.id}/pause`, undefined, made.body.token);
      assert(direct.status === 403 && direct.body.error.code === 'forbidden', `direct pause: ${direct.status} ${JSON.stringify(direct.body)}`);
      await page.goto(`${s.base}/#/jobs/${job.id}`);
      await page.locator('#job-summary [data-field="status"]', { hasText: 'active' }).waitFor({ timeout: 20_000 });
      // Forced: un-hide and enable the Pause button, and click it, in one go.
      await page.evaluate(() => {
        document.body.classList.remove('read-only');
        const pause = document.querySelector('button[aria-label="Pause secured-job"]');
        pause.disabled = false;
        pause.click();
      });
      await page.locator('#banner', { hasText: 'read role' }).waitFor({ state: 'visible', timeout: 20_000 });
      await waitFor('the page back in read-only mode', 20_000, () => page.evaluate(() => document.body.classList.contains('read-only')));
      await page.locator('#role-notice', { hasText: 'Refused' }).waitFor({ state: 'visible', timeout: 20_000 });
      const after = await apiJson(s, 'GET', `/jobs/${job.id}`, undefined, ctx.token);
      assert(after.body.status === 'active', `the job stayed active: ${after.body.status}`);
      await page.close();
    },
  },
  {
    name: 'an admin creates a token in Settings (secret shown once); revoking it makes the page using it ask again',
    async fn(ctx) {
      const s = ctx.secured;
      // A job every 2 s keeps the Jobs view of the page that uses the new token busy.
      const busy = await apiJson(s, 'POST', '/jobs', { name: 'secured-2s', schedule: '@every 2s', plugin: 'hello' }, ctx.token);
      assert(busy.status === 201, `create secured-2s: ${busy.status}`);
      const admin = await ctx.context.newPage();
      await admin.goto(`${s.base}/#/settings`);
      await signIn(admin, ctx.token);
      await admin.locator('#who', { hasText: 'bootstrap · admin' }).waitFor({ timeout: 20_000 });
      await admin.locator('tr[data-token="viewer"]', { hasText: 'read' }).waitFor({ timeout: 20_000 });

      const name = admin.getByLabel('Name', { exact: true });
      await name.fill('not a name!');
      await admin.getByRole('button', { name: 'Create token', exact: true }).click();
      const nameError = admin.locator('#err-new-token-name');
      await nameError.waitFor({ state: 'visible', timeout: 20_000 });
      assert(await name.getAttribute('aria-invalid') === 'true', 'name marked invalid');
      assert((await nameError.textContent()).length > 5, 'the API message is shown at the name');

      await name.fill('ci-robot');
      await admin.getByLabel('Role', { exact: true }).selectOption('admin');
      await admin.getByRole('button', { name: 'Create token', exact: true }).click();
      const secretInput = admin.locator('#token-secret-value');
      await secretInput.waitFor({ state: 'visible', timeout: 20_000 });
      assert(await nameError.isHidden(), 'the old error is gone');
      const secret = await secretInput.inputValue();
      assert(/^wcr_/.test(secret), `secret shown: ${secret.slice(0, 4)}…`);
      assert(/only time it is shown/.test(await admin.locator('#token-secret').textContent()), 'a warning that it is shown once');
      await admin.getByRole('button', { name: 'Copy', exact: true }).waitFor({ timeout: 5_000 });
      const row = admin.locator('tr[data-token="ci-robot"]');
      await row.waitFor({ timeout: 20_000 });
      const rowText = await row.textContent();
      assert(rowText.includes('admin') && rowText.includes('bootstrap'), `role and creator listed: ${rowText}`);
      await ctx.shot(admin, 'settings-tokens');

      // A second token of that name is refused at the field; the secret is not shown again.
      await name.fill('ci-robot');
      await admin.getByRole('button', { name: 'Create token', exact: true }).click();
      await nameError.waitFor({ state: 'visible', timeout: 20_000 });
      assert(await admin.locator('#token-secret').isHidden(), 'the secret is hidden');
      assert(!(await admin.content()).includes(secret), 'the secret is no longer in the page');
      const listed = await apiJson(s, 'GET', '/tokens', undefined, ctx.token);
      assert(!JSON.stringify(listed.body).includes(secret), 'the API never lists a secret');

      const user = await ctx.context.newPage();
      await user.goto(`${s.base}/#/jobs`);
      await signIn(user, secret);
      await user.locator('#who', { hasText: 'ci-robot · admin' }).waitFor({ timeout: 20_000 });
      await user.locator('tr[data-job="secured-2s"]').waitFor({ timeout: 20_000 });
      await user.locator('#live[data-state="live"]').waitFor({ timeout: 20_000 });
      await user.evaluate(() => { window.__stayedOpen = true; });
      assert(await user.getByRole('button', { name: 'Pause secured-2s', exact: true }).isVisible(), 'an admin token acts');

      admin.once('dialog', (d) => d.accept());
      await admin.getByRole('button', { name: 'Revoke ci-robot', exact: true }).click();
      await row.waitFor({ state: 'detached', timeout: 20_000 });
      const revokedAt = Date.now();
      await user.locator('#token-dialog[open]').waitFor({ timeout: 20_000 });
      await user.locator('#token-error', { hasText: 'refused' }).waitFor({ state: 'visible', timeout: 5_000 });
      await user.locator('#who').waitFor({ state: 'hidden', timeout: 5_000 });
      console.log(`     the page using the revoked token asked again ${Date.now() - revokedAt} ms after the revocation`);
      await stayedOpen(user);
      await ctx.shot(user, 'token-revoked');
      // The bootstrap token works again in the same page.
      await signIn(user, ctx.token);
      await user.locator('#who', { hasText: 'bootstrap · admin' }).waitFor({ timeout: 20_000 });
      await user.close();
      await admin.close();
    },
  },
];

/** The last step, after every other (of every file): the pages met no policy violation and no
 * script error. */
export const closing = {
  name: 'no Content-Security-Policy violation or script error on any page',
  async fn(ctx) {
    assert(ctx.problems.length === 0, ctx.problems.join('\n'));
  },
};
