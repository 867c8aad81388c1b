// Example wasmcron plugin in JavaScript that does HTTP: checks that a URL answers.
//
// Input: {"url": "http://host:port/path", "expect_status": 204} (`expect_status` is
// optional). GETs the URL with fetch() and returns e.g. "200 in 12 ms". The run fails on a
// network error, a host that is not in the job's `allowed_hosts`, or an unexpected status
// (any non-2xx, or other than `expect_status`).
//
// componentize-js implements fetch() over wasi:http/outgoing-handler, which it imports by
// default, so the plain `job` world is enough:
//
//     componentize-js plugins/js/uptime/app.js --wit wit --world-name job -o uptime-js.wasm

import { log } from "wasmcron:plugin/host@0.1.0";

// An async export: componentize-js runs the event loop until the promise settles, so the
// export can await fetch(). The WIT function stays synchronous.
export async function run(tick) {
  try {
    return await check(JSON.parse(tick.input) ?? {});
  } catch (error) {
    throw typeof error === "string" ? error : `${error.name}: ${error.message}`;
  }
}

async function check(spec) {
  const url = spec.url;
  if (typeof url !== "string") {
    throw new TypeError('input needs a string field "url", e.g. {"url": "http://example.com/"}');
  }
  log("debug", `GET ${url}`);
  const started = Date.now();
  let response;
  try {
    response = await fetch(url);
    await response.arrayBuffer();
  } catch (error) {
    // A host outside the job's allowed_hosts is refused by wasmcron; fetch() reports it as a
    // network error, and the run's log names the refused host.
    log("warn", `GET ${url} failed: ${error}`);
    throw `GET ${url} failed: ${error}`;
  }
  const summary = `${response.status} in ${Date.now() - started} ms`;
  const expected = spec.expect_status;
  const ok = expected === undefined ? response.ok : response.status === expected;
  if (!ok) {
    const wanted = expected === undefined ? "a 2xx status" : `status ${expected}`;
    throw `GET ${url} answered ${summary}, expected ${wanted}`;
  }
  log("info", `${url}: ${summary}`);
  return summary;
}
