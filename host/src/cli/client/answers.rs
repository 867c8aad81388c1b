//! Shapes of the API's answers that the API module builds without a shared type (replicas,
//! plugins, settings, tokens, events, errors). Each mirrors its handler's JSON field for field,
//! so that `--output json` prints all of it; jobs, runs and triggers use the API's own views
//! ([`crate::api::JobView`], [`crate::api::RunView`], [`crate::api::TriggerView`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::settings::Role;
use crate::store::RunStatus;

/// `{"error": {"code", "message", "field"?}}`; every part may be missing from a server that
/// is not wasmcron.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorAnswer {
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorAnswer`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
    pub field: Option<String>,
}

/// One live replica (`GET /instances`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub address: String,
    pub version: String,
    pub started_at: String,
    pub last_heartbeat: String,
    pub jobs: i64,
    pub leader: bool,
}

/// One plugin of the replica answering (`GET /plugins`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Plugin {
    pub name: String,
    pub digest: Option<String>,
    pub size: u64,
    pub loaded_at: Option<String>,
    pub error: Option<String>,
}

/// One setting (`GET`/`PUT /settings/{key}`); its value is whatever JSON it holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: Value,
}

/// Every setting that is set (`GET /settings`), by key.
pub type SettingMap = BTreeMap<String, Value>;

/// The body of `PUT /settings/{key}`.
#[derive(Debug, Serialize)]
pub struct SettingValue {
    pub value: Value,
}

/// One named API token, without its secret.
#[derive(Debug, Serialize, Deserialize)]
pub struct Token {
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub created_by: Option<String>,
    pub last_used_at: Option<String>,
}

/// `GET /tokens`.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// The body of `POST /tokens`.
#[derive(Debug, Serialize)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: &'a str,
}

/// The answer to `POST /tokens`: the token and its secret, shown this once.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: Token,
    #[serde(rename = "token")]
    pub secret: String,
}

/// `GET /whoami`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Whoami {
    pub auth_required: bool,
    pub name: Option<String>,
    pub role: Role,
}

/// One event of `GET /events` (the `data:` of a Server-Sent Event). The payload differs by
/// kind; the kinds the client summarizes are decoded from it with the types below.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventAnswer {
    pub at: String,
    pub kind: String,
    pub data: Value,
}

/// The payload of a `run.started` event.
#[derive(Debug, Deserialize)]
pub struct RunStarted {
    pub job: String,
    pub run_id: i64,
    pub scheduled_at: String,
    pub instance_id: String,
    #[serde(default)]
    pub manual: bool,
}

/// The payload of a `run.finished` event.
#[derive(Debug, Deserialize)]
pub struct RunFinished {
    pub job: String,
    pub run_id: i64,
    pub status: RunStatus,
    pub duration_ms: u64,
    pub instance_id: String,
    pub error: Option<String>,
}

/// The payload of a `job.changed` event.
#[derive(Debug, Deserialize)]
pub struct JobChanged {
    pub job: String,
    pub change: String,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_created_token_prints_as_the_api_sent_it() {
        let sent = json!({
            "name": "reader",
            "role": "read",
            "created_at": "2026-01-01T00:00:00.000Z",
            "created_by": null,
            "last_used_at": null,
            "token": "wcr_secret",
        });
        let made: CreatedToken = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(made.token.role, Role::Read);
        assert_eq!(made.secret, "wcr_secret");
        assert_eq!(serde_json::to_value(&made).unwrap(), sent);
    }
}
