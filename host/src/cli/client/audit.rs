//! `wasmcron audit`: the newest entries of the audit log (who changed which job, setting or
//! token, and how).

use serde::Serialize;

use super::ClientArgs;
use super::error::ClientError;
use super::http::Client;
use super::output::{json, opt, print_json, short, text};
use super::table::Table;
use crate::api::{AuditView, Page};

/// Most entries one page holds.
const MAX_PAGE: usize = 1000;

/// Widest before/after cell of the table.
const CHANGE_WIDTH: usize = 60;

/// `wasmcron audit` options.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// Only the entries of this job (id or name; a deleted job's id or name too).
    #[arg(long)]
    job: Option<String>,
    /// Only the entries of this actor: a token's name, bootstrap, anonymous, system or
    /// jobs-file.
    #[arg(long)]
    actor: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// `GET /audit` query.
#[derive(Debug, Serialize)]
struct AuditQuery<'a> {
    limit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
}

/// Print the newest entries (one page).
pub async fn run_audit(args: &ClientArgs, audit: AuditArgs) -> Result<(), ClientError> {
    let client = Client::new(args);
    let query = AuditQuery {
        limit: audit.limit.clamp(1, MAX_PAGE),
        job: audit.job.as_deref(),
        actor: audit.actor.as_deref(),
    };
    let page: Page<AuditView> = client.get_with(&["audit"], &query).await?;
    if args.json() {
        print_json(&page.items);
        return Ok(());
    }
    let mut t = Table::new(&["ID", "AT", "ACTOR", "ACTION", "TARGET", "BEFORE", "AFTER"]);
    for e in &page.items {
        t.row(vec![
            e.id.to_string(),
            text(&e.at),
            text(&e.actor),
            e.action.to_string(),
            text(&e.target),
            short(opt(e.before.as_ref().map(json)), CHANGE_WIDTH),
            short(opt(e.after.as_ref().map(json)), CHANGE_WIDTH),
        ]);
    }
    t.print();
    Ok(())
}
