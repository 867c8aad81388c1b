//! What `wasmcron job …` prints: the API's answer as JSON with `--output json`, otherwise a
//! table or one line.

use serde_json::json;

use crate::api::{JobView, RunView, TriggerView};
use crate::cli::client::ClientArgs;
use crate::cli::client::output::{json, opt, print_json, short, text, value};
use crate::cli::client::table::Table;

/// A job was created or changed (`what`): the job, and its warning on standard error.
pub fn changed(args: &ClientArgs, job: &JobView, what: &str) {
    if args.json() {
        print_json(job);
    } else {
        println!("job {} {what} (id {})", text(&job.name), text(&job.id));
    }
    if let Some(warning) = &job.warning {
        eprintln!("warning: {warning}");
    }
}

/// `job list`.
pub fn jobs(args: &ClientArgs, jobs: &[JobView]) {
    if args.json() {
        return print_json(jobs);
    }
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
            text(&j.name),
            status(j),
            text(&j.schedule),
            text(&j.plugin),
            opt(j.owner.as_deref()),
            opt(j.next_tick_at.as_deref()),
            last_run(j),
        ]);
    }
    t.print();
}

/// `job get`: every field, one per row.
pub fn job(args: &ClientArgs, job: &JobView) {
    if args.json() {
        return print_json(job);
    }
    let mut t = Table::new(&["FIELD", "VALUE"]);
    let fields = [
        ("id", text(&job.id)),
        ("name", text(&job.name)),
        ("status", status(job)),
        ("schedule", text(&job.schedule)),
        ("schedule_description", text(&job.schedule_description)),
        ("timezone", text(&job.timezone)),
        ("plugin", text(&job.plugin)),
        ("input", value(&job.input)),
        ("config", json(&job.config)),
        ("secrets", json(&job.secrets)),
        (
            "managed_by",
            job.managed_by.as_ref().map_or_else(
                || "- (made through the API)".to_owned(),
                |file| format!("{file} (edit it there; pause, resume, trigger allowed)"),
            ),
        ),
        ("overlap", job.overlap.to_string()),
        ("misfire", job.misfire.to_string()),
        ("catchup_window", text(&job.catchup_window)),
        ("jitter", text(&job.jitter)),
        ("timeout", opt(job.timeout.as_deref())),
        ("memory_limit", opt(job.memory_limit)),
        ("allowed_hosts", json(&job.allowed_hosts)),
        (
            "retry",
            job.retry.as_ref().map_or_else(
                || "- (runs.default_retry)".to_owned(),
                |r| {
                    format!(
                        "{} attempts, backoff {} up to {}",
                        r.attempts, r.backoff, r.max_backoff
                    )
                },
            ),
        ),
        ("pause_after_failures", opt(job.pause_after_failures)),
        ("stale_after", opt(job.stale_after.as_deref())),
        ("stale", job.stale.to_string()),
        ("last_success_at", opt(job.last_success_at.as_deref())),
        ("owner", opt(job.owner.as_deref())),
        ("version", job.version.to_string()),
        ("next_tick_at", opt(job.next_tick_at.as_deref())),
        ("created_at", text(&job.created_at)),
        ("updated_at", text(&job.updated_at)),
    ];
    for (field, cell) in fields {
        t.row(vec![field.into(), cell]);
    }
    if let Some(warning) = &job.warning {
        t.row(vec!["warning".into(), text(warning)]);
    }
    t.row(vec!["last_run".into(), last_run(job)]);
    t.print();
}

/// `job delete`.
pub fn deleted(args: &ClientArgs, job: &str) {
    if args.json() {
        print_json(&json!({"deleted": job}));
    } else {
        println!("job {job} deleted");
    }
}

/// `job trigger`: the manual tick that will run.
pub fn triggered(args: &ClientArgs, tick: &TriggerView) {
    if args.json() {
        return print_json(tick);
    }
    println!(
        "job {} triggered: manual tick at {} (run by {})",
        text(&tick.job),
        text(&tick.scheduled_at),
        tick.owner.as_deref().unwrap_or("the job's next owner"),
    );
}

/// `job runs`.
pub fn runs(args: &ClientArgs, runs: &[RunView]) {
    if args.json() {
        return print_json(runs);
    }
    let mut t = Table::new(&[
        "ID",
        "SCHEDULED",
        "ATTEMPT",
        "STATUS",
        "DURATION",
        "INSTANCE",
        "MANUAL",
        "RESULT / ERROR",
    ]);
    // Newest tick first; each tick's attempts under it, in order.
    let mut ordered: Vec<&RunView> = Vec::with_capacity(runs.len());
    for tick in runs.chunk_by(|a, b| a.scheduled_at == b.scheduled_at) {
        let mut attempts: Vec<&RunView> = tick.iter().collect();
        attempts.sort_by_key(|r| r.attempt);
        ordered.extend(attempts);
    }
    let mut previous: Option<&str> = None;
    for r in ordered {
        let scheduled = if previous == Some(r.scheduled_at.as_str()) {
            "  └".to_owned()
        } else {
            text(&r.scheduled_at)
        };
        previous = Some(r.scheduled_at.as_str());
        let outcome = r
            .error
            .as_deref()
            .or(r.result.as_deref())
            .or(r.reason.map(|reason| reason.as_str()));
        t.row(vec![
            r.id.to_string(),
            scheduled,
            r.attempt.to_string(),
            r.status.to_string(),
            opt(r.duration_ms.map(|ms| format!("{ms}ms"))),
            opt(r.instance_id.as_deref()),
            if r.manual { "yes" } else { "-" }.into(),
            short(opt(outcome), 60),
        ]);
    }
    t.print();
}

/// The job's status, with the reason the host paused it (`paused (failures)`) and `stale`.
fn status(job: &JobView) -> String {
    let mut status = job.status.as_str().to_owned();
    if let Some(reason) = job.paused_reason {
        status += &format!(" ({reason})");
    }
    if job.stale {
        status += ", stale";
    }
    if job.managed_by.is_some() {
        status += ", from file";
    }
    status
}

/// The last run of a job as `status scheduled_at`, or `-`.
fn last_run(job: &JobView) -> String {
    match &job.last_run {
        Some(run) => format!("{} {}", run.status, text(&run.scheduled_at)),
        None => "-".into(),
    }
}
