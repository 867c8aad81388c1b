// A small sequential test runner: named steps sharing one context, every failure reported, a
// closing `N passed, M failed` line. Waiting is always for a condition, with a deadline.

/** Poll `check()` (sync or async, truthy = done) every `every` ms until `ms` have passed. */
export async function waitFor(what, ms, check, every = 100) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
      if (e && e.fatal) throw e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Throw unless `cond`. */
export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Run `tests` (`[{ name, fn }]`) in order; returns `{ passed, failed }`. */
export async function run(tests, ctx) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    try {
      await t.fn(ctx);
      passed += 1;
      console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${t.name} (${Date.now() - started} ms)\n     ${String(e && e.stack ? e.stack : e).split('\n').join('\n     ')}`);
      if (ctx.onFailure) await ctx.onFailure(t.name).catch(() => {});
    }
  }
  return { passed, failed };
}
