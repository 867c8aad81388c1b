//! A client for a replica's HTTP API.

use std::time::Duration;

use serde_json::Value;

use super::Host;

/// Longest wait for an answer of [`Host::request`].
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

impl Host {
    /// The status of a GET, `None` when nothing answers.
    pub async fn status_of(&self, path: &str) -> Option<u16> {
        reqwest::get(format!("{}{path}", self.base))
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// GET a JSON document (panics on transport errors; returns status and body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Send a JSON body.
    pub async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let client = reqwest::Client::new();
        let r = client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A request with an optional bearer token and a JSON body (none when `Null`); returns
    /// status and body text.
    pub async fn request(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Value,
    ) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .timeout(REQUEST_TIMEOUT);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let r = request.send().await.expect("request");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// [`Host::request`] with a JSON answer (`Null` when the body is not JSON).
    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let (status, text) = self.request(token, method, path, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Send `body` as raw bytes with a JSON content type; returns status and JSON body.
    pub async fn send_raw(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Every run of a job, oldest first (follows pagination).
    pub async fn runs(&self, job: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = format!("/api/v1/jobs/{job}/runs?limit=1000");
        loop {
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{page}");
            all.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => path = format!("/api/v1/jobs/{job}/runs?limit=1000&before={next}"),
                None => break,
            }
        }
        all.reverse();
        all
    }
}
