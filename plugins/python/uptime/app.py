"""Example wasmcron plugin in Python that does HTTP: checks that a URL answers.

Input: `{"url": "http://host:port/path", "expect_status": 204, "timeout_ms": 5000}`
(`expect_status` and `timeout_ms` are optional). GETs the URL through `wasi:http` and returns
e.g. "200 OK in 12 ms". The run fails on a transport error, a host that is not in the job's
`allowed_hosts`, or an unexpected status (any non-2xx, or other than `expect_status`).

Built with componentize-py against the `job-http` world of plugins/python/wit, which adds
`wasi:http/outgoing-handler` to the job world:

    componentize-py -d plugins/python/wit -w job-http componentize \
        -p plugins/python/uptime app -o uptime-py.wasm
"""

import json
import time
from http import HTTPStatus

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.host import Level

import http_client


class WitWorld(wit_world.WitWorld):
    def run(self, tick) -> str:
        try:
            return check(json.loads(tick.input) or {})
        except Err:
            raise
        except Exception as error:
            raise Err(f"{type(error).__name__}: {error}")


def check(spec: dict) -> str:
    url = spec.get("url")
    if not isinstance(url, str):
        raise ValueError('input needs a string field "url", e.g. {"url": "http://example.com/"}')
    expect = spec.get("expect_status")
    host.log(Level.DEBUG, f"GET {url}")
    started = time.monotonic()
    try:
        response = http_client.get(url, timeout_ms=spec.get("timeout_ms", 10_000))
    except http_client.HttpError as error:
        host.log(Level.WARN, f"GET {url} failed: {error}")
        raise Err(f"GET {url} failed: {error}") from None
    elapsed_ms = int((time.monotonic() - started) * 1000)
    summary = f"{status_text(response.status)} in {elapsed_ms} ms"
    ok = response.status == expect if expect is not None else 200 <= response.status < 300
    if not ok:
        wanted = f"status {expect}" if expect is not None else "a 2xx status"
        raise Err(f"GET {url} answered {summary}, expected {wanted}")
    host.log(Level.INFO, f"{url}: {summary}")
    return summary


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
