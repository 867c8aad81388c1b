//! `wasmcron job apply FILE` and `wasmcron job export`: the cluster's jobs from and to a jobs
//! file, through the API (for clusters without a mounted, watched file). The file is read
//! and checked here first, so a bad one is refused with its line before anything is sent.

use std::path::Path;

use serde_json::{Value, json};

use crate::api::{ChangeView, PlanView, Specs};
use crate::cli::client::ClientArgs;
use crate::cli::client::error::ClientError;
use crate::cli::client::http::Client;
use crate::cli::client::output::print_json;

/// `job apply`: plan on the server, print the plan; carried out unless `dry_run`.
pub async fn apply(
    client: &Client,
    args: &ClientArgs,
    file: &Path,
    source: Option<String>,
    (dry_run, prune): (bool, bool),
) -> Result<(), ClientError> {
    let (fields, _) =
        crate::jobs_file::read(file).map_err(|e| ClientError::Usage(e.to_string()))?;
    let source = source.unwrap_or_else(|| file.display().to_string());
    let body = json!({"source": source, "jobs": fields, "prune": prune, "dry_run": dry_run});
    let plan: PlanView = client.post_json(&["specs", "apply"], &body).await?;
    if args.json() {
        print_json(&plan);
    } else {
        print!("{}", plan_text(&plan));
    }
    Ok(())
}

/// A plan as people read it: one line per job (`+` create, `~` update, `-` delete), the
/// changed fields under each update, and a summary.
pub fn plan_text(plan: &PlanView) -> String {
    let mut out = String::new();
    let mut counts = [0; 3];
    for change in &plan.changes {
        let (mark, i) = match change.action.as_str() {
            "create" => ('+', 0),
            "update" => ('~', 1),
            _ => ('-', 2),
        };
        counts[i] += 1;
        out.push_str(&format!("{mark} {} {}\n", change.action, change.name));
        if change.action == "update" {
            out.push_str(&field_lines(change));
        }
    }
    let verb = if plan.dry_run { "would" } else { "did" };
    out.push_str(&format!(
        "{}: {verb} create {}, update {}, delete {}; {} unchanged{}\n",
        plan.source,
        counts[0],
        counts[1],
        counts[2],
        plan.unchanged,
        if plan.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    ));
    out
}

fn field_lines(change: &ChangeView) -> String {
    let show = |v: &Value| serde_json::to_string(v).unwrap_or_default();
    change
        .fields
        .iter()
        .map(|(field, c)| format!("    {field}: {} -> {}\n", show(&c.before), show(&c.after)))
        .collect()
}

/// `job export`: every job in the jobs file format, YAML unless `-o json`.
pub async fn export(client: &Client, args: &ClientArgs) -> Result<(), ClientError> {
    let specs: Specs = client.get(&["specs"]).await?;
    if args.json() {
        print_json(&specs.jobs);
        return Ok(());
    }
    let text = serde_norway::to_string(&specs.jobs)
        .map_err(|e| ClientError::Usage(format!("cannot write the jobs as YAML: {e}")))?;
    print!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::api::FieldChangeView;

    #[test]
    fn a_plan_reads_as_marks_fields_and_a_summary() {
        let change = |action: &str, name: &str, fields| ChangeView {
            action: action.into(),
            name: name.into(),
            fields,
        };
        let timeout = BTreeMap::from([(
            "timeout_ms".to_owned(),
            FieldChangeView {
                before: json!(10000),
                after: json!(20000),
            },
        )]);
        let plan = PlanView {
            source: "jobs.yaml".into(),
            dry_run: true,
            changes: vec![
                change("create", "c", BTreeMap::new()),
                change("update", "b", timeout),
                change("delete", "a", BTreeMap::new()),
            ],
            unchanged: 2,
        };
        assert_eq!(
            plan_text(&plan),
            "+ create c\n~ update b\n    timeout_ms: 10000 -> 20000\n- delete a\n\
             jobs.yaml: would create 1, update 1, delete 1; 2 unchanged (dry run: nothing changed)\n"
        );
    }
}
