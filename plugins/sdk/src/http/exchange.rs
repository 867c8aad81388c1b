//! One request/response exchange over `wasi:http/outgoing-handler`.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingResponse, Method, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

use super::{HttpError, Request, Response, Target};

/// Largest write `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;
/// Largest read asked of the response body stream at once.
const READ_CHUNK: u64 = 64 << 10;

pub(crate) fn send(request: &Request, target: &Target) -> Result<Response, HttpError> {
    let headers = Fields::new();
    for (name, value) in &request.headers {
        headers
            .append(name, value)
            .map_err(|e| HttpError::InvalidRequest(format!("header {name:?}: {e:?}")))?;
    }
    if let Some(body) = &request.body {
        headers
            .set("content-length", &[body.len().to_string().into_bytes()])
            .map_err(|e| HttpError::InvalidRequest(format!("content-length: {e:?}")))?;
    }

    let outgoing = OutgoingRequest::new(headers);
    let invalid = |what: &str| HttpError::InvalidRequest(format!("the host refused the {what}"));
    outgoing
        .set_method(&method(&request.method))
        .map_err(|()| invalid("method"))?;
    outgoing
        .set_scheme(Some(&scheme(&target.scheme)))
        .map_err(|()| invalid("scheme"))?;
    outgoing
        .set_authority(Some(&target.authority))
        .map_err(|()| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(&target.path_with_query))
        .map_err(|()| invalid("path"))?;
    // A request without a body never takes its outgoing-body: the host then sends none,
    // rather than waiting for an empty stream to finish.
    let outgoing_body = match request.body {
        Some(_) => Some(outgoing.body().map_err(|()| invalid("body"))?),
        None => None,
    };

    let failed = |code| transport_error(code, target);
    let future = outgoing_handler::handle(outgoing, options(request)).map_err(failed)?;
    if let (Some(outgoing_body), Some(body)) = (outgoing_body, &request.body) {
        // A failed write means the exchange failed; the response below says why.
        let _ = write_body(&outgoing_body, body);
        let _ = OutgoingBody::finish(outgoing_body, None);
    }

    future.subscribe().block();
    let response = future
        .get()
        .expect("the response is ready after its pollable")
        .expect("the response is taken once")
        .map_err(failed)?;
    read_response(response, request.max_body_bytes)
}

/// A denied request names its host; every other code is passed on.
fn transport_error(code: ErrorCode, target: &Target) -> HttpError {
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied {
            authority: target.authority.clone(),
        },
        other => HttpError::Transport(other),
    }
}

fn options(request: &Request) -> Option<RequestOptions> {
    let timeout = request.timeout?;
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    // A host may not support a timeout; it then applies its own.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    Some(options)
}

fn write_body(outgoing_body: &OutgoingBody, body: &[u8]) -> Result<(), StreamError> {
    let stream = outgoing_body.write().map_err(|()| StreamError::Closed)?;
    for chunk in body.chunks(WRITE_CHUNK) {
        stream.blocking_write_and_flush(chunk)?;
    }
    Ok(())
}

fn read_response(response: IncomingResponse, max_body_bytes: usize) -> Result<Response, HttpError> {
    let status = ::http::StatusCode::from_u16(response.status())
        .map_err(|e| HttpError::Body(format!("invalid status {}: {e}", response.status())))?;
    let headers = response.headers().entries();
    let incoming = response
        .consume()
        .map_err(|()| HttpError::Body("the body was already taken".to_owned()))?;
    let (body, truncated) = read_body(&incoming, max_body_bytes)?;
    drop(IncomingBody::finish(incoming));
    Ok(Response {
        status,
        headers,
        body,
        truncated,
    })
}

fn read_body(incoming: &IncomingBody, max: usize) -> Result<(Vec<u8>, bool), HttpError> {
    let stream = incoming
        .stream()
        .map_err(|()| HttpError::Body("the body stream was already taken".to_owned()))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                if body.len() + chunk.len() > max {
                    body.extend_from_slice(&chunk[..max - body.len()]);
                    return Ok((body, true));
                }
                body.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => return Ok((body, false)),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(HttpError::Body(e.to_debug_string()));
            }
        }
    }
}

fn method(method: &::http::Method) -> Method {
    match *method {
        ::http::Method::GET => Method::Get,
        ::http::Method::HEAD => Method::Head,
        ::http::Method::POST => Method::Post,
        ::http::Method::PUT => Method::Put,
        ::http::Method::DELETE => Method::Delete,
        ::http::Method::CONNECT => Method::Connect,
        ::http::Method::OPTIONS => Method::Options,
        ::http::Method::TRACE => Method::Trace,
        ::http::Method::PATCH => Method::Patch,
        ref other => Method::Other(other.as_str().to_owned()),
    }
}

fn scheme(scheme: &str) -> Scheme {
    match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_owned()),
    }
}
