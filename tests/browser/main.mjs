// Browser tests of the dashboard: headless Chromium (Debian's, driven by playwright-core)
// against two real replicas on a throwaway PostgreSQL, plus a third replica that requires an
// API token (its bootstrap admin token makes the read and admin tokens the tests use), and a
// fourth, on a database of its own, that watches a jobs file (--jobs-file).
// Screenshots go to target/screenshots/. Prints `N passed, M failed`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { binary, startPostgres, startReplica, stopAll, tempDir } from './lib/cluster.mjs';
import { run } from './lib/runner.mjs';
import { closing, tests } from './dashboard.mjs';
import { JOBS_FILE, tests as declaredTests } from './declared.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const screenshots = path.resolve(process.env.SCREENSHOT_DIR || path.join(repo, 'target/screenshots'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** Short membership thresholds so a killed replica is noticed within seconds. */
const FAST = ['--heartbeat-interval', '1s', '--dead-after', '5s'];
export const API_TOKEN = 'browser-test-token-of-at-least-32-chars';

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopAll(); process.exit(130); });

async function main() {
  fs.mkdirSync(screenshots, { recursive: true });
  for (const f of fs.readdirSync(screenshots)) if (f.endsWith('.png')) fs.rmSync(path.join(screenshots, f));
  const plugins = path.resolve(process.env.WASMCRON_TEST_PLUGINS || path.join(repo, 'dist/plugins'));
  if (!fs.existsSync(path.join(plugins, 'hello.wasm'))) {
    throw new Error(`${plugins} has no hello.wasm: run scripts/build-plugins.sh dist/plugins first`);
  }
  const bin = binary(repo);
  const pg = await startPostgres();
  pg.createDatabase('cluster');
  pg.createDatabase('secured');
  pg.createDatabase('declared');
  const jobsFile = path.join(tempDir('wasmcron-browser-jobs-file-'), 'jobs.yaml');
  fs.writeFileSync(jobsFile, JOBS_FILE);
  const [a, b] = await Promise.all([
    startReplica({ bin, db: pg.url('cluster'), id: 'replica-a', plugins, args: FAST }),
    startReplica({ bin, db: pg.url('cluster'), id: 'replica-b', plugins, args: FAST }),
  ]);
  const [secured, declared] = await Promise.all([
    startReplica({ bin, db: pg.url('secured'), id: 'replica-secured', plugins, args: FAST, env: { WASMCRON_API_TOKEN: API_TOKEN } }),
    startReplica({ bin, db: pg.url('declared'), id: 'replica-declared', plugins, args: [...FAST, '--jobs-file', jobsFile] }),
  ]);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.on('page', (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
      if (/Content.Security.Policy/i.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  });
  const ctx = {
    a, b, secured, declared, jobsFile, browser, context, screenshots, problems, token: API_TOKEN,
    async shot(page, name) { await page.screenshot({ path: path.join(screenshots, `${name}.png`) }); },
    async onFailure(name) {
      for (const [i, p] of context.pages().entries()) {
        await p.screenshot({ path: path.join(screenshots, `failed-${name.replace(/\W+/g, '-')}-${i}.png`) }).catch(() => {});
      }
    },
  };
  let result;
  try {
    result = await run([...tests, ...declaredTests, closing], ctx);
  } finally {
    await browser.close().catch(() => {});
  }
  if (result.failed && process.env.SHOW_LOGS !== '0') {
    for (const r of [a, b, declared]) console.log(`--- last lines of ${r.id}'s log ---\n${r.log().split('\n').slice(-40).join('\n')}`);
  }
  console.log(`screenshots: ${screenshots}`);
  console.log(`${result.passed} passed, ${result.failed} failed`);
  return result.failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(e.stack || e);
  console.log('0 passed, 1 failed');
} finally {
  stopAll();
}
process.exit(code);
