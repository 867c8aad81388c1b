//! The limits of one client, over real HTTP: `Cache-Control: no-store` on every `/api/`
//! answer, bounded headers and bodies, unknown tokens slowed down, event streams bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::limits::{FREE_FAILURES, MAX_HEADER_BYTES, MAX_HEADERS, MAX_STREAMS_PER_CLIENT};
use super::*;

const TOKEN: &str = "a-bootstrap-token-of-at-least-32-characters";

/// The router on a loopback port, with the client address known as in a replica; with
/// `token`, the API needs one.
async fn serve(token: Option<&str>) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut state = super::tests::state(dir.path()).await;
    state.info = Arc::new(ReplicaInfo {
        api_token: token.map(str::to_string),
        ..(*state.info).clone()
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), dir)
}

fn cache_control(answer: &reqwest::Response) -> Option<&str> {
    answer
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_api_answer_is_not_to_be_stored() {
    let (base, _dir) = serve(None).await;
    let client = reqwest::Client::new();
    for (path, status) in [
        ("/api/v1/jobs", 200),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/no-such-route", 404),
        ("/api/v2/jobs", 404),
        ("/api/v1/jobs?limit=ten", 400),
        ("/api/v1/events?kind=nope", 400),
    ] {
        let answer = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "{path}");
        assert_eq!(cache_control(&answer), Some("no-store"), "{path}");
    }
    let events = client
        .get(format!("{base}/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(cache_control(&events), Some("no-store"));
    // The dashboard revalidates; the probes say nothing.
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(cache_control(&page), Some("no-cache"));
    let probe = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(cache_control(&probe), None);
}

#[tokio::test]
async fn oversized_headers_and_bodies_are_refused() {
    let (base, _dir) = serve(None).await;
    let client = reqwest::Client::new();
    let big = "x".repeat(MAX_HEADER_BYTES);
    let answer = client
        .get(format!("{base}/api/v1/jobs"))
        .header("x-filler", &big)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(cache_control(&answer), Some("no-store"));
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "headers_too_large");

    let mut many = client.get(format!("{base}/api/v1/jobs"));
    for i in 0..=MAX_HEADERS {
        many = many.header(format!("x-h{i}"), "1");
    }
    assert_eq!(
        many.send().await.unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let long_uri = format!("{base}/api/v1/jobs?name={}", "a".repeat(MAX_HEADER_BYTES));
    assert_eq!(
        client.get(long_uri).send().await.unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    // Just under the bound is fine.
    let fine = client
        .get(format!("{base}/api/v1/jobs"))
        .header("x-filler", "x".repeat(MAX_HEADER_BYTES / 2))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);

    let body = vec![b' '; MAX_BODY_BYTES + 1];
    let answer = client
        .post(format!("{base}/api/v1/jobs"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.json::<Value>().await.unwrap()["error"]["code"],
        "body_too_large"
    );

    // A list of jobs to apply may be as large as a jobs file: 16 MiB, not more.
    let apply = |body: Vec<u8>| {
        client
            .post(format!("{base}/api/v1/specs/apply"))
            .header("content-type", "application/json")
            .body(body)
    };
    let entry = r#"{"name": "j-000000", "schedule": "@hourly", "plugin": "hello"}"#;
    let mut list = String::from(r#"{"source": "big.yaml", "dry_run": true, "jobs": ["#);
    let mut n = 0;
    while list.len() < 3 * MAX_BODY_BYTES {
        if n > 0 {
            list.push(',');
        }
        list.push_str(&entry.replace("000000", &format!("{n:06}")));
        n += 1;
    }
    list.push_str("]}");
    let answer = apply(list.into_bytes()).send().await.unwrap();
    let status = answer.status();
    let plan = answer.json::<Value>().await.unwrap();
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["changes"].as_array().unwrap().len(), n);
    let mut body = vec![b' '; MAX_APPLY_BODY_BYTES + 1];
    body[0] = b'{';
    let answer = apply(body).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let message = answer.json::<Value>().await.unwrap()["error"]["message"].clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("16777216 for POST /specs/apply"),
        "{message}"
    );
}

#[tokio::test]
async fn repeated_unknown_tokens_are_slowed_down() {
    let (base, _dir) = serve(Some(TOKEN)).await;
    let client = reqwest::Client::new();
    let ask = |token: Option<&'static str>| {
        let mut request = client.get(format!("{base}/api/v1/jobs"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for _ in 0..FREE_FAILURES {
        assert_eq!(ask(Some("guess")).await.unwrap().status(), 401);
    }
    // The failures are spent: every request with a token waits, the right one too.
    for token in ["guess", TOKEN] {
        let answer = ask(Some(token)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS, "{token}");
        assert_eq!(answer.headers()["retry-after"], "1");
        assert_eq!(cache_control(&answer), Some("no-store"));
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_requests");
    }
    // Without a token the answer is still 401: nothing was guessed.
    assert_eq!(ask(None).await.unwrap().status(), 401);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ask(Some(TOKEN)).await.unwrap().status() != 200 {
        assert!(tokio::time::Instant::now() < deadline, "still blocked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The next failure blocks twice as long.
    assert_eq!(ask(Some("guess")).await.unwrap().status(), 401);
    let answer = ask(Some(TOKEN)).await.unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers()["retry-after"], "2");

    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    let count = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(
        count("wasmcron_api_auth_failures_total ") > u64::from(FREE_FAILURES),
        "{text}"
    );
    assert!(
        count("wasmcron_api_throttled_total{reason=\"auth\"} ") >= 3,
        "{text}"
    );
}

#[tokio::test]
async fn open_event_streams_per_client_are_bounded() {
    let (base, _dir) = serve(None).await;
    let client = reqwest::Client::new();
    let mut open = Vec::new();
    for _ in 0..MAX_STREAMS_PER_CLIENT {
        let stream = client
            .get(format!("{base}/api/v1/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        open.push(stream);
    }
    let refused = client
        .get(format!("{base}/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    // Other requests of the same client go on.
    assert_eq!(
        client
            .get(format!("{base}/api/v1/jobs"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn a_short_bootstrap_token_is_refused_with_a_clear_message() {
    assert!(check_bootstrap_token(TOKEN).is_ok());
    assert!(check_bootstrap_token(&"é".repeat(MIN_BOOTSTRAP_TOKEN_CHARS)).is_ok());
    let err = check_bootstrap_token("s3cret").unwrap_err();
    assert_eq!(
        err,
        "WASMCRON_API_TOKEN has 6 characters; the bootstrap token must have at least 32 \
         (make one with `openssl rand -hex 32`)"
    );
}

#[test]
fn the_document_lists_the_new_answers() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    for (path, method) in [("/jobs", "get"), ("/jobs", "post"), ("/events", "get")] {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(
            responses["429"]["headers"]["Retry-After"].is_object(),
            "{path} {method}"
        );
        assert!(responses["431"].is_object(), "{path} {method}");
    }
    assert!(doc["paths"]["/healthz"]["get"]["responses"]["431"].is_object());
}
