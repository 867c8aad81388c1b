// What the browser tests share: the API asked directly, and pages opened on a replica that
// must stay open (never reloaded) while what they show arrives live.

import { assert } from './runner.mjs';

/** Call a replica's API; `{ status, body }` (the body parsed). */
export async function apiJson(replica, method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${replica.base}/api/v1${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

/** Every job of the cluster (one page of 500). */
export async function jobs(replica) {
  const r = await apiJson(replica, 'GET', '/jobs?limit=500');
  return r.body.items;
}

/** Open `hash` on `replica` in a new page and wait for the live stream. */
export async function open(ctx, replica, hash) {
  const page = await ctx.context.newPage();
  await page.goto(`${replica.base}/${hash}`);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 15_000 });
  // A marker that a reload or navigation would erase: what the page shows later came live.
  await page.evaluate(() => { window.__stayedOpen = true; });
  return page;
}

/** Throw if `page` was reloaded (or navigated away from the page) since `open`. */
export async function stayedOpen(page) {
  assert(await page.evaluate(() => window.__stayedOpen === true), 'the page was reloaded');
}
