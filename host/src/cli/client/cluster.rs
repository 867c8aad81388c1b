//! `wasmcron instances`, `wasmcron plugins`, `wasmcron settings get|set|unset`.

use serde_json::{Value, json};

use super::error::ClientError;
use super::http::{Client, encode};
use super::table::{Table, cell, short};
use super::{ClientArgs, print_json};

#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Show one setting, or every setting that is set.
    Get { key: Option<String> },
    /// Set a setting; VALUE is JSON, or else taken as a string.
    Set { key: String, value: String },
    /// Unset a setting (its default applies again).
    Unset { key: String },
}

pub async fn run_instances(args: &ClientArgs) -> Result<(), ClientError> {
    let list = Client::new(args).get("/instances").await?;
    if args.json() {
        print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&[
        "ID",
        "ADDRESS",
        "VERSION",
        "JOBS",
        "STARTED",
        "LAST HEARTBEAT",
    ]);
    for i in list.as_array().into_iter().flatten() {
        t.row(vec![
            cell(&i["id"]),
            cell(&i["address"]),
            cell(&i["version"]),
            cell(&i["jobs"]),
            cell(&i["started_at"]),
            cell(&i["last_heartbeat"]),
        ]);
    }
    t.print();
    Ok(())
}

pub async fn run_plugins(args: &ClientArgs) -> Result<(), ClientError> {
    let list = Client::new(args).get("/plugins").await?;
    if args.json() {
        print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&["NAME", "DIGEST", "SIZE", "LOADED", "ERROR"]);
    for p in list.as_array().into_iter().flatten() {
        t.row(vec![
            cell(&p["name"]),
            short(&p["digest"], 20),
            cell(&p["size"]),
            cell(&p["loaded_at"]),
            short(&p["error"], 80),
        ]);
    }
    t.print();
    Ok(())
}

pub async fn run_settings(args: &ClientArgs, command: SettingsCommand) -> Result<(), ClientError> {
    let client = Client::new(args);
    match command {
        SettingsCommand::Get { key: Some(key) } => {
            let s = client.get(&format!("/settings/{}", encode(&key))).await?;
            if args.json() {
                print_json(&s);
            } else {
                println!("{} = {}", cell(&s["key"]), s["value"]);
            }
        }
        SettingsCommand::Get { key: None } => {
            let all = client.get("/settings").await?;
            if args.json() {
                print_json(&all);
            } else {
                let mut t = Table::new(&["KEY", "VALUE"]);
                for (k, v) in all.as_object().into_iter().flatten() {
                    t.row(vec![k.clone(), v.to_string()]);
                }
                t.print();
            }
        }
        SettingsCommand::Set { key, value } => {
            let value: Value = serde_json::from_str(&value).unwrap_or(Value::String(value));
            let s = client
                .put(
                    &format!("/settings/{}", encode(&key)),
                    &json!({"value": value}),
                )
                .await?;
            if args.json() {
                print_json(&s);
            } else {
                println!("{} = {}", cell(&s["key"]), s["value"]);
            }
        }
        SettingsCommand::Unset { key } => {
            client
                .delete(&format!("/settings/{}", encode(&key)))
                .await?;
            if args.json() {
                print_json(&json!({"unset": key}));
            } else {
                println!("{key} unset (its default applies)");
            }
        }
    }
    Ok(())
}
