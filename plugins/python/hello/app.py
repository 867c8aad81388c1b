"""Example wasmcron plugin in Python, with the behaviour of the Rust `hello` example.

Greets the `name` from the job's input (`{"name": "world"}`) with the greeting from the
job's config (`greeting`, default "Hello"), counts its runs in durable state (a JSON number
under `count`, as the Rust example keeps it) and returns e.g. "Hello, world! (run #3)".

Built with componentize-py against the `job` world of wit/plugin.wit:

    componentize-py -d wit -w job componentize -p plugins/python/hello app -o hello-py.wasm
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.host import Level

COUNT_KEY = "count"


class WitWorld(wit_world.WitWorld):
    def run(self, tick) -> str:
        # An exception that escapes `run` would trap (the run fails with a WebAssembly
        # backtrace, the Python traceback only in the run's log): turn it into the run's error.
        try:
            return hello(tick)
        except Err:
            raise
        except Exception as error:
            raise Err(f"{type(error).__name__}: {error}")


def hello(tick) -> str:
    greeting = host.config_get("greeting") or "Hello"
    name = name_from_input(tick.input)
    run_number = next_run_number()
    host.log(
        Level.INFO,
        f"job {tick.job_name} greets {name} "
        f"(tick {tick.scheduled_at}, attempt {tick.attempt}, run #{run_number})",
    )
    return f"{greeting}, {name}! (run #{run_number})"


def name_from_input(text: str) -> str:
    """The `name` field of the job's JSON input; "world" when the input has none."""
    data = json.loads(text)
    if data is None:
        return "world"
    if not isinstance(data, dict):
        raise TypeError(f"the job's input must be a JSON object, got {text}")
    name = data.get("name")
    if name is None:
        return "world"
    if not isinstance(name, str):
        raise TypeError(f'input field "name" must be a string, got {json.dumps(name)}')
    return name


def next_run_number() -> int:
    """Increments the durable run counter and returns its new value."""
    stored = host.state_get(COUNT_KEY)
    count = json.loads(stored) if stored is not None else 0
    count += 1
    # Raises Err(reason) when the run lost ownership of its job: that fails the run.
    host.state_set(COUNT_KEY, json.dumps(count).encode())
    return count
