"""A small blocking HTTP client over `wasi:http/outgoing-handler`, for the `job-http` world.

componentize-py generates the `wasi:http` bindings; this module sends one request and reads
the whole response (up to a limit) by blocking on the pollables, as the Rust SDK's client does.
Python's own `urllib` and `http.client` need sockets, which a wasmcron plugin does not have.
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from componentize_py_types import Err
from wit_world.imports import outgoing_handler
from wit_world.imports import wasi_http_types as types
from wit_world.imports.streams import StreamError_Closed

READ_CHUNK = 64 * 1024


class HttpError(Exception):
    """A request that got no response: denied by the host, refused, timed out, ..."""


@dataclass
class Response:
    status: int
    headers: List[Tuple[str, bytes]]
    body: bytes
    truncated: bool


def get(url: str, timeout_ms: Optional[int] = None, max_body: int = 1 << 20) -> Response:
    """GET `url` (http:// or https://) and read the response body, up to `max_body` bytes."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HttpError(f"invalid url {url!r}: expected http://host/path or https://host/path")
    request = types.OutgoingRequest(types.Fields())
    request.set_method(types.Method_Get())
    request.set_scheme(types.Scheme_Https() if parts.scheme == "https" else types.Scheme_Http())
    request.set_authority(parts.netloc)
    path = parts.path or "/"
    request.set_path_with_query(path + (f"?{parts.query}" if parts.query else ""))

    options = None
    if timeout_ms is not None:
        options = types.RequestOptions()
        nanos = timeout_ms * 1_000_000
        options.set_connect_timeout(nanos)
        options.set_first_byte_timeout(nanos)
        options.set_between_bytes_timeout(nanos)

    try:
        future = outgoing_handler.handle(request, options)
    except Err as error:
        raise HttpError(describe(error.value, parts.netloc)) from None
    future.subscribe().block()
    # get() -> Some(Ok(Ok(response))) once ready; the inner Err is the transport error.
    outcome = future.get()
    if isinstance(outcome.value, Err):
        raise HttpError(describe(outcome.value.value, parts.netloc))
    response = outcome.value.value
    status = response.status()
    headers = response.headers().entries()
    body, truncated = read_body(response.consume(), max_body)
    return Response(status, headers, body, truncated)


def read_body(incoming, max_body: int) -> Tuple[bytes, bool]:
    stream = incoming.stream()
    body = bytearray()
    while True:
        try:
            chunk = stream.blocking_read(READ_CHUNK)
        except Err as error:
            if isinstance(error.value, StreamError_Closed):
                return bytes(body), False
            raise HttpError(f"reading the response body failed: {error.value}") from None
        if len(body) + len(chunk) > max_body:
            body.extend(chunk[: max_body - len(body)])
            return bytes(body), True
        body.extend(chunk)


def describe(code, authority: str) -> str:
    """A short description of a `wasi:http` error code."""
    if isinstance(code, types.ErrorCode_HttpRequestDenied):
        return f"request to {authority} denied by the job's allowed_hosts (the run's log says why)"
    if isinstance(code, types.ErrorCode_ConnectionRefused):
        return "connection refused"
    if isinstance(code, (types.ErrorCode_ConnectionTimeout,)):
        return "connection timed out"
    if isinstance(code, (types.ErrorCode_ConnectionReadTimeout, types.ErrorCode_HttpResponseTimeout)):
        return "timed out waiting for the response"
    if isinstance(code, types.ErrorCode_DnsError):
        return "DNS lookup failed"
    # The other codes are dataclasses whose class name says what happened.
    return type(code).__name__.removeprefix("ErrorCode_")
