//! `wasmcron token list|create|revoke|whoami`: the cluster's named API tokens.

use serde_json::json;

use super::error::ClientError;
use super::http::{Client, encode};
use super::table::{Table, cell};
use super::{ClientArgs, print_json};

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// List the named tokens (admins only; secrets are never shown again).
    List,
    /// Create a token and print its secret (shown this once).
    Create {
        /// 1-64 letters, digits, '.', '_' or '-'.
        name: String,
        /// `admin` (everything) or `read` (reads only).
        #[arg(long, default_value = "read", value_parser = ["admin", "read"])]
        role: String,
    },
    /// Revoke a token: every replica refuses it within a second.
    Revoke { name: String },
    /// Show the name and role of the token in use.
    Whoami,
}

pub async fn run_token(args: &ClientArgs, command: TokenCommand) -> Result<(), ClientError> {
    let client = Client::new(args);
    match command {
        TokenCommand::List => {
            let list = client.get("/tokens").await?;
            if args.json() {
                print_json(&list);
                return Ok(());
            }
            let mut t = Table::new(&["NAME", "ROLE", "CREATED", "BY", "LAST USED"]);
            for token in list["tokens"].as_array().into_iter().flatten() {
                t.row(vec![
                    cell(&token["name"]),
                    cell(&token["role"]),
                    cell(&token["created_at"]),
                    cell(&token["created_by"]),
                    cell(&token["last_used_at"]),
                ]);
            }
            t.print();
        }
        TokenCommand::Create { name, role } => {
            let made = client
                .post("/tokens", Some(&json!({"name": name, "role": role})))
                .await?;
            if args.json() {
                print_json(&made);
            } else {
                println!(
                    "token {} ({}) created; its secret is shown only now:",
                    cell(&made["name"]),
                    cell(&made["role"])
                );
                println!("{}", cell(&made["token"]));
            }
        }
        TokenCommand::Revoke { name } => {
            client.delete(&format!("/tokens/{}", encode(&name))).await?;
            if args.json() {
                print_json(&json!({"revoked": name}));
            } else {
                println!("token {name} revoked");
            }
        }
        TokenCommand::Whoami => {
            let me = client.get("/whoami").await?;
            if args.json() {
                print_json(&me);
            } else if me["auth_required"] == true {
                println!("{} ({})", cell(&me["name"]), cell(&me["role"]));
            } else {
                println!("the API requires no token (everyone is admin)");
            }
        }
    }
    Ok(())
}
