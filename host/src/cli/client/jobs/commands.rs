//! One function per `wasmcron job` subcommand: each sends its request and hands the typed
//! answer to [`super::output`].

use std::path::Path;

use serde::Serialize;
use serde_json::Map;

use super::args::{FieldArgs, JobCommand};
use super::body::read_job_file;
use super::{declarative, output};
use crate::api::{JobView, Page, RunView, TriggerView};
use crate::cli::client::ClientArgs;
use crate::cli::client::error::ClientError;
use crate::cli::client::http::Client;

/// The most items the API gives in one page.
const MAX_PAGE: usize = 1000;

/// Run a `job` subcommand.
pub async fn run_job(args: &ClientArgs, command: JobCommand) -> Result<(), ClientError> {
    let client = Client::new(args);
    match command {
        JobCommand::Add {
            name,
            fields,
            paused,
            file,
        } => add(&client, args, name, &fields, paused, file.as_deref()).await,
        JobCommand::List {
            plugin,
            status,
            limit,
        } => list(&client, args, plugin.as_deref(), status.as_deref(), limit).await,
        JobCommand::Get { job } => get(&client, args, &job).await,
        JobCommand::Edit { job, name, fields } => edit(&client, args, &job, name, &fields).await,
        JobCommand::Pause { job } => switch(&client, args, &job, "pause", "paused").await,
        JobCommand::Resume { job } => switch(&client, args, &job, "resume", "resumed").await,
        JobCommand::Delete { job } => delete(&client, args, &job).await,
        JobCommand::Trigger { job } => trigger(&client, args, &job).await,
        JobCommand::Runs { job, status, limit } => {
            runs(&client, args, &job, status.as_deref(), limit).await
        }
        JobCommand::Apply {
            file,
            dry_run,
            prune,
            source,
        } => declarative::apply(&client, args, &file, source, (dry_run, prune)).await,
        JobCommand::Export => declarative::export(&client, args).await,
    }
}

/// `job add`: the file's fields (if any), then the flags over them.
async fn add(
    client: &Client,
    args: &ClientArgs,
    name: Option<String>,
    fields: &FieldArgs,
    paused: bool,
    file: Option<&Path>,
) -> Result<(), ClientError> {
    let mut job = match file {
        Some(path) => read_job_file(path)?,
        None => Map::new(),
    };
    let mut body = fields.body(name)?;
    body.paused = paused.then_some(true);
    job.extend(body.into_object());
    let created: JobView = client.post_json(&["jobs"], &job).await?;
    output::changed(args, &created, "created");
    Ok(())
}

/// `GET /jobs` query.
#[derive(Debug, Serialize)]
struct JobsQuery<'a> {
    limit: usize,
    plugin: Option<&'a str>,
    status: Option<&'a str>,
    after: Option<&'a str>,
}

/// `job list`: every page, up to `limit` jobs.
async fn list(
    client: &Client,
    args: &ClientArgs,
    plugin: Option<&str>,
    status: Option<&str>,
    limit: Option<usize>,
) -> Result<(), ClientError> {
    let mut jobs = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let want = limit
            .map(|l| l - jobs.len())
            .unwrap_or(MAX_PAGE)
            .clamp(1, MAX_PAGE);
        let query = JobsQuery {
            limit: want,
            plugin,
            status,
            after: after.as_deref(),
        };
        let page: Page<JobView> = client.get_with(&["jobs"], &query).await?;
        jobs.extend(page.items);
        after = page.next;
        if after.is_none() || limit.is_some_and(|l| jobs.len() >= l) {
            break;
        }
    }
    output::jobs(args, &jobs);
    Ok(())
}

/// `job get`.
async fn get(client: &Client, args: &ClientArgs, job: &str) -> Result<(), ClientError> {
    let job: JobView = client.get(&["jobs", job]).await?;
    output::job(args, &job);
    Ok(())
}

/// `job edit`: at least one field must be given.
async fn edit(
    client: &Client,
    args: &ClientArgs,
    job: &str,
    name: Option<String>,
    fields: &FieldArgs,
) -> Result<(), ClientError> {
    let body = fields.body(name)?.into_object();
    if body.is_empty() {
        return Err(ClientError::Usage(
            "nothing to change: give at least one field (see --help)".into(),
        ));
    }
    let edited: JobView = client.patch(&["jobs", job], &body).await?;
    output::changed(args, &edited, "updated");
    Ok(())
}

/// `job pause` and `job resume`: `POST /jobs/{job}/{action}`.
async fn switch(
    client: &Client,
    args: &ClientArgs,
    job: &str,
    action: &str,
    done: &str,
) -> Result<(), ClientError> {
    let job: JobView = client.post(&["jobs", job, action]).await?;
    output::changed(args, &job, done);
    Ok(())
}

/// `job delete`.
async fn delete(client: &Client, args: &ClientArgs, job: &str) -> Result<(), ClientError> {
    client.delete(&["jobs", job]).await?;
    output::deleted(args, job);
    Ok(())
}

/// `job trigger`.
async fn trigger(client: &Client, args: &ClientArgs, job: &str) -> Result<(), ClientError> {
    let tick: TriggerView = client.post(&["jobs", job, "trigger"]).await?;
    output::triggered(args, &tick);
    Ok(())
}

/// `GET /jobs/{job}/runs` query.
#[derive(Debug, Serialize)]
struct RunsQuery<'a> {
    limit: usize,
    status: Option<&'a str>,
}

/// `job runs`: the newest `limit` runs (one page).
async fn runs(
    client: &Client,
    args: &ClientArgs,
    job: &str,
    status: Option<&str>,
    limit: usize,
) -> Result<(), ClientError> {
    let query = RunsQuery {
        limit: limit.clamp(1, MAX_PAGE),
        status,
    };
    let page: Page<RunView> = client.get_with(&["jobs", job, "runs"], &query).await?;
    output::runs(args, &page.items);
    Ok(())
}
