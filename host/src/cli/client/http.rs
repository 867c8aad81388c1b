//! A thin typed client of `/api/v1`: paths are built from segments (each percent-encoded by
//! the URL library), queries from serde structs, and answers are decoded into the types the
//! API answers with.

use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ClientArgs;
use super::error::ClientError;
use crate::api::ErrorBody;

/// The code, message and field of an error answer. The API's errors are an [`ErrorBody`];
/// an answer that is not one (a proxy's, or a newer replica's with a code this build does not
/// know) still gives whichever of the three it has as text, so that its words reach the user.
fn error_parts(body: &Value) -> (Option<String>, Option<String>, Option<String>) {
    if let Ok(ErrorBody { error }) = ErrorBody::deserialize(body) {
        let code = serde_json::to_value(error.code)
            .ok()
            .and_then(|code| code.as_str().map(str::to_owned));
        return (code, Some(error.message), error.field);
    }
    let part = |name: &str| Some(body.get("error")?.get(name)?.as_str()?.to_owned());
    (part("code"), part("message"), part("field"))
}

/// Talks to one replica.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
    token: Option<String>,
}

/// The innermost cause of a transport error (e.g. "Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The first 200 characters of an answer, for an error message.
fn excerpt(text: &str) -> String {
    text.chars().take(200).collect()
}

impl Client {
    /// A client of the server `args` name, with their token.
    pub fn new(args: &ClientArgs) -> Self {
        Client {
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            server: args.server.trim_end_matches('/').to_string(),
            token: args.token.clone().filter(|t| !t.is_empty()),
        }
    }

    fn unreachable(&self, reason: String) -> ClientError {
        ClientError::Unreachable {
            server: self.server.clone(),
            reason,
        }
    }

    fn protocol(&self, detail: String) -> ClientError {
        ClientError::Protocol {
            server: self.server.clone(),
            detail,
        }
    }

    /// `/api/v1/{path…}` on the server; each element of `path` is one segment.
    pub fn url(&self, path: &[&str]) -> Result<Url, ClientError> {
        let mut url = Url::parse(&self.server).map_err(|e| self.unreachable(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| self.unreachable("not an http URL".into()))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(path);
        Ok(url)
    }

    /// A request to `/api/v1/{path…}`, with the token.
    pub fn request(&self, method: Method, path: &[&str]) -> Result<RequestBuilder, ClientError> {
        let builder = self.http.request(method, self.url(path)?);
        Ok(match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        })
    }

    /// Send, mapping transport failures to [`ClientError::Unreachable`].
    pub async fn send(&self, builder: RequestBuilder) -> Result<Response, ClientError> {
        builder
            .send()
            .await
            .map_err(|e| self.unreachable(root_cause(&e)))
    }

    /// Send and decode the answer, as [`Self::read`] does.
    pub async fn answer<T: DeserializeOwned>(
        &self,
        builder: RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = self.send(builder).await?;
        self.read(response).await
    }

    /// Decode an answer (an empty one reads as JSON `null`); API errors become
    /// [`ClientError::Api`], answers that are not the expected JSON [`ClientError::Protocol`].
    pub async fn read<T: DeserializeOwned>(&self, response: Response) -> Result<T, ClientError> {
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| self.unreachable(root_cause(&e)))?;
        let json = if text.is_empty() { "null" } else { &text };
        if status.is_success() {
            return serde_json::from_str(json).map_err(|e| {
                let detail = if serde_json::from_str::<IgnoredAny>(json).is_ok() {
                    format!("HTTP {status}: {e}")
                } else {
                    format!("HTTP {status}: {}", excerpt(&text))
                };
                self.protocol(detail)
            });
        }
        // Any JSON is an error answer; fields it lacks are filled in below.
        let body: Value = serde_json::from_str(json)
            .map_err(|_| self.protocol(format!("HTTP {status}: {}", excerpt(&text))))?;
        let (code, message, field) = error_parts(&body);
        Err(ClientError::Api {
            status: status.as_u16(),
            code: code.unwrap_or_else(|| "unknown".into()),
            message: message.unwrap_or_else(|| format!("HTTP {status}")),
            field,
        })
    }

    /// `GET /api/v1/{path…}`.
    pub async fn get<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, ClientError> {
        self.answer(self.request(Method::GET, path)?).await
    }

    /// `GET /api/v1/{path…}?{query}`; `None` fields of `query` are left out.
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.answer(self.request(Method::GET, path)?.query(query))
            .await
    }

    /// `POST /api/v1/{path…}` without a body.
    pub async fn post<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, ClientError> {
        self.answer(self.request(Method::POST, path)?).await
    }

    /// `POST /api/v1/{path…}` with a JSON body.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &[&str],
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.answer(self.request(Method::POST, path)?.json(body))
            .await
    }

    /// `PATCH /api/v1/{path…}` with a JSON body.
    pub async fn patch<T: DeserializeOwned>(
        &self,
        path: &[&str],
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.answer(self.request(Method::PATCH, path)?.json(body))
            .await
    }

    /// `PUT /api/v1/{path…}` with a JSON body.
    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &[&str],
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.answer(self.request(Method::PUT, path)?.json(body))
            .await
    }

    /// `DELETE /api/v1/{path…}`; whatever the answer holds is ignored.
    pub async fn delete(&self, path: &[&str]) -> Result<(), ClientError> {
        self.answer::<IgnoredAny>(self.request(Method::DELETE, path)?)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(server: &str) -> Client {
        Client::new(&ClientArgs {
            server: server.into(),
            token: None,
            output: "table".into(),
        })
    }

    #[test]
    fn path_segments_are_encoded_one_by_one() {
        let c = client("http://127.0.0.1:8080/");
        assert_eq!(
            c.url(&["jobs", "a b/c?d#e%f", "runs"]).unwrap().as_str(),
            "http://127.0.0.1:8080/api/v1/jobs/a%20b%2Fc%3Fd%23e%25f/runs"
        );
        let prefixed = client("https://example.test/cron");
        assert_eq!(
            prefixed
                .url(&["settings", "runs.retention"])
                .unwrap()
                .as_str(),
            "https://example.test/cron/api/v1/settings/runs.retention"
        );
    }

    #[test]
    fn error_answers_give_their_code_message_and_field() {
        let api = serde_json::to_value(crate::api::ApiError::invalid("limit", "too big").body());
        assert_eq!(
            error_parts(&api.unwrap()),
            (
                Some("invalid_field".into()),
                Some("too big".into()),
                Some("limit".into())
            )
        );
        let newer = serde_json::json!({"error": {"code": "brand_new", "message": "later"}});
        assert_eq!(
            error_parts(&newer),
            (Some("brand_new".into()), Some("later".into()), None)
        );
        let foreign = serde_json::json!({"error": "bad gateway"});
        assert_eq!(error_parts(&foreign), (None, None, None));
    }

    #[test]
    fn a_server_that_is_not_a_url_is_unreachable() {
        let err = client("localhost-without-scheme")
            .url(&["jobs"])
            .unwrap_err();
        assert!(
            matches!(&err, ClientError::Unreachable { server, .. } if server == "localhost-without-scheme"),
            "{err}"
        );
    }

    #[test]
    fn queries_leave_absent_fields_out_and_encode_values() {
        #[derive(Serialize)]
        struct Q<'a> {
            limit: usize,
            status: Option<&'a str>,
            after: Option<&'a str>,
        }
        let c = client("http://127.0.0.1:8080");
        let request = c
            .request(Method::GET, &["jobs"])
            .unwrap()
            .query(&Q {
                limit: 5,
                status: None,
                after: Some("a&b=c d"),
            })
            .build()
            .unwrap();
        assert_eq!(request.url().query(), Some("limit=5&after=a%26b%3Dc+d"));
    }
}
