//! `wasmcron job add|list|get|edit|pause|resume|delete|trigger|runs`.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::error::ClientError;
use super::http::{Client, encode};
use super::table::{Table, cell, short};
use super::{ClientArgs, print_json};

/// Job fields settable from the command line (`add` and `edit`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FieldArgs {
    /// Cron expression (5 or 6 fields), @hourly…, or @every <duration>.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Plugin name (file stem in the plugins directory).
    #[arg(long)]
    pub plugin: Option<String>,
    /// IANA time zone of the schedule (default UTC).
    #[arg(long)]
    pub timezone: Option<String>,
    /// JSON handed to the plugin on every tick.
    #[arg(long)]
    pub input: Option<String>,
    /// A config value for the plugin, KEY=VALUE (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// skip, allow or queue.
    #[arg(long)]
    pub overlap: Option<String>,
    /// skip, run_once or run_all.
    #[arg(long)]
    pub misfire: Option<String>,
    /// How far back missed ticks are caught up (e.g. 1h).
    #[arg(long)]
    pub catchup_window: Option<String>,
    /// Deterministic per-job delay bound (e.g. 10s).
    #[arg(long)]
    pub jitter: Option<String>,
    /// Run timeout (e.g. 30s).
    #[arg(long)]
    pub timeout: Option<String>,
    /// Memory limit, bytes or a size such as 64MiB.
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// A host the plugin may call over HTTP (repeatable).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
}

impl FieldArgs {
    /// The fields that were given, as the API's JSON.
    fn to_json(&self, body: &mut Map<String, Value>) -> Result<(), ClientError> {
        let mut set = |key: &str, value: &Option<String>| {
            if let Some(v) = value {
                body.insert(key.into(), Value::String(v.clone()));
            }
        };
        set("schedule", &self.schedule);
        set("plugin", &self.plugin);
        set("timezone", &self.timezone);
        set("overlap", &self.overlap);
        set("misfire", &self.misfire);
        set("catchup_window", &self.catchup_window);
        set("jitter", &self.jitter);
        set("timeout", &self.timeout);
        if let Some(m) = &self.memory_limit {
            let value = m
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(m.clone()));
            body.insert("memory_limit".into(), value);
        }
        if let Some(input) = &self.input {
            let value = serde_json::from_str(input)
                .map_err(|e| ClientError::Usage(format!("--input is not JSON: {e}")))?;
            body.insert("input".into(), value);
        }
        if !self.config.is_empty() {
            let mut config = Map::new();
            for pair in &self.config {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    ClientError::Usage(format!("--config {pair:?} is not KEY=VALUE"))
                })?;
                config.insert(k.to_string(), Value::String(v.to_string()));
            }
            body.insert("config".into(), Value::Object(config));
        }
        if !self.allowed_hosts.is_empty() {
            body.insert("allowed_hosts".into(), json!(self.allowed_hosts));
        }
        Ok(())
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum JobCommand {
    /// Create a job.
    Add {
        /// Job name (unique).
        name: Option<String>,
        #[command(flatten)]
        fields: FieldArgs,
        /// Create it paused.
        #[arg(long)]
        paused: bool,
        /// Read the job's JSON from a file (`-` for stdin); flags override its fields.
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
    /// List jobs.
    List {
        /// Only jobs of this plugin.
        #[arg(long)]
        plugin: Option<String>,
        /// Only active or paused jobs.
        #[arg(long, value_parser = ["active", "paused"])]
        status: Option<String>,
        /// At most this many (default: all).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show a job.
    Get { job: String },
    /// Change some fields of a job.
    Edit {
        job: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: FieldArgs,
    },
    /// Pause a job (no ticks until resumed).
    Pause { job: String },
    /// Resume a paused job.
    Resume { job: String },
    /// Delete a job with its runs and state.
    Delete { job: String },
    /// Run a job now, as a manual tick.
    Trigger { job: String },
    /// Show a job's runs, newest first.
    Runs {
        job: String,
        /// Only runs with this status.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Run a `job` subcommand.
pub async fn run_job(args: &ClientArgs, command: JobCommand) -> Result<(), ClientError> {
    let client = Client::new(args);
    match command {
        JobCommand::Add {
            name,
            fields,
            paused,
            file,
        } => {
            let mut body = match file {
                Some(path) => read_file(&path)?,
                None => Map::new(),
            };
            if let Some(name) = name {
                body.insert("name".into(), Value::String(name));
            }
            fields.to_json(&mut body)?;
            if paused {
                body.insert("paused".into(), Value::Bool(true));
            }
            let job = client.post("/jobs", Some(&Value::Object(body))).await?;
            show_changed(args, &job, "created");
        }
        JobCommand::List {
            plugin,
            status,
            limit,
        } => {
            let jobs = list(&client, plugin, status, limit).await?;
            if args.json() {
                print_json(&Value::Array(jobs));
            } else {
                jobs_table(&jobs).print();
            }
        }
        JobCommand::Get { job } => {
            let job = client.get(&format!("/jobs/{}", encode(&job))).await?;
            if args.json() {
                print_json(&job);
            } else {
                describe(&job);
            }
        }
        JobCommand::Edit { job, name, fields } => {
            let mut body = Map::new();
            if let Some(name) = name {
                body.insert("name".into(), Value::String(name));
            }
            fields.to_json(&mut body)?;
            if body.is_empty() {
                return Err(ClientError::Usage(
                    "nothing to change: give at least one field (see --help)".into(),
                ));
            }
            let job = client
                .patch(&format!("/jobs/{}", encode(&job)), &Value::Object(body))
                .await?;
            show_changed(args, &job, "updated");
        }
        JobCommand::Pause { job } => {
            let job = client
                .post(&format!("/jobs/{}/pause", encode(&job)), None)
                .await?;
            show_changed(args, &job, "paused");
        }
        JobCommand::Resume { job } => {
            let job = client
                .post(&format!("/jobs/{}/resume", encode(&job)), None)
                .await?;
            show_changed(args, &job, "resumed");
        }
        JobCommand::Delete { job } => {
            client.delete(&format!("/jobs/{}", encode(&job))).await?;
            if args.json() {
                print_json(&json!({"deleted": job}));
            } else {
                println!("job {job} deleted");
            }
        }
        JobCommand::Trigger { job } => {
            let t = client
                .post(&format!("/jobs/{}/trigger", encode(&job)), None)
                .await?;
            if args.json() {
                print_json(&t);
            } else {
                println!(
                    "job {} triggered: manual tick at {} (run by {})",
                    cell(&t["job"]),
                    cell(&t["scheduled_at"]),
                    t["owner"].as_str().unwrap_or("the job's next owner"),
                );
            }
        }
        JobCommand::Runs { job, status, limit } => {
            let mut path = format!("/jobs/{}/runs?limit={}", encode(&job), limit.clamp(1, 1000));
            if let Some(s) = status {
                path.push_str(&format!("&status={}", encode(&s)));
            }
            let page = client.get(&path).await?;
            let runs = page["items"].as_array().cloned().unwrap_or_default();
            if args.json() {
                print_json(&Value::Array(runs));
            } else {
                runs_table(&runs).print();
            }
        }
    }
    Ok(())
}

fn read_file(path: &PathBuf) -> Result<Map<String, Value>, ClientError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ClientError::Usage(format!(
            "{} must hold one JSON object (a job)",
            path.display()
        ))),
        Err(e) => Err(ClientError::Usage(format!(
            "{} is not JSON: {e}",
            path.display()
        ))),
    }
}

/// Every page of jobs, up to `limit`.
async fn list(
    client: &Client,
    plugin: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
) -> Result<Vec<Value>, ClientError> {
    let mut jobs = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let want = limit.map(|l| l - jobs.len()).unwrap_or(1000).clamp(1, 1000);
        let mut path = format!("/jobs?limit={want}");
        if let Some(p) = &plugin {
            path.push_str(&format!("&plugin={}", encode(p)));
        }
        if let Some(s) = &status {
            path.push_str(&format!("&status={}", encode(s)));
        }
        if let Some(a) = &after {
            path.push_str(&format!("&after={}", encode(a)));
        }
        let page = client.get(&path).await?;
        jobs.extend(page["items"].as_array().cloned().unwrap_or_default());
        after = page["next"].as_str().map(str::to_string);
        if after.is_none() || limit.is_some_and(|l| jobs.len() >= l) {
            return Ok(jobs);
        }
    }
}

fn show_changed(args: &ClientArgs, job: &Value, what: &str) {
    if args.json() {
        print_json(job);
    } else {
        println!(
            "job {} {what} (id {})",
            cell(&job["name"]),
            cell(&job["id"])
        );
    }
    if let Some(warning) = job["warning"].as_str() {
        eprintln!("warning: {warning}");
    }
}

fn last_run(job: &Value) -> String {
    let run = &job["last_run"];
    if run.is_null() {
        return "-".into();
    }
    format!("{} {}", cell(&run["status"]), cell(&run["scheduled_at"]))
}

fn jobs_table(jobs: &[Value]) -> Table {
    let mut t = Table::new(&[
        "NAME",
        "STATUS",
        "SCHEDULE",
        "PLUGIN",
        "OWNER",
        "NEXT TICK",
        "LAST RUN",
    ]);
    for j in jobs {
        t.row(vec![
            cell(&j["name"]),
            cell(&j["status"]),
            cell(&j["schedule"]),
            cell(&j["plugin"]),
            cell(&j["owner"]),
            cell(&j["next_tick_at"]),
            last_run(j),
        ]);
    }
    t
}

fn runs_table(runs: &[Value]) -> Table {
    let mut t = Table::new(&[
        "ID",
        "SCHEDULED",
        "STATUS",
        "DURATION",
        "INSTANCE",
        "MANUAL",
        "RESULT / ERROR",
    ]);
    for r in runs {
        let outcome = if r["error"].is_string() {
            &r["error"]
        } else if r["result"].is_string() {
            &r["result"]
        } else {
            &r["reason"]
        };
        t.row(vec![
            cell(&r["id"]),
            cell(&r["scheduled_at"]),
            cell(&r["status"]),
            r["duration_ms"]
                .as_i64()
                .map(|ms| format!("{ms}ms"))
                .unwrap_or_else(|| "-".into()),
            cell(&r["instance_id"]),
            if r["manual"].as_bool() == Some(true) {
                "yes".into()
            } else {
                "-".into()
            },
            short(outcome, 60),
        ]);
    }
    t
}

fn describe(job: &Value) {
    let mut t = Table::new(&["FIELD", "VALUE"]);
    for key in [
        "id",
        "name",
        "status",
        "schedule",
        "schedule_description",
        "timezone",
        "plugin",
        "input",
        "config",
        "overlap",
        "misfire",
        "catchup_window",
        "jitter",
        "timeout",
        "memory_limit",
        "allowed_hosts",
        "owner",
        "version",
        "next_tick_at",
        "created_at",
        "updated_at",
        "warning",
    ] {
        if !job[key].is_null() || key != "warning" {
            t.row(vec![key.to_string(), cell(&job[key])]);
        }
    }
    t.row(vec!["last_run".into(), last_run(job)]);
    t.print();
}
