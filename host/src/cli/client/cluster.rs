//! `wasmcron instances`, `wasmcron plugins`, `wasmcron settings get|set|unset`.

use serde_json::{Value, json};

use super::ClientArgs;
use super::error::ClientError;
use super::http::Client;
use super::output::{opt, print_json, short, text};
use super::table::Table;
use crate::api::{InstanceView, PluginView, Setting, SettingMap, SettingValue};

/// `wasmcron settings <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Show one setting, or every setting that is set.
    Get { key: Option<String> },
    /// Set a setting; VALUE is JSON, or else taken as a string.
    Set { key: String, value: String },
    /// Unset a setting (its default applies again).
    Unset { key: String },
}

/// `wasmcron instances`: the live replicas.
pub async fn run_instances(args: &ClientArgs) -> Result<(), ClientError> {
    let list: Vec<InstanceView> = Client::new(args).get(&["instances"]).await?;
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
    for i in &list {
        t.row(vec![
            text(&i.id),
            text(&i.address),
            text(&i.version),
            i.jobs.to_string(),
            text(&i.started_at),
            text(&i.last_heartbeat),
        ]);
    }
    t.print();
    Ok(())
}

/// `wasmcron plugins`: the plugins of the replica answering.
pub async fn run_plugins(args: &ClientArgs) -> Result<(), ClientError> {
    let list: Vec<PluginView> = Client::new(args).get(&["plugins"]).await?;
    if args.json() {
        print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&["NAME", "DIGEST", "SIZE", "LOADED", "ERROR"]);
    for p in &list {
        t.row(vec![
            text(&p.name),
            short(opt(p.digest.as_deref()), 20),
            p.size.to_string(),
            opt(p.loaded_at.as_deref()),
            short(opt(p.error.as_deref()), 80),
        ]);
    }
    t.print();
    Ok(())
}

/// Run a `settings` subcommand.
pub async fn run_settings(args: &ClientArgs, command: SettingsCommand) -> Result<(), ClientError> {
    let client = Client::new(args);
    match command {
        SettingsCommand::Get { key: Some(key) } => {
            let setting: Setting = client.get(&["settings", &key]).await?;
            show_setting(args, &setting);
        }
        SettingsCommand::Get { key: None } => {
            let all: SettingMap = client.get(&["settings"]).await?;
            if args.json() {
                print_json(&all);
            } else {
                let mut t = Table::new(&["KEY", "VALUE"]);
                for (k, v) in &all.0 {
                    t.row(vec![k.clone(), v.to_string()]);
                }
                t.print();
            }
        }
        SettingsCommand::Set { key, value } => {
            let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
            let setting: Setting = client
                .put(&["settings", &key], &SettingValue { value })
                .await?;
            show_setting(args, &setting);
        }
        SettingsCommand::Unset { key } => {
            client.delete(&["settings", &key]).await?;
            if args.json() {
                print_json(&json!({"unset": key}));
            } else {
                println!("{key} unset (its default applies)");
            }
        }
    }
    Ok(())
}

/// One setting as `key = value` (the value as JSON).
fn show_setting(args: &ClientArgs, setting: &Setting) {
    if args.json() {
        print_json(setting);
    } else {
        println!("{} = {}", text(&setting.key), setting.value);
    }
}
