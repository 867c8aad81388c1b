// The dashboard of a replica that watches a jobs file (replica-declared, started with
// --jobs-file on a database of its own): jobs from the file are marked and their spec is
// read-only; the file's status on the Cluster view follows a refused and a fixed version live;
// the Audit view lists who changed what, before → after, filtered and paged.

import fs from 'node:fs';
import path from 'node:path';

import { apiJson, jobs, open, stayedOpen } from './lib/pages.mjs';
import { assert, waitFor } from './lib/runner.mjs';

/** The jobs file the replica starts with (main.mjs writes it). Entry #2 starts on line 6. */
export const JOBS_FILE = `# The jobs of the browser tests' declared cluster.
- name: declared-report
  schedule: 0 3 * * *
  timezone: Europe/Berlin
  plugin: hello
- name: declared-hourly
  schedule: '@hourly'
  plugin: hello
`;

/** Entry #2's schedule is not a cron: the whole version is refused. */
const INVALID = JOBS_FILE.replace("schedule: '@hourly'", "schedule: '61 * * * *'");
/** A valid version that moves declared-report to 4 o'clock. */
const FIXED = JOBS_FILE.replace('schedule: 0 3 * * *', 'schedule: 0 4 * * *');

/** Replace the file as an editor or a ConfigMap update does: a new file renamed over it. */
function save(file, text) {
  const next = path.join(path.dirname(file), `.jobs.yaml.${process.pid}.tmp`);
  fs.writeFileSync(next, text);
  fs.renameSync(next, file);
}

async function job(replica, name) {
  return (await jobs(replica)).find((j) => j.name === name);
}

export const tests = [
  {
    name: 'a job from the jobs file is marked in the list and detail; its spec is read-only, delete is not offered, pause works',
    async fn(ctx) {
      const r = ctx.declared;
      const declared = await waitFor('the leader creates the jobs of the file', 20_000, () => job(r, 'declared-report'));
      assert(declared.managed_by === ctx.jobsFile, `managed by the file: ${declared.managed_by}`);
      const made = await apiJson(r, 'POST', '/jobs', { name: 'api-made', schedule: '@hourly', plugin: 'hello' });
      assert(made.status === 201, `create api-made: ${made.status}`);

      const page = await open(ctx, r, '#/jobs');
      ctx.declaredPage = page;
      const row = page.locator('tr[data-job="declared-report"]');
      await row.locator('[data-field="managed"]').waitFor({ timeout: 20_000 });
      assert(await row.getAttribute('data-managed') === 'true', 'the row is marked managed');
      const title = await row.locator('[data-field="managed"]').getAttribute('title');
      assert(title.includes(ctx.jobsFile), `the mark names the file: ${title}`);
      assert(await row.locator('button[data-action="delete"]').isHidden(), 'no Delete for a managed job');
      assert(await row.getByRole('button', { name: 'Pause declared-report', exact: true }).isVisible(), 'Pause offered');
      assert(await row.getByRole('button', { name: 'Trigger declared-report now', exact: true }).isVisible(), 'Trigger offered');
      const other = page.locator('tr[data-job="api-made"]');
      await other.waitFor({ timeout: 20_000 });
      assert(await other.locator('[data-field="managed"]').count() === 0, 'a job made through the API is not marked');
      assert(await other.getByRole('button', { name: 'Delete api-made', exact: true }).isVisible(), 'Delete offered for a job made through the API');
      await ctx.shot(page, 'jobs-managed');

      await row.getByRole('link', { name: 'declared-report' }).click();
      const note = page.locator('#managed-note');
      await note.waitFor({ timeout: 20_000 });
      const text = await note.textContent();
      assert(text.includes(ctx.jobsFile) && /read-only/.test(text) && /edit the file/.test(text), `why the spec is read-only: ${text}`);
      assert(/pause, resume and trigger stay available/i.test(text), `what stays available: ${text}`);
      assert(await page.locator('#job-summary [data-field="managed-by"]').textContent() === ctx.jobsFile, 'Managed by the file in the summary');
      assert(await page.locator('main .title-row button[data-action="delete"]').isHidden(), 'no Delete in the job view');

      await page.getByRole('button', { name: 'Pause declared-report', exact: true }).click();
      await page.locator('#job-summary [data-field="status"]', { hasText: 'paused' }).waitFor({ timeout: 20_000 });
      assert((await job(r, 'declared-report')).status === 'paused', 'paused in the API');
      // The job's own recent changes list the pause, live.
      const pause = page.locator('#job-audit tr[data-audit-action="job.paused"]');
      await pause.waitFor({ timeout: 20_000 });
      assert(/paused: false → true/.test(await pause.textContent()), `the pause before → after: ${await pause.textContent()}`);
      await stayedOpen(page);
      await ctx.shot(page, 'job-detail-managed');

      await page.getByRole('button', { name: 'Edit declared-report', exact: true }).click();
      const form = page.locator('#job-form[data-read-only]');
      await form.waitFor({ timeout: 20_000 });
      assert(await page.locator('main h1').textContent() === 'Job spec (read-only)', 'the form says it is read-only');
      assert((await page.locator('#form-note #managed-note').textContent()).includes(ctx.jobsFile), 'the form explains why');
      assert(await page.locator('#field-schedule').inputValue() === '0 3 * * *', 'the spec is shown');
      assert(await form.locator('input:enabled, select:enabled, textarea:enabled, button:enabled').count() === 0, 'every field disabled');
      assert(await page.getByRole('button', { name: 'Save changes' }).count() === 0, 'no Save');
      await ctx.shot(page, 'job-form-managed');
      // The API agrees: the spec of a managed job is not changed through it.
      const edit = await apiJson(r, 'PATCH', `/jobs/${declared.id}`, { schedule: '0 5 * * *' });
      assert(edit.status === 409 && edit.body.error.code === 'managed', `PATCH refused: ${edit.status} ${JSON.stringify(edit.body)}`);
    },
  },
  {
    name: 'the jobs file panel shows the file in sync, a refused version with its entry, field and line, and the fixed version, live',
    async fn(ctx) {
      const r = ctx.declared;
      const elsewhere = await open(ctx, ctx.b, '#/cluster');
      await elsewhere.locator('#jobs-file[data-state="none"]').waitFor({ state: 'attached', timeout: 20_000 });
      assert(await elsewhere.locator('#jobs-file').isHidden(), 'no panel on a replica without a jobs file');
      await elsewhere.close();

      const page = await open(ctx, r, '#/cluster');
      const panel = page.locator('#jobs-file');
      await page.locator('#jobs-file[data-state="in-sync"]').waitFor({ timeout: 20_000 });
      assert(await panel.locator('[data-field="path"]').textContent() === ctx.jobsFile, 'the path');
      assert(await panel.locator('[data-field="applier"]').getAttribute('data-applier') === 'true', 'the only replica leads and applies');
      assert(await panel.locator('[data-field="state"]').textContent() === 'in sync', 'in sync');
      const status = (await apiJson(r, 'GET', '/jobs-file')).body;
      assert(await panel.locator(`code[title="${status.read.digest}"]`).count() >= 2, 'the version read is the version applied, by digest');
      assert(await page.evaluate(() => Boolean(document.querySelector('#overview').compareDocumentPosition(document.querySelector('#jobs-file'))
        & Node.DOCUMENT_POSITION_FOLLOWING)), 'after the on-call overview');
      await panel.scrollIntoViewIfNeeded();
      await ctx.shot(page, 'cluster-jobs-file');

      const savedAt = Date.now();
      save(ctx.jobsFile, INVALID);
      await page.locator('#jobs-file[data-state="refused"]').waitFor({ timeout: 20_000 });
      const error = page.locator('#jobs-file-error');
      await error.waitFor({ timeout: 5_000 });
      console.log(`     the refused version shown ${Date.now() - savedAt} ms after it was saved`);
      assert(await error.getAttribute('data-entry') === '2', `entry: ${await error.getAttribute('data-entry')}`);
      assert(await error.getAttribute('data-error-field') === 'schedule', `field: ${await error.getAttribute('data-error-field')}`);
      assert(await error.getAttribute('data-line') === '6', `line: ${await error.getAttribute('data-line')}`);
      const shown = await error.textContent();
      for (const part of ['line 6', 'entry #2 (declared-hourly)', 'field schedule']) assert(shown.includes(part), `${part} in: ${shown}`);
      assert(await error.evaluate((el) => el.classList.contains('error-box') && getComputedStyle(el).color !== getComputedStyle(document.body).color),
        'shown in the error style');
      assert(await panel.locator('[data-field="state"]').textContent() === 'refused', 'the state says refused');
      assert((await job(r, 'declared-hourly')).schedule === '@hourly', 'nothing of the refused version was applied');
      await stayedOpen(page);
      await panel.scrollIntoViewIfNeeded();
      await ctx.shot(page, 'cluster-jobs-file-refused');

      save(ctx.jobsFile, FIXED);
      await page.locator('#jobs-file[data-state="in-sync"]').waitFor({ timeout: 20_000 });
      await error.waitFor({ state: 'detached', timeout: 5_000 });
      await panel.locator('dd', { hasText: '1 updated' }).waitFor({ timeout: 20_000 });
      const fixed = await job(r, 'declared-report');
      assert(fixed.schedule === '0 4 * * *', `the fixed version applied: ${fixed.schedule}`);
      assert(fixed.status === 'paused', 'applying the file left the pause as it was');
      await stayedOpen(page);
      await page.close();
    },
  },
  {
    name: 'the Audit view lists who changed what, before → after; filters by actor and job; follows new entries live; pages with Load more',
    async fn(ctx) {
      const r = ctx.declared;
      const page = await open(ctx, r, '#/cluster');
      await page.getByRole('link', { name: 'Audit', exact: true }).click();
      const rows = page.locator('#audit tbody tr');
      const pause = page.locator('#audit tr[data-audit-action="job.paused"]', { has: page.locator('[data-field="target"]', { hasText: 'declared-report' }) });
      await pause.waitFor({ timeout: 20_000 });
      assert(await pause.getAttribute('data-actor') === 'anonymous', `the actor: ${await pause.getAttribute('data-actor')}`);
      assert(/paused: false → true/.test(await pause.locator('td[data-label="Changes"]').textContent()), 'the pause, before → after');
      const update = page.locator('#audit tr[data-audit-action="job.updated"][data-actor="jobs-file"]');
      await update.waitFor({ timeout: 20_000 });
      assert(/schedule: 0 3 \* \* \* → 0 4 \* \* \*/.test(await update.textContent()), `the file's edit, before → after: ${await update.textContent()}`);
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.audit)));
      assert(ids.every((id, i) => i === 0 || ids[i - 1] > id), `newest first: ${ids}`);
      await ctx.shot(page, 'audit');

      // By actor: only the file's changes.
      await page.getByLabel('Actor', { exact: true }).fill('jobs-file');
      await page.getByLabel('Actor', { exact: true }).press('Enter');
      await waitFor('only the entries of jobs-file', 20_000, async () => {
        const actors = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.actor));
        return actors.length >= 3 && actors.every((a) => a === 'jobs-file');
      });
      assert(await page.locator('#audit tr[data-audit-action="job.created"]').count() === 2, 'the two jobs the file created');
      assert(page.url().includes('actor=jobs-file'), `the filter is in the address: ${page.url()}`);
      // Another actor: the pause, and nothing of the file.
      await page.getByLabel('Actor', { exact: true }).fill('anonymous');
      await page.getByLabel('Actor', { exact: true }).press('Enter');
      await pause.waitFor({ timeout: 20_000 });
      await waitFor('only the entries of anonymous', 20_000, async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.actor))).every((a) => a === 'anonymous'));

      // A change made elsewhere arrives live, on top.
      const declared = await job(r, 'declared-report');
      const resumed = await apiJson(r, 'POST', `/jobs/${declared.id}/resume`);
      assert(resumed.status === 200, `resume: ${resumed.status}`);
      const resume = page.locator('#audit tbody tr').first();
      await waitFor('the resume on top, live', 20_000, async () => await resume.getAttribute('data-audit-action') === 'job.resumed');
      assert(/paused: true → false/.test(await resume.textContent()), 'the resume, before → after');
      await stayedOpen(page);

      // Load more: more entries than a page (50).
      const other = await job(r, 'api-made');
      for (let i = 0; i < 26; i += 1) {
        for (const verb of ['pause', 'resume']) {
          const res = await apiJson(r, 'POST', `/jobs/${other.id}/${verb}`);
          assert(res.status === 200, `${verb}: ${res.status}`);
        }
      }
      const all = (await apiJson(r, 'GET', '/audit?limit=1000')).body.items;
      assert(all.length > 55, `entries in the log: ${all.length}`);
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      const more = page.getByRole('button', { name: 'Load more', exact: true });
      await waitFor('the newest page and Load more', 20_000, async () => (await rows.count()) === 50 && await more.isVisible());
      while (await more.isVisible()) {
        const before = await rows.count();
        await more.click();
        await waitFor('an older page', 20_000, async () => (await rows.count()) > before);
      }
      const listed = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.audit)));
      assert(listed.join() === all.map((e) => e.id).join(), `every entry once, newest first: ${listed.length} of ${all.length}`);

      // One job's entries, from its page.
      await page.goto(`${r.base}/#/jobs/${declared.id}`);
      await page.locator('#job-audit tr[data-audit-action="job.resumed"]').waitFor({ timeout: 20_000 });
      await page.getByRole('link', { name: 'All changes of this job' }).click();
      await page.locator('#audit tr[data-audit-action="job.created"]').waitFor({ timeout: 20_000 });
      assert(await page.getByLabel('Job', { exact: true }).inputValue() === declared.id, 'the job filter is filled');
      const targets = await page.locator('#audit [data-field="target"]').allTextContents();
      assert(targets.length === 4 && targets.every((t) => t === 'declared-report'), `only declared-report's entries: ${targets}`);
      await page.close();
    },
  },
];
