// Example wasmcron plugin in JavaScript, with the behaviour of the Rust `hello` example.
//
// Greets the `name` from the job's input ({"name": "world"}) with the greeting from the job's
// config (`greeting`, default "Hello"), counts its runs in durable state (a JSON number under
// `count`, as the Rust example keeps it) and returns e.g. "Hello, world! (run #3)".
//
// Built with componentize-js against the `job` world of wit/plugin.wit:
//
//     componentize-js plugins/js/hello/app.js --wit wit --world-name job -o hello-js.wasm

import { log, configGet, stateGet, stateSet } from "wasmcron:plugin/host@0.1.0";

const COUNT_KEY = "count";

// `tick` is the WIT record with camelCase fields: jobId, jobName, scheduledAt (a BigInt: the
// WIT type is s64), attempt, catchUp, instanceId, input. Returning a string succeeds; throwing
// a string fails the run with it.
export function run(tick) {
  try {
    return hello(tick);
  } catch (error) {
    // componentize-js turns only a thrown *string* into the error result: anything else
    // (an Error object) traps with "expected a string". Hand over the message.
    throw typeof error === "string" ? error : `${error.name}: ${error.message}`;
  }
}

function hello(tick) {
  const greeting = configGet("greeting") ?? "Hello";
  const name = nameFromInput(tick.input);
  const runNumber = nextRunNumber();
  log(
    "info",
    `job ${tick.jobName} greets ${name} (tick ${tick.scheduledAt}, attempt ${tick.attempt}, run #${runNumber})`,
  );
  return `${greeting}, ${name}! (run #${runNumber})`;
}

// The `name` field of the job's JSON input; "world" when the input has none.
function nameFromInput(text) {
  const data = JSON.parse(text);
  if (data === null) {
    return "world";
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new TypeError(`the job's input must be a JSON object, got ${text}`);
  }
  const name = data.name ?? null;
  if (name === null) {
    return "world";
  }
  if (typeof name !== "string") {
    throw new TypeError(`input field "name" must be a string, got ${JSON.stringify(name)}`);
  }
  return name;
}

// Increments the durable run counter and returns its new value. `stateGet` gives a
// Uint8Array or undefined; `stateSet` throws the host's reason (a string) when the run lost
// ownership of its job.
function nextRunNumber() {
  const stored = stateGet(COUNT_KEY);
  const count = (stored === undefined ? 0 : JSON.parse(new TextDecoder().decode(stored))) + 1;
  stateSet(COUNT_KEY, new TextEncoder().encode(JSON.stringify(count)));
  return count;
}
